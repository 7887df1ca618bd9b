/**
 * Confidence intervals for the change of a statistic between two sets of
 * runs, by a two-level (hierarchical) bootstrap: resample runs, then
 * iterations within each chosen run. With one run per side only the
 * iteration level can be resampled, which ignores run-to-run noise — that is
 * what the tolerance (a minimum effect) and calibration are for.
 */
import { seededRandom } from "../stats/mod.ts";

/** A seeded pseudo-random generator (mulberry32): same seed, same interval. */
export const rng: (seed: number) => () => number = seededRandom;

/** A statistic of a sample. */
export type StatName = "mean" | "median" | "p90" | "p95" | "p99" | "rate";

/** Computes `stat` of `values` (sorted in place). NaN when empty. */
export function statistic(values: number[], stat: StatName): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (stat === "mean" || stat === "rate") {
    let s = 0;
    for (const v of values) s += v;
    return s / n;
  }
  values.sort((a, b) => a - b);
  const p = stat === "median"
    ? 0.5
    : stat === "p90"
    ? 0.9
    : stat === "p95"
    ? 0.95
    : 0.99;
  const rank = p * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return values[lo]! + (values[hi]! - values[lo]!) * (rank - lo);
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function sampleSd(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
}

/**
 * One bootstrap resample of a set of runs, pooled: as many runs as there
 * are, drawn with replacement (`picked` when given: the run indices another
 * side drew), and iterations drawn within each. Returns the pooled values
 * and the run indices used.
 */
function resample(
  runs: readonly (readonly number[])[],
  rand: () => number,
  picked?: readonly number[],
): { values: number[]; picked: number[] } {
  const values: number[] = [];
  const used: number[] = [];
  const r = runs.length;
  for (let i = 0; i < r; i++) {
    const k = picked ? picked[i]! : r > 1 ? Math.floor(rand() * r) : i;
    used.push(k);
    const run = runs[k]!;
    const n = run.length;
    for (let j = 0; j < n; j++) values.push(run[Math.floor(rand() * n)]!);
  }
  return { values, picked: used };
}

/** The ratio B/A of a statistic with its bootstrap interval. */
export interface RatioInterval {
  /** stat(B) / stat(A) on the observed data. */
  ratio: number;
  /** Lower and upper bounds of the interval. */
  lo: number;
  hi: number;
  /** Point values of each side. */
  a: number;
  b: number;
  /** Samples on each side (all runs). */
  nA: number;
  nB: number;
}

/** Options of {@linkcode ratioInterval}. */
export interface IntervalOptions {
  /** @default 2000 */
  resamples?: number;
  /** Two-sided confidence. @default 0.95 */
  confidence?: number;
  /** @default 1 */
  seed?: number;
  /**
   * When one side has a single run and the other at least
   * {@linkcode MIN_RUNS_TO_BORROW}, multiply the single run's resampled
   * statistic by a run effect drawn from the other side (stat of one of its
   * runs / stat of all its runs), so its interval also carries run-to-run
   * noise, which one run can't show. @default true
   */
  borrowRunNoise?: boolean;
  /**
   * The runs are pairs: `a[i]` and `b[i]` were measured one right after the
   * other (runs of the two builds alternated), so each resample draws pair
   * indices and takes both runs of every drawn pair. What moved the
   * machine's speed between pairs then moves both sides alike and drops out
   * of the ratio; what differs within a pair stays. Needs as many runs on
   * each side. @default false
   */
  paired?: boolean;
}

/** Runs the other side needs before its run-to-run noise is borrowed. */
export const MIN_RUNS_TO_BORROW = 3;

/** stat(run) / stat(all runs) for each run: the run effects of a side. */
export function runEffects(
  runs: readonly (readonly number[])[],
  stat: StatName,
): number[] {
  const pooled = statistic(runs.flat(), stat);
  if (!(pooled !== 0 && Number.isFinite(pooled))) return [1];
  return runs.map((r) => statistic([...r], stat) / pooled).filter(
    Number.isFinite,
  );
}

/**
 * Bootstrap interval of stat(B)/stat(A). `a` and `b` are lists of runs, each
 * a list of per-iteration values.
 */
export function ratioInterval(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  stat: StatName,
  options: IntervalOptions = {},
): RatioInterval {
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  const rand = rng(options.seed ?? 1);
  const paired = options.paired ?? false;
  if (paired && a.length !== b.length) {
    throw new RangeError(
      `paired runs need as many runs a side, got ${a.length} and ${b.length}`,
    );
  }
  const pa = statistic(a.flat(), stat);
  const pb = statistic(b.flat(), stat);
  const borrow = !paired && (options.borrowRunNoise ?? true);
  const effectsForA = borrow && a.length === 1 && b.length >= MIN_RUNS_TO_BORROW
    ? runEffects(b, stat)
    : undefined;
  const effectsForB = borrow && b.length === 1 && a.length >= MIN_RUNS_TO_BORROW
    ? runEffects(a, stat)
    : undefined;
  const pick = (e: number[]) => e[Math.floor(rand() * e.length)]!;
  const ratios: number[] = [];
  for (let i = 0; i < resamples; i++) {
    const ra = resample(a, rand);
    let sa = statistic(ra.values, stat);
    let sb = statistic(
      resample(b, rand, paired ? ra.picked : undefined).values,
      stat,
    );
    if (effectsForA) sa *= pick(effectsForA);
    if (effectsForB) sb *= pick(effectsForB);
    ratios.push(sa === 0 ? (sb === 0 ? 1 : Infinity) : sb / sa);
  }
  ratios.sort((x, y) => x - y);
  const tail = (1 - confidence) / 2;
  const at = (q: number) =>
    ratios[
      Math.min(
        ratios.length - 1,
        Math.max(0, Math.floor(q * (ratios.length - 1))),
      )
    ]!;
  return {
    ratio: pa === 0 ? (pb === 0 ? 1 : Infinity) : pb / pa,
    lo: at(tail),
    hi: at(1 - tail),
    a: pa,
    b: pb,
    nA: a.reduce((n, r) => n + r.length, 0),
    nB: b.reduce((n, r) => n + r.length, 0),
  };
}
