/** Run facts for the profiles' tests: a summary, a timeline, timed samples. */
import type { RunSummary, SummaryMetric } from "../summary.ts";
import type { TimelineSample } from "../timeline/mod.ts";
import type { RunFacts, TimedLatency } from "./facts.ts";

/** A summary with `metrics` (name → values; the type from the values). */
export function summaryOf(
  metrics: Record<string, Record<string, number>>,
): RunSummary {
  return {
    metrics: new Map(
      Object.entries(metrics).map(([k, values]): [string, SummaryMetric] => [
        k,
        {
          type: "rate" in values
            ? "rate"
            : "count" in values
            ? "counter"
            : "trend",
          values,
        },
      ]),
    ),
    thresholdsFailed: [],
    thresholds: new Map(),
    thresholdsRecorded: true,
    format: "v1",
  };
}

/** A timeline sample at `t` s with processes' [cpu_s, rss_mib] and service figures. */
export function tick(
  t: number,
  processes: Record<string, [number, number]>,
  service: Partial<NonNullable<TimelineSample["service"]>> = {},
): TimelineSample {
  return {
    t,
    processes: Object.fromEntries(
      Object.entries(processes).map((
        [n, [cpu_s, rss_mib]],
      ) => [n, { cpu_s, rss_mib }]),
    ),
    service: {
      queued: 0,
      pieces_queued: 0,
      processing: 0,
      completed: 0,
      failed: 0,
      refusals: {},
      http_5xx: 0,
      workers_busy: 0,
      ...service,
    },
  };
}

/** Facts of a native run of `jobs` (success passes/fails from the latencies and `failed`). */
export function factsOf(o: {
  latencies: TimedLatency[];
  failed?: number;
  refusedMs?: number[];
  timeline?: TimelineSample[];
  accuracyFails?: number;
  dropped?: number;
  k6ServerErrors?: number;
  firstRequestMs?: number;
}): RunFacts {
  const done = o.latencies.length;
  const failed = o.failed ?? 0;
  return {
    api: "native",
    summary: summaryOf({
      transcription_success_rate: {
        rate: done / Math.max(1, done + failed),
        passes: done,
        fails: failed,
      },
      transcription_accuracy: {
        rate: 1,
        passes: done - (o.accuracyFails ?? 0),
        fails: o.accuracyFails ?? 0,
      },
      dropped_iterations: { count: o.dropped ?? 0 },
    }),
    timeline: o.timeline ?? [],
    latencies: o.latencies,
    refusedMs: o.refusedMs ?? [],
    processing: o.latencies.map((l) => ({
      timeMs: l.submittedMs + l.latencyS * 1000,
      value: 150,
      tags: {},
    })),
    firstRequestMs: o.firstRequestMs ?? o.latencies[0]?.submittedMs,
    k6ServerErrors: o.k6ServerErrors ?? 0,
  };
}
