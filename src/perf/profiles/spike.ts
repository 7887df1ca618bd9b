/**
 * The spike test's verdict: at a sudden burst of ×N the rate the service
 * may refuse work (429, the client retries) but must not fail (no 5xx),
 * must not lose an accepted job, and must meet its SLO again soon after
 * the burst. Recovery is judged on windows of jobs by the time they were
 * submitted: a window misses the SLO when its latency p95 is over it or
 * when an upload in it was refused; the recovery time is from the end of
 * the burst to the end of the last window that missed it (0 when none
 * did after the burst began).
 */
import { percentile } from "../../stats/mod.ts";
import { durationToSeconds } from "../run_options.ts";
import { type RunFacts, serviceDelta } from "./facts.ts";
import { noServerErrors, outcomes } from "./common_checks.ts";
import type { ProfileSettings } from "./profile.ts";
import {
  fmt,
  type ProfileCheck,
  type ProfileVerdict,
  verdictOf,
} from "./verdict.ts";

/** Width of the windows recovery is judged on, seconds. */
export const RECOVERY_WINDOW_S = 5;

/** A window of submissions and whether it met the SLO. */
export interface SpikeWindow {
  /** Seconds from the run's first request. */
  from: number;
  jobs: number;
  refused: number;
  p95S: number;
  ok: boolean;
}

/** The windows of a run's submissions from `fromMs`, {@linkcode RECOVERY_WINDOW_S} wide. */
export function sloWindows(
  f: Pick<RunFacts, "latencies" | "refusedMs">,
  startMs: number,
  fromMs: number,
  sloS: number,
): SpikeWindow[] {
  const width = RECOVERY_WINDOW_S * 1000;
  const buckets = new Map<number, { lat: number[]; refused: number }>();
  const at = (ms: number) => {
    const k = Math.floor((ms - fromMs) / width);
    let b = buckets.get(k);
    if (!b) buckets.set(k, b = { lat: [], refused: 0 });
    return b;
  };
  for (const l of f.latencies) {
    if (l.submittedMs >= fromMs) at(l.submittedMs).lat.push(l.latencyS);
  }
  for (const r of f.refusedMs) if (r >= fromMs) at(r).refused++;
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([k, b]) => {
    const p95S = percentile(b.lat, 95);
    return {
      from: (fromMs + k * width - startMs) / 1000,
      jobs: b.lat.length,
      refused: b.refused,
      p95S,
      ok: b.refused === 0 && (b.lat.length === 0 || p95S <= sloS),
    };
  });
}

/** Judges a spike run. */
export function judgeSpike(f: RunFacts, s: ProfileSettings): ProfileVerdict {
  const o = outcomes(f);
  const refused = f.refusedMs.length;
  const lost = Math.max(0, o.failed - refused);
  const start = f.firstRequestMs;
  const at = durationToSeconds(s.spikeAt);
  const hold = durationToSeconds(s.spikeHold);
  // The burst ramps down over one second after its hold (perf/lib/env.js).
  const burstEndS = at + hold + 1;
  const windows = start === undefined
    ? []
    : sloWindows(f, start, start + at * 1000, s.sloS);
  const missed = windows.filter((w) => !w.ok);
  const lastMissed = missed.at(-1);
  const recovered = windows.length > 0 && windows.at(-1)!.ok;
  const recoveryS = lastMissed
    ? Math.max(0, lastMissed.from + RECOVERY_WINDOW_S - burstEndS)
    : 0;
  const queued = f.timeline.flatMap((x) =>
    x.service ? [x.service.queued + x.service.pieces_queued] : []
  );
  const peakQueue = queued.length ? Math.max(...queued) : null;
  const before = start === undefined
    ? []
    : f.latencies.filter((l) => l.submittedMs < start + at * 1000).map((l) =>
      l.latencyS
    );
  const during = start === undefined
    ? []
    : f.latencies.filter((l) =>
      l.submittedMs >= start + at * 1000 &&
      l.submittedMs < start + burstEndS * 1000
    ).map((l) => l.latencyS);
  const refusalsByApi = serviceDelta(
    f.timeline,
    (x) => Object.values(x.refusals).reduce((a, b) => a + b, 0),
  );
  const dropped = f.summary.metrics.get("dropped_iterations")?.values.count ??
    0;
  const checks: ProfileCheck[] = [
    {
      // A burst k6 couldn't offer (too few VUs) is no spike test.
      name: "burst offered",
      pass: dropped === 0,
      detail: `${dropped} iterations k6 could not start (raise --max-vus)`,
    },
    noServerErrors(f),
    {
      name: "nothing lost",
      pass: lost === 0 && o.iterations > 0,
      detail:
        `${o.done} done, ${refused} refused (429), ${lost} lost of ${o.iterations}`,
    },
    {
      name: "SLO recovered",
      pass: recovered && recoveryS <= s.recoveryLimitS,
      detail: !recovered
        ? `the SLO (p95 ≤ ${s.sloS} s, no refusal) still missed in the run's last window`
        : missed.length === 0
        ? `the SLO (p95 ≤ ${s.sloS} s, no refusal) held through the burst`
        : `${
          fmt(recoveryS, 0)
        } s after the burst (at most ${s.recoveryLimitS} s)`,
    },
  ];
  return verdictOf("spike", checks, {
    recovery_s: recovered ? recoveryS : null,
    peak_queue_depth: peakQueue,
    refused,
    refused_by_api: refusalsByApi,
    lost,
    dropped,
    burst_rate_factor: s.spikeFactor,
    latency_p95_before_s: before.length ? percentile(before, 95) : null,
    latency_p95_burst_s: during.length ? percentile(during, 95) : null,
    windows_missed: missed.length,
  }, [
    `burst ${fmt(at, 0)}–${
      fmt(at + hold, 0)
    } s at ×${s.spikeFactor}; peak queue ${
      peakQueue ?? "—"
    } jobs; latency p95 before ${
      fmt(before.length ? percentile(before, 95) : NaN, 3)
    } s, during ${fmt(during.length ? percentile(during, 95) : NaN, 3)} s`,
  ]);
}
