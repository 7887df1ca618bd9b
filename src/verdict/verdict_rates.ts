/**
 * The quality of the verdict itself: on A runs of one build and B runs of a
 * deliberately slowed build, how often A-vs-A pairs are called regressions
 * (false alarms) and how often A-vs-B pairs are (detections).
 */
import { compareSamples, type CompareSpec } from "./compare.ts";
import type { RunSamples } from "./samples.ts";

/** The outcome of {@linkcode verdictRates}. */
export interface VerdictRates {
  /** A-vs-A pairs called a regression / pairs. */
  falseAlarmRate: number;
  /** A-vs-B pairs called a regression / pairs. */
  detectionRate: number;
  aaPairs: number;
  abPairs: number;
  /** Per compared key: false alarms and detections. */
  byKey: Map<string, { falseAlarms: number; detections: number }>;
}

/**
 * Judges consecutive A pairs (A1 vs A2, A2 vs A3, …) and A_i vs B_i with
 * {@linkcode compareSamples}; each comparison is one verdict.
 */
export function verdictRates(
  a: readonly RunSamples[],
  b: readonly RunSamples[],
  options: {
    specs?: readonly CompareSpec[];
    confidence?: number;
    resamples?: number;
  } = {},
): VerdictRates {
  const byKey = new Map<string, { falseAlarms: number; detections: number }>();
  const tally = (key: string, field: "falseAlarms" | "detections") => {
    const t = byKey.get(key) ?? { falseAlarms: 0, detections: 0 };
    t[field]++;
    byKey.set(key, t);
  };
  const judge = (x: RunSamples, y: RunSamples, seed: number) =>
    compareSamples({ label: "A", runs: [x] }, { label: "B", runs: [y] }, {
      specs: options.specs,
      confidence: options.confidence,
      resamples: options.resamples ?? 1000,
      seed,
    });
  let alarms = 0;
  let aa = 0;
  for (let i = 0; i + 1 < a.length; i++) {
    const c = judge(a[i]!, a[i + 1]!, i + 1);
    aa++;
    if (c.regression) alarms++;
    for (const r of c.rows) if (r.regression) tally(r.spec.key, "falseAlarms");
  }
  let detected = 0;
  let ab = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = judge(a[i]!, b[i]!, 1000 + i);
    ab++;
    if (c.regression) detected++;
    for (const r of c.rows) if (r.regression) tally(r.spec.key, "detections");
  }
  return {
    falseAlarmRate: aa ? alarms / aa : NaN,
    detectionRate: ab ? detected / ab : NaN,
    aaPairs: aa,
    abPairs: ab,
    byKey,
  };
}
