/**
 * Verdict quality: raw per-iteration samples, bootstrap intervals of the
 * change between runs, and comparison reports (`deno task compare`);
 * quantile sketches and baseline distributions, run-to-run noise
 * calibration, and the false-alarm/detection rates of the verdict itself.
 *
 * @module
 */
export * from "./bootstrap.ts";
export * from "./calibrate.ts";
export * from "./compare.ts";
export * from "./distributions.ts";
export * from "./render.ts";
export * from "./samples.ts";
export * from "./sketch.ts";
export * from "./verdict_rates.ts";
