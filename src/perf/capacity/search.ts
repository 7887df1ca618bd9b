/**
 * The rate search of `deno task perf --find-capacity`, as pure functions: a
 * geometric ramp while every step passes, then bisection between the highest
 * pass and the lowest fail down to a resolution, and the highest pass run
 * once more: the capacity is a rate that passed twice.
 */

/** Parameters of the rate search. */
export interface SearchParams {
  startRate: number;
  rateFactor: number;
  maxRate: number;
  resolution: number;
}

/** A rate tried and whether it met the criteria. */
export interface Trial {
  rate: number;
  pass: boolean;
}

/** `rate` on the grid of multiples of `resolution` (nearest). */
export function quantize(rate: number, resolution: number): number {
  return Number((Math.round(rate / resolution) * resolution).toFixed(6));
}

/** `maxRate` rounded down onto the resolution grid: the highest rate tried. */
export function topRate(p: SearchParams): number {
  return Number(
    (Math.floor(p.maxRate / p.resolution + 1e-9) * p.resolution).toFixed(6),
  );
}

/**
 * The current bracket: `hi` the lowest failing rate (Infinity when none
 * failed), `lo` the highest passing rate below it (0 when none). A pass
 * above a fail (noise) is ignored: capacity is what holds below every fail.
 */
export function bracket(trials: readonly Trial[]): { lo: number; hi: number } {
  const hi = Math.min(
    Infinity,
    ...trials.filter((t) => !t.pass).map((t) => t.rate),
  );
  const lo = Math.max(
    0,
    ...trials.filter((t) => t.pass && t.rate < hi).map((t) => t.rate),
  );
  return { lo, hi };
}

/**
 * The next rate to try, or undefined when the search is over: the ramp
 * multiplies the last pass by `rateFactor` (capped at `maxRate`) until a
 * step fails; then the midpoint of the bracket, on the `resolution` grid,
 * until pass and fail are at most `resolution` apart. A first step that
 * fails bisects down towards 0. Then the bracket's pass runs once more: a
 * step at the edge passes or fails with the machine's noise, so a lucky
 * pass that fails again becomes the fail and the bisection goes on below.
 */
export function nextRate(
  trials: readonly Trial[],
  p: SearchParams,
): number | undefined {
  const top = topRate(p);
  const res = p.resolution;
  if (trials.length === 0) return Math.min(quantize(p.startRate, res), top);
  const { lo, hi } = bracket(trials);
  if (hi === Infinity) {
    if (lo >= top) return undefined;
    const up = Math.max(
      quantize(lo * p.rateFactor, res),
      quantize(lo + res, res),
    );
    return Math.min(up, top);
  }
  if (hi - lo <= res + 1e-9) {
    const runs = trials.filter((t) => t.rate === lo).length;
    return lo > 0 && runs < 2 ? lo : undefined;
  }
  let mid = quantize((lo + hi) / 2, res);
  if (mid <= lo) mid = quantize(lo + res, res);
  if (mid >= hi) mid = quantize(hi - res, res);
  return mid;
}

/** The capacity the trials show: the bracket's `lo`, undefined when none passed. */
export function capacityOf(trials: readonly Trial[]): number | undefined {
  const { lo } = bracket(trials);
  return lo > 0 ? lo : undefined;
}
