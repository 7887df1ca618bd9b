/**
 * What the report draws from timed samples: the samples per workload class,
 * a cumulative distribution, and percentiles per stretch of time.
 */
import { median, percentile } from "../../stats/mod.ts";
import type { Point } from "../timeline/mod.ts";
import type { TimedValue } from "./timed_samples.ts";

/** The name of the one group of a run without classes. */
export const ALL = "all";

/**
 * The samples by their `class` tag (samples without one go under
 * {@linkcode ALL}), classes in `order`, then the others by their median
 * value (1 s clips before 8 min recordings).
 */
export function byClass(
  samples: readonly TimedValue[],
  order: readonly string[] = [],
): Map<string, TimedValue[]> {
  const groups = new Map<string, TimedValue[]>();
  for (const s of samples) {
    const key = s.class ?? ALL;
    const list = groups.get(key);
    if (list) list.push(s);
    else groups.set(key, [s]);
  }
  const medians = new Map(
    [...groups].map(([k, v]) => [k, median(v.map((s) => s.value))]),
  );
  const rank = (c: string) => {
    const i = order.indexOf(c);
    return i < 0 ? order.length : i;
  };
  return new Map(
    [...groups].sort(([a], [b]) =>
      rank(a) - rank(b) || medians.get(a)! - medians.get(b)!
    ),
  );
}

/** The cumulative distribution: each value (× `scale`) and the share of values at or below it. */
export function cdf(values: readonly number[], scale = 1): Point[] {
  const s = [...values].sort((a, b) => a - b);
  return s.map((v, i) => [v * scale, (i + 1) / s.length]);
}

/**
 * The length of the stretches latency is summarized over: 5 s up to 5
 * minutes of run, 10 s up to 30 minutes, then about 180 stretches.
 */
export function bucketSeconds(runSeconds: number): number {
  if (runSeconds <= 300) return 5;
  if (runSeconds <= 1800) return 10;
  return Math.ceil(runSeconds / 180 / 10) * 10;
}

/**
 * The `p`-th percentile (0..100, × `scale`) of the samples of each
 * stretch of `bucketS` seconds from `originMs`, at the stretch's middle
 * (seconds since `originMs`); stretches without samples are left out.
 */
export function percentileOverTime(
  samples: readonly TimedValue[],
  o: { originMs: number; bucketS: number; p: number; scale?: number },
): Point[] {
  const buckets = new Map<number, number[]>();
  for (const s of samples) {
    const b = Math.floor((s.at - o.originMs) / 1000 / o.bucketS);
    const list = buckets.get(b);
    if (list) list.push(s.value);
    else buckets.set(b, [s.value]);
  }
  return [...buckets].sort(([a], [b]) => a - b).map((
    [b, values],
  ) => [(b + 0.5) * o.bucketS, percentile(values, o.p) * (o.scale ?? 1)]);
}
