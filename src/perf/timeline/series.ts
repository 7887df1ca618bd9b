/**
 * Series derived from a run's timeline: CPU (cores) and memory of each
 * process over time, the service's queue and counters over time, and the
 * memory growth per hour of each process (the soak's leak measure).
 */
import { median } from "../../stats/mod.ts";
import type { TimelineSample } from "./sampler.ts";

/** A point of a series: seconds since the sampler started, value. */
export type Point = [t: number, value: number];

/** Process names seen in the timeline, in first-seen order. */
export function processNames(samples: readonly TimelineSample[]): string[] {
  const names = new Set<string>();
  for (const s of samples) {
    for (const n of Object.keys(s.processes)) names.add(n);
  }
  return [...names];
}

/**
 * Cores used by `name` between consecutive samples (1 = one core busy),
 * placed at the later sample's time. A restarted process (its CPU time
 * going down) starts over.
 */
export function coresOf(
  samples: readonly TimelineSample[],
  name: string,
): Point[] {
  const out: Point[] = [];
  let prev: { t: number; cpu: number } | undefined;
  for (const s of samples) {
    const p = s.processes[name];
    if (!p) continue;
    if (prev && s.t > prev.t && p.cpu_s >= prev.cpu) {
      out.push([s.t, (p.cpu_s - prev.cpu) / (s.t - prev.t)]);
    }
    prev = { t: s.t, cpu: p.cpu_s };
  }
  return out;
}

/** Resident memory (MiB) of `name` at each sample. */
export function rssOf(
  samples: readonly TimelineSample[],
  name: string,
): Point[] {
  return samples.flatMap((s) => {
    const p = s.processes[name];
    return p ? [[s.t, p.rss_mib] as Point] : [];
  });
}

/** A figure of the service's scrapes over time (samples without one skipped). */
export function serviceSeries(
  samples: readonly TimelineSample[],
  value: (s: NonNullable<TimelineSample["service"]>) => number,
): Point[] {
  return samples.flatMap((s) =>
    s.service ? [[s.t, value(s.service)] as Point] : []
  );
}

/**
 * How much a running total (completions, refusals) grew over `points`; a
 * counter that went down (a restart) starts over from its new value.
 */
export function increase(points: readonly Point[]): number {
  let sum = 0;
  for (let i = 1; i < points.length; i++) {
    const d = points[i]![1] - points[i - 1]![1];
    sum += d >= 0 ? d : points[i]![1];
  }
  return sum;
}

/**
 * Per second between consecutive points of a running total (completions,
 * refusals), at the later point's time; a counter that went down (a
 * restart) starts over.
 */
export function ratePerSecond(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (let i = 1; i < points.length; i++) {
    const [t0, v0] = points[i - 1]!;
    const [t1, v1] = points[i]!;
    if (t1 > t0 && v1 >= v0) out.push([t1, (v1 - v0) / (t1 - t0)]);
  }
  return out;
}

/**
 * The Theil–Sen slope of `points` (the median of the slopes between every
 * pair, at most ~`maxPairs` of them taken evenly): a straight-line trend
 * that a few outliers — a garbage collection, an allocator returning pages —
 * don't move. NaN with fewer than two distinct times.
 */
export function theilSen(points: readonly Point[], maxPairs = 200_000): number {
  const n = points.length;
  const step = Math.max(1, Math.ceil((n * (n - 1)) / 2 / maxPairs));
  const slopes: number[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (k++ % step) continue;
      const dt = points[j]![0] - points[i]![0];
      if (dt > 0) slopes.push((points[j]![1] - points[i]![1]) / dt);
    }
  }
  return slopes.length ? median(slopes) : NaN;
}

/** A process's memory over a soak. */
export interface MemoryGrowth {
  name: string;
  /** RSS at the start and the end of the judged stretch, MiB. */
  startMib: number;
  endMib: number;
  /** The trend of the judged stretch's floor, MiB per hour. */
  mibPerHour: number;
  /** The judged stretch, seconds. */
  seconds: number;
}

/**
 * Windows the judged stretch is cut into for its floor: two halves, so each
 * holds a trough of V8's sawtooth (about 3 minutes apart in the API at 3
 * jobs/s), and a leak's rate is the rise of the second half's floor over the
 * first's.
 */
export const FLOOR_WINDOWS = 2;

/**
 * The lowest point of each of `windows` equal stretches of `points` (those
 * with a point), placed at the stretch's middle: the floor a garbage
 * collector returns to. A heap that grows until a collection and then
 * shrinks (V8's sawtooth, minutes long under load) keeps its floor; a leak
 * raises it.
 */
export function floorOf(
  points: readonly Point[],
  windows = FLOOR_WINDOWS,
): Point[] {
  if (points.length === 0) return [];
  const t0 = points[0]![0];
  const span = points.at(-1)![0] - t0;
  if (!(span > 0)) return [];
  const out: Point[] = [];
  for (let w = 0; w < windows; w++) {
    const from = t0 + (span * w) / windows;
    const to = t0 + (span * (w + 1)) / windows;
    const inside = points.filter(([t]) =>
      t >= from && (w === windows - 1 ? t <= to : t < to)
    );
    if (inside.length) {
      out.push([(from + to) / 2, Math.min(...inside.map(([, v]) => v))]);
    }
  }
  return out;
}

/**
 * Memory growth of every process over the timeline, leaving out the first
 * `warmupFraction` of it (allocators, caches and V8's heap fill up as the
 * first jobs run; a leak goes on growing after that): the Theil–Sen trend
 * of the stretch's floor ({@linkcode floorOf}).
 */
export function memoryGrowth(
  samples: readonly TimelineSample[],
  warmupFraction = 0.2,
): MemoryGrowth[] {
  const last = samples.at(-1)?.t ?? 0;
  const from = last * warmupFraction;
  const judged = samples.filter((s) => s.t >= from);
  return processNames(judged).flatMap((name) => {
    const points = rssOf(judged, name);
    if (points.length < 3) return [];
    const seconds = points.at(-1)![0] - points[0]![0];
    const floor = floorOf(points);
    if (!(seconds > 0) || floor.length < 2) return [];
    return [{
      name,
      startMib: points[0]![1],
      endMib: points.at(-1)![1],
      mibPerHour: theilSen(floor) * 3600,
      seconds,
    }];
  });
}
