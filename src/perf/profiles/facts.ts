/**
 * What a profile's verdict reads from a run's archive: k6's summary, the
 * timeline of processes and `/metrics`, and the samples over time of the
 * run's latency, refusals and HTTP statuses.
 */
import { join } from "node:path";
import { readTimedK6Samples, SAMPLES_FILE } from "../../verdict/mod.ts";
import type { TimedSample } from "../../verdict/mod.ts";
import { loadSummary, type RunSummary } from "../summary.ts";
import { type Api, SCENARIOS } from "../scenarios.ts";
import {
  increase,
  loadTimeline,
  serviceSeries,
  type TimelineSample,
} from "../timeline/mod.ts";

/** A job's outcome over time: when it was submitted and how long it took. */
export interface TimedLatency {
  /** ms since the epoch when the upload began. */
  submittedMs: number;
  latencyS: number;
}

/** The run's facts a profile judges. */
export interface RunFacts {
  api: Api;
  summary: RunSummary;
  timeline: TimelineSample[];
  /** Completed jobs, in completion order. */
  latencies: TimedLatency[];
  /** Times (ms since the epoch) of the uploads the service refused (429). */
  refusedMs: number[];
  /** Server processing per job, by completion time (native protocol). */
  processing: TimedSample[];
  /** When k6's first request went out (ms since the epoch), if any did. */
  firstRequestMs?: number;
  /** Responses with a 5xx status or none at all (status 0), seen by k6. */
  k6ServerErrors: number;
}

/** Reads {@linkcode RunFacts} from `runDir`. */
export async function loadRunFacts(
  runDir: string,
  api: Api,
): Promise<RunFacts> {
  const info = SCENARIOS[api];
  const processingMetric = api === "openai"
    ? "openai_server_processing_ms"
    : "server_processing_ms";
  const [summary, timeline, samples] = await Promise.all([
    loadSummary(join(runDir, "summary.json")),
    loadTimeline(runDir),
    readTimedK6Samples(join(runDir, SAMPLES_FILE), [
      info.latency.metric,
      "jobs_refused",
      "http_reqs",
      "http_req_duration",
      processingMetric,
    ]),
  ]);
  const latencies = (samples.get(info.latency.metric) ?? []).map((s) => {
    const latencyS = s.value * info.latency.toSeconds;
    return { submittedMs: s.timeMs - latencyS * 1000, latencyS };
  });
  const refusedMs = (samples.get("jobs_refused") ?? []).flatMap((s) =>
    Array.from({ length: Math.max(0, Math.round(s.value)) }, () => s.timeMs)
  );
  const reqs = samples.get("http_reqs") ?? [];
  const durations = samples.get("http_req_duration") ?? [];
  const starts = durations.map((d) => d.timeMs - d.value);
  return {
    api,
    summary,
    timeline,
    latencies,
    refusedMs,
    processing: samples.get(processingMetric) ?? [],
    ...(starts.length ? { firstRequestMs: Math.min(...starts) } : {}),
    k6ServerErrors: reqs.filter((r) => {
      const status = Number(r.tags.status ?? "0");
      return status === 0 || status >= 500;
    }).length,
  };
}

/**
 * How much a running total of the service's scrapes grew over the run (an
 * API restart's counters start over).
 */
export function serviceDelta(
  timeline: readonly TimelineSample[],
  value: (s: NonNullable<TimelineSample["service"]>) => number,
): number {
  return increase(serviceSeries(timeline, value));
}

/** A Rate's passes and fails in the summary (0 and 0 when absent). */
export function rateCounts(
  summary: RunSummary,
  metric: string,
): { passes: number; fails: number; rate: number } {
  const v = summary.metrics.get(metric)?.values;
  const passes = v?.passes ?? 0;
  const fails = v?.fails ?? 0;
  return {
    passes,
    fails,
    rate: passes + fails ? passes / (passes + fails) : 0,
  };
}
