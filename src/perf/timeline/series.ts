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
  /** The trend of the judged stretch, MiB per hour. */
  mibPerHour: number;
  /** The judged stretch, seconds. */
  seconds: number;
}

/**
 * Memory growth of every process over the timeline, leaving out the first
 * `warmupFraction` of it (allocators and caches fill up as the first jobs
 * run; a leak goes on growing after that).
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
    if (!(seconds > 0)) return [];
    return [{
      name,
      startMib: points[0]![1],
      endMib: points.at(-1)![1],
      mibPerHour: theilSen(points) * 3600,
      seconds,
    }];
  });
}
