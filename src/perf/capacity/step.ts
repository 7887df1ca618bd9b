/**
 * One step of a capacity search: what k6 recorded (summary and samples)
 * reduced to throughput, success, latency percentiles, and the verdict
 * against the criteria.
 */
import { z } from "zod";
import { ConfigError } from "../../errors/mod.ts";
import { forEachK6Line, statistic } from "../../verdict/mod.ts";
import type { RunSummary } from "../summary.ts";
import { type ScenarioInfo, SCENARIOS } from "../scenarios.ts";

/** What a step must achieve to pass. */
export interface Criteria {
  /** Successful jobs ÷ jobs offered (failed, timed out and dropped alike). */
  minSuccessRate: number;
  /** End-to-end latency p95 of the successful jobs, seconds. */
  maxLatencyP95S: number;
  /**
   * Throughput ÷ offered rate: below it the backlog grows, and latency with
   * it, however short the step made it look.
   */
  minThroughputRatio: number;
}

/** The issue's criteria (success ≥ 99.9 %, p95 ≤ 2 s) for 20 s steps. */
export const CRITERIA: Criteria = criteriaFor(20);

/**
 * The criteria for steps of `seconds`. The throughput must keep up with the
 * offered rate within 3 %, or within 0.5 s worth of the step when that is
 * more (latency noise moves the measured span by a fraction of a second).
 */
export function criteriaFor(seconds: number): Criteria {
  return {
    minSuccessRate: 0.999,
    maxLatencyP95S: 2,
    minThroughputRatio: 1 - Math.max(0.03, 0.5 / seconds),
  };
}

/** What one step measured. */
export interface StepMeasure {
  /** Offered rate, jobs/s. */
  rate: number;
  /** Scenario length, s. */
  seconds: number;
  /** Jobs the scenario should have started: rate × seconds. */
  offered: number;
  /** Iterations that got a transcript. */
  completed: number;
  /** Iterations that started and failed (error, failed job, gave up). */
  failed: number;
  /** Iterations k6 could not start (no free VU). */
  dropped: number;
  /** completed ÷ max(offered, completed + failed + dropped). */
  successRate: number;
  /**
   * Completions per second while jobs completed, over the middle 90 % of
   * the completions (all of them below 20): (i₉₅ − i₅) ÷ (t₉₅ − t₅); null
   * with fewer than 2. At overload it is the service's drain rate rather
   * than the offered rate.
   */
  throughput: number | null;
  /** End-to-end latency of the completed jobs, seconds. */
  latency: { p50: number | null; p95: number | null; p99: number | null };
}

/** Successful jobs of a run: completion times (epoch ms) and latencies (s). */
export interface Completions {
  atMs: number[];
  latencyS: number[];
}

const LatencyPoint = z.object({
  type: z.literal("Point"),
  metric: z.string(),
  data: z.object({ time: z.string(), value: z.number() }),
});

/**
 * Reads the completions of a run from k6's JSON lines (plain or `.gz`): the
 * time and value of each sample of the scenario's end-to-end latency metric,
 * in seconds (k6 adds one when an iteration gets its transcript: the native
 * scenario's poll that sees the job completed, the OpenAI route's answer).
 * @throws {ConfigError} naming the file when it can't be read.
 */
export async function readCompletions(
  path: string,
  latency: ScenarioInfo["latency"] = SCENARIOS.native.latency,
): Promise<Completions> {
  const out: Completions = { atMs: [], latencyS: [] };
  try {
    await forEachK6Line(path, (line) => {
      if (!line.includes(`"${latency.metric}"`) || !line.includes('"Point"')) {
        return;
      }
      const p = LatencyPoint.safeParse(JSON.parse(line));
      if (!p.success || p.data.metric !== latency.metric) return;
      const at = Date.parse(p.data.data.time);
      if (Number.isFinite(at)) {
        out.atMs.push(at);
        out.latencyS.push(p.data.data.value * latency.toSeconds);
      }
    });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `${path}: cannot decode samples (${(error as Error).message})`,
    );
  }
  return out;
}

/**
 * Reduces a step's summary and completions to a {@linkcode StepMeasure};
 * `success` is the scenario's Rate with one outcome per iteration.
 */
export function measureStep(
  rate: number,
  seconds: number,
  summary: RunSummary,
  completions: Completions,
  success: string = SCENARIOS.native.success,
): StepMeasure {
  const value = (metric: string, stat: string) =>
    summary.metrics.get(metric)?.values[stat] ?? 0;
  const completed = value(success, "passes");
  const failed = value(success, "fails");
  const dropped = value("dropped_iterations", "count");
  const offered = Math.round(rate * seconds);
  const attempts = Math.max(offered, completed + failed + dropped);
  const at = [...completions.atMs].sort((a, b) => a - b);
  // The middle 90 %: one slow first or last job doesn't move it.
  const trim = at.length >= 20;
  const lo = trim ? Math.floor(0.05 * (at.length - 1)) : 0;
  const hi = trim ? Math.ceil(0.95 * (at.length - 1)) : at.length - 1;
  const span = hi > lo ? (at[hi]! - at[lo]!) / 1000 : 0;
  const lat = completions.latencyS;
  const q = (stat: "median" | "p95" | "p99") =>
    lat.length ? statistic([...lat], stat) : null;
  return {
    rate,
    seconds,
    offered,
    completed,
    failed,
    dropped,
    successRate: attempts > 0 ? completed / attempts : 0,
    throughput: span > 0 ? (hi - lo) / span : null,
    latency: { p50: q("median"), p95: q("p95"), p99: q("p99") },
  };
}

/** Whether a step meets the criteria, and why not. */
export function judgeStep(
  m: StepMeasure,
  criteria: Criteria = criteriaFor(m.seconds),
): { pass: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (m.successRate < criteria.minSuccessRate) {
    reasons.push(
      `success ${formatPercent(m.successRate)} < ${
        formatPercent(criteria.minSuccessRate)
      }${m.dropped ? ` (${m.dropped} dropped)` : ""}`,
    );
  }
  if (m.latency.p95 === null) reasons.push("no job completed");
  else if (m.latency.p95 > criteria.maxLatencyP95S) {
    reasons.push(
      `p95 ${m.latency.p95.toFixed(2)} s > ${criteria.maxLatencyP95S} s`,
    );
  }
  const floor = m.rate * criteria.minThroughputRatio;
  if (m.throughput !== null && m.throughput < floor) {
    reasons.push(
      `done ${m.throughput.toFixed(2)}/s < ${
        floor.toFixed(2)
      }/s: the backlog grows`,
    );
  }
  return { pass: reasons.length === 0, reasons };
}

/** `x` (0..1) as a percentage, up to 2 decimals: `99.5 %`. */
export function formatPercent(x: number): string {
  return `${Number((x * 100).toFixed(2))} %`;
}

/** VUs for a step at `rate`: k6 drops iterations when it runs out of them. */
export function vusFor(rate: number): { vus: number; maxVus: number } {
  // An iteration holds its VU for its whole latency (upload + queue +
  // processing, ≤ 2 s in a passing step): 4 s of VUs are ready before the
  // step starts (k6 drops iterations while it initializes more), 8 s at most.
  return {
    vus: Math.ceil(rate * 4) + 5,
    maxVus: Math.min(1000, Math.ceil(rate * 8) + 10),
  };
}
