/**
 * The soak test's verdict: under constant load for a long time no process
 * of the service may leak memory and latency must not drift. Memory growth
 * is the trend of each process's RSS floor (MiB per hour, timeline's
 * memoryGrowth) after the first 30 % of the run (workers' allocators settle
 * over ~4 minutes, measured); drift is the last quarter's median latency
 * over the first judged quarter's. Redis is reported, not judged: it keeps
 * every job's record for `JOB_TTL_S`, so it grows with jobs by design — its
 * bytes per job are printed instead.
 */
import { median } from "../../stats/mod.ts";
import { memoryGrowth, serviceSeries } from "../timeline/mod.ts";
import { type RunFacts, serviceDelta } from "./facts.ts";
import { jobsDone, noServerErrors } from "./common_checks.ts";
import type { ProfileSettings } from "./profile.ts";
import {
  fmt,
  type ProfileCheck,
  type ProfileVerdict,
  verdictOf,
} from "./verdict.ts";

/** The share of the run left out before memory and latency are judged. */
export const SOAK_WARMUP_FRACTION = 0.3;

/** Processes of the service judged for leaks (not Redis, not k6). */
const JUDGED = /^(api|worker-\d+)$/;

/**
 * The ratio of the last quarter's median to the first judged quarter's,
 * over `points` (time, value) after `warmupFraction` of their span; NaN
 * when a quarter is empty.
 */
export function drift(
  points: readonly { t: number; v: number }[],
  warmupFraction = SOAK_WARMUP_FRACTION,
): number {
  if (points.length < 8) return NaN;
  const t0 = Math.min(...points.map((p) => p.t));
  const t1 = Math.max(...points.map((p) => p.t));
  const from = t0 + (t1 - t0) * warmupFraction;
  const quarter = (t1 - from) / 4;
  const first = points.filter((p) => p.t >= from && p.t < from + quarter);
  const last = points.filter((p) => p.t >= t1 - quarter);
  if (!first.length || !last.length) return NaN;
  return median(last.map((p) => p.v)) / median(first.map((p) => p.v));
}

/** Judges a soak run. */
export function judgeSoak(f: RunFacts, s: ProfileSettings): ProfileVerdict {
  const growth = memoryGrowth(f.timeline, SOAK_WARMUP_FRACTION);
  const judged = growth.filter((g) => JUDGED.test(g.name));
  const worst = judged.reduce<(typeof judged)[number] | undefined>(
    (w, g) => (!w || g.mibPerHour > w.mibPerHour ? g : w),
    undefined,
  );
  const latencyDrift = drift(
    f.latencies.map((l) => ({ t: l.submittedMs, v: l.latencyS })),
  );
  const processingDrift = drift(
    f.processing.map((p) => ({ t: p.timeMs, v: p.value })),
  );
  const judgedS = judged[0]?.seconds ?? 0;
  const checks: ProfileCheck[] = [
    jobsDone(f, 0.999),
    noServerErrors(f),
    {
      name: "no leak",
      pass: judged.length > 0 &&
        judged.every((g) => g.mibPerHour <= s.leakLimitMibPerHour),
      detail: judged.length
        ? `${
          judged.map((g) => `${g.name} ${fmt(g.mibPerHour, 1)}`).join(", ")
        } MiB/h (at most ${s.leakLimitMibPerHour}) over ${fmt(judgedS, 0)} s`
        : "no process of the service was sampled",
    },
    {
      name: "no drift",
      pass: Number.isFinite(latencyDrift) && latencyDrift <= 1 + s.driftLimit,
      detail: `latency median last ÷ first quarter ${
        fmt(latencyDrift, 3)
      } (at most ${fmt(1 + s.driftLimit, 2)}); server processing ${
        fmt(processingDrift, 3)
      }`,
    },
  ];
  const completed = serviceDelta(f.timeline, (x) => x.completed);
  // A gauge, not a running total: its change from the first scrape.
  const storage = serviceSeries(f.timeline, (x) => x.storage_used_bytes ?? 0);
  const redisBytes = storage.length
    ? Math.max(0, storage.at(-1)![1] - storage[0]![1])
    : 0;
  const redis = growth.find((g) => g.name === "redis");
  const notes = [
    `Redis keeps each job's record for JOB_TTL_S: it grew ${
      fmt(redis?.mibPerHour, 1)
    } MiB/h, ${
      completed ? fmt(redisBytes / completed / 1024, 2) : "—"
    } KiB per completed job (reported, not judged)`,
  ];
  if (judgedS < 240) {
    notes.push(
      `the judged stretch is ${
        fmt(judgedS, 0)
      } s: growth below a few MiB per hour needs minutes to stand out of the allocator's noise`,
    );
  }
  const figures: ProfileVerdict["figures"] = {
    latency_drift: Number.isFinite(latencyDrift) ? latencyDrift : null,
    processing_drift: Number.isFinite(processingDrift) ? processingDrift : null,
    worst_growth_mib_per_hour: worst?.mibPerHour ?? null,
    redis_kib_per_job: completed ? redisBytes / completed / 1024 : null,
    judged_seconds: judgedS,
  };
  for (const g of growth) {
    figures[`growth_mib_per_hour.${g.name}`] = g.mibPerHour;
    figures[`rss_end_mib.${g.name}`] = g.endMib;
  }
  return verdictOf("soak", checks, figures, notes);
}
