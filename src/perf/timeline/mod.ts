/**
 * A run's timeline: processes' CPU and memory and the service's queue and
 * counters sampled while k6 runs (`timeline.jsonl` in the archive), and the
 * series the report, the soak and the spike read from it.
 *
 * @module
 */
export * from "./metrics_text.ts";
export * from "./sampler.ts";
export * from "./series.ts";
