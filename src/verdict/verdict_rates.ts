/**
 * The quality of the verdict itself: on A runs of one build and B runs of a
 * deliberately slowed build, how often A-vs-A comparisons are called
 * regressions (false alarms) and how often A-vs-B comparisons are
 * (detections).
 */
import { compareSamples, type CompareSpec } from "./compare.ts";
import type { RunSamples } from "./samples.ts";

/** The outcome of {@linkcode verdictRates}. */
export interface VerdictRates {
  /** A-vs-A comparisons called a regression / comparisons. */
  falseAlarmRate: number;
  /** A-vs-B comparisons called a regression / comparisons. */
  detectionRate: number;
  /** A-vs-A comparisons judged. */
  aaPairs: number;
  /** A-vs-B comparisons judged. */
  abPairs: number;
  /** Runs per side of each comparison. */
  group: number;
  /** Per compared key: false alarms and detections. */
  byKey: Map<string, { falseAlarms: number; detections: number }>;
}

/** A runs needed for `comparisons` A-vs-A windows of `group` runs a side. */
export function aRunsFor(comparisons: number, group: number): number {
  return comparisons + 2 * group - 1;
}

/** B runs needed for `comparisons` A-vs-B windows of `group` runs a side. */
export function bRunsFor(comparisons: number, group: number): number {
  return comparisons + group - 1;
}

/**
 * Judges sliding windows of `group` runs a side with
 * {@linkcode compareSamples}, as `deno task compare` judges two `--repeat`
 * archives; each comparison is one verdict (a regression on any quantity
 * counts):
 *
 * - A-vs-A: runs A_i..A_(i+group−1) against the next `group` runs
 *   A_(i+group)..A_(i+2·group−1) — the old build measured, then measured
 *   again, one after the other;
 * - A-vs-B: A_i..A_(i+group−1) against B_i..B_(i+group−1).
 *
 * `group` 1 compares single runs: A_i vs A_(i+1) and A_i vs B_i. Windows
 * overlap, so neighbouring comparisons share runs.
 *
 * `paired` judges as `compare --paired` judges alternated runs: A-vs-B pairs
 * A_j with B_j (measured right after it), and A-vs-A takes `2·group`
 * consecutive A runs and pairs each odd one with the next even one
 * (A_i/A_(i+1), A_(i+2)/A_(i+3), …), so both kinds of comparison span the
 * same stretch of time and their pairs are at least as close — the A pair
 * has a B run between its runs.
 */
export function verdictRates(
  a: readonly RunSamples[],
  b: readonly RunSamples[],
  options: {
    specs?: readonly CompareSpec[];
    confidence?: number;
    resamples?: number;
    /** Runs per side. @default 1 */
    group?: number;
    /** Paired comparisons (see above). @default false */
    paired?: boolean;
  } = {},
): VerdictRates {
  const k = options.group ?? 1;
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`group must be a positive integer, got ${k}`);
  }
  const byKey = new Map<string, { falseAlarms: number; detections: number }>();
  const tally = (key: string, field: "falseAlarms" | "detections") => {
    const t = byKey.get(key) ?? { falseAlarms: 0, detections: 0 };
    t[field]++;
    byKey.set(key, t);
  };
  const paired = options.paired ?? false;
  const judge = (
    x: readonly RunSamples[],
    y: readonly RunSamples[],
    seed: number,
  ) =>
    compareSamples({ label: "A", runs: [...x] }, { label: "B", runs: [...y] }, {
      specs: options.specs,
      confidence: options.confidence,
      resamples: options.resamples ?? 1000,
      seed,
      paired,
    });
  // The two halves of an A-vs-A window of 2·k consecutive runs.
  const halves = (w: readonly RunSamples[]): [RunSamples[], RunSamples[]] =>
    paired
      ? [w.filter((_, j) => j % 2 === 0), w.filter((_, j) => j % 2 === 1)]
      : [w.slice(0, k), w.slice(k)];
  let alarms = 0;
  let aa = 0;
  for (let i = 0; i + 2 * k <= a.length; i++) {
    const c = judge(...halves(a.slice(i, i + 2 * k)), i + 1);
    aa++;
    if (c.regression) alarms++;
    for (const r of c.rows) if (r.regression) tally(r.spec.key, "falseAlarms");
  }
  let detected = 0;
  let ab = 0;
  for (let i = 0; i + k <= Math.min(a.length, b.length); i++) {
    const c = judge(a.slice(i, i + k), b.slice(i, i + k), 1000 + i);
    ab++;
    if (c.regression) detected++;
    for (const r of c.rows) if (r.regression) tally(r.spec.key, "detections");
  }
  return {
    falseAlarmRate: aa ? alarms / aa : NaN,
    detectionRate: ab ? detected / ab : NaN,
    aaPairs: aa,
    abPairs: ab,
    group: k,
    byKey,
  };
}
