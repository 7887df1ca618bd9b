/**
 * Compact per-run distributions for baselines: a run's samples of one metric
 * reduced to 101 quantiles (min, 1 %, …, 99 %, max), its count and mean. A
 * sketch is expanded back into `count` pseudo-samples (the quantile function
 * evaluated at evenly spaced probabilities) so the bootstrap can resample it
 * like raw samples.
 */
import { sampleSd, statistic } from "./bootstrap.ts";

/** Quantiles kept per run and metric. */
export const SKETCH_QUANTILES = 101;

/** One run's distribution of one metric. */
export interface QuantileSketch {
  /** Samples the run recorded. */
  count: number;
  /** Their exact mean (the quantiles only approximate it). */
  mean: number;
  /** `SKETCH_QUANTILES` quantiles at 0, 1/100, …, 1 (linear interpolation). */
  q: number[];
}

/** Rounds to 6 significant digits (keeps baselines small and readable). */
function round6(v: number): number {
  return Number(v.toPrecision(6));
}

/** The sketch of `values` (not modified). */
export function sketchOf(values: readonly number[]): QuantileSketch {
  if (values.length === 0) throw new RangeError("sketchOf: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  // 0/1 samples (a Rate) keep 0/1 quantiles, so expandSketch knows them.
  const binary = sorted.every((v) => v === 0 || v === 1);
  const q: number[] = [];
  for (let i = 0; i < SKETCH_QUANTILES; i++) {
    const rank = (i / (SKETCH_QUANTILES - 1)) * (n - 1);
    const lo = Math.floor(rank);
    const hi = binary ? lo : Math.ceil(rank);
    q.push(round6(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo)));
  }
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: n, mean: round6(sum / n), q };
}

/** The quantile function of a sketch at probability `p` ∈ [0, 1]. */
export function sketchQuantile(s: QuantileSketch, p: number): number {
  const rank = Math.min(1, Math.max(0, p)) * (s.q.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s.q[lo]! + (s.q[hi]! - s.q[lo]!) * (rank - lo);
}

/**
 * `count` pseudo-samples with the sketch's distribution: the quantile
 * function at (i + 0.5) / count. A 0/1 metric (a Rate) is expanded exactly
 * from its mean: round(mean × count) ones, the rest zeros.
 */
export function expandSketch(s: QuantileSketch): number[] {
  const n = s.count;
  if (s.q.every((v) => v === 0 || v === 1)) {
    const ones = Math.round(s.mean * n);
    return Array.from({ length: n }, (_, i) => (i < n - ones ? 0 : 1));
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = sketchQuantile(s, (i + 0.5) / n);
  return out;
}

/** Summary of one statistic across runs. */
export interface Spread {
  /** The median of the per-run values. */
  median: number;
  min: number;
  max: number;
  /** Coefficient of variation (sample standard deviation / mean); 0 for one run. */
  cv: number;
  /** The per-run values, in run order. */
  runs: number[];
}

/** Median, range and CV of per-run values. */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError("spreadOf: no values");
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return {
    median: round6(statistic([...values], "median")),
    min: round6(Math.min(...values)),
    max: round6(Math.max(...values)),
    cv: mean === 0 ? 0 : round6(sampleSd(values) / Math.abs(mean)),
    runs: values.map(round6),
  };
}
