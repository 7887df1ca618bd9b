/**
 * The test types of `deno task perf --profile NAME`, each with its own
 * defaults and its own verdict:
 *
 * | profile | traffic                                   | verdict                                    |
 * | ------- | ----------------------------------------- | ------------------------------------------ |
 * | smoke   | 1 job/s for 20 s                          | every job done and accurate, SLO, no 5xx   |
 * | load    | the rate for 2 min (the default)          | the baseline (`deno task assert`)          |
 * | stress  | the capacity search's rising rates        | the rate where the SLO breaks              |
 * | soak    | the rate for 10 min                       | no process's memory grows, no drift        |
 * | spike   | the rate, ×5 for 20 s, the rate again     | no 5xx, nothing lost, SLO back in time     |
 */
import { z } from "zod";

/** The profiles, in the order the help lists them. */
export const PROFILES = ["smoke", "load", "stress", "soak", "spike"] as const;
/** A test type. */
export type Profile = typeof PROFILES[number];
/** The profile of a run without `--profile`. */
export const DEFAULT_PROFILE: Profile = "load";

/**
 * What a profile changes in the run's defaults (a flag or an environment
 * variable still wins); `load` is today's run.
 */
export const PROFILE_DEFAULTS: Readonly<
  Record<Profile, { duration?: string; rate?: string; warmup?: string }>
> = {
  // Seconds, a handful of jobs: for every change.
  smoke: { duration: "20s", rate: "1", warmup: "0s" },
  load: {},
  // The capacity search has its own steps (capacity/run.ts).
  stress: {},
  // Long enough for a leak of a few MiB per hour per process to stand out
  // of the allocator's noise (perf/README.md, "Test types").
  soak: { duration: "10m" },
  // 30 s at the rate, 20 s at ×5, 60 s to recover.
  spike: { duration: "110s" },
};

const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const duration = z.string().regex(
  DURATION_RE,
  "must be a k6 duration like 20s or 1m30s",
);

/** The profile's own settings, validated (flags `--slo`, `--spike-*`, …). */
export const ProfileSettingsSchema = z.object({
  profile: z.enum(PROFILES, { error: `must be one of ${PROFILES.join(", ")}` }),
  /**
   * The service level the smoke, soak and spike profiles judge: end-to-end
   * latency p95 (upload to transcript) at most this many seconds — the
   * capacity search's criterion too.
   */
  sloS: z.coerce.number().positive(),
  /** Spike: the burst's rate is this × the run's rate. */
  spikeFactor: z.coerce.number().min(1).max(100),
  /** Spike: when the burst starts, from the run's start. */
  spikeAt: duration,
  /** Spike: how long the burst lasts. */
  spikeHold: duration,
  /** Spike: the SLO must hold again within this long after the burst. */
  recoveryLimitS: z.coerce.number().positive(),
  /** Soak: a process whose memory grows faster than this leaks. */
  leakLimitMibPerHour: z.coerce.number().positive(),
  /** Soak: latency may drift up by at most this fraction (0.25 = 25 %). */
  driftLimit: z.coerce.number().positive(),
});
/** A run's profile settings. */
export type ProfileSettings = z.infer<typeof ProfileSettingsSchema>;

/** Defaults of {@linkcode ProfileSettings} and the flags that set them. */
export const PROFILE_FLAGS: Readonly<
  Record<
    Exclude<keyof ProfileSettings, "profile">,
    [flag: string, value: string]
  >
> = {
  sloS: ["slo", "2"],
  spikeFactor: ["spike-factor", "5"],
  spikeAt: ["spike-at", "30s"],
  spikeHold: ["spike-hold", "20s"],
  recoveryLimitS: ["recovery-limit", "60"],
  // The normal build's processes stayed within ±7 MiB/h on a 10-minute
  // soak (perf/README.md, "Test types"); a leak of 64 KiB per job is
  // ~225 MiB/h per worker at the default rate.
  leakLimitMibPerHour: ["leak-limit", "50"],
  driftLimit: ["drift-limit", "0.25"],
};

/** The k6 environment of a profile: its load shape and thresholds. */
export function profileK6Env(
  s: ProfileSettings,
): Record<string, string> {
  return {
    // Only the load profile is judged against the baseline; the others
    // judge their runs themselves (the baseline's figures are for 2 min at
    // the default rate).
    THRESHOLDS: s.profile === "load" ? "baseline" : "none",
    ...(s.profile === "spike"
      ? {
        LOAD_SHAPE: "spike",
        SPIKE_FACTOR: String(s.spikeFactor),
        SPIKE_AT: s.spikeAt,
        SPIKE_HOLD: s.spikeHold,
      }
      : { LOAD_SHAPE: "constant" }),
  };
}
