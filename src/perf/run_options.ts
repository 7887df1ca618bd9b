/**
 * The options of a perf run (`deno task perf`'s flags, validated), their
 * defaults, k6's exit codes, and the names and places of run archives.
 */
import { flagIssues } from "../cli/mod.ts";
import { join, relative } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors/mod.ts";
import { PROJECT_ROOT } from "../config/mod.ts";
import { APIS, DEFAULT_API } from "./scenarios.ts";
import { resolveWorkload, type WorkloadRef } from "./workload/spec.ts";
import {
  DEFAULT_PROFILE,
  PROFILE_DEFAULTS,
  PROFILE_FLAGS,
  type ProfileSettings,
  ProfileSettingsSchema,
} from "./profiles/profile.ts";

/** `path` relative to the project when inside it, else absolute. */
export function shownPath(path: string): string {
  const r = relative(PROJECT_ROOT, path);
  return r.startsWith("..") ? path : r;
}

/** Where runs are archived: `PERF_RESULTS_DIR` or `perf/results`. */
export function resultsDir(): string {
  return Deno.env.get("PERF_RESULTS_DIR") ?? join(PROJECT_ROOT, "perf/results");
}

const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** Validated options of a perf run (flags win over environment variables). */
export const PerfOptionsSchema = z.object({
  /** The protocol the k6 scenario drives (scenarios.ts). */
  api: z.enum(APIS, { error: `must be one of ${APIS.join(", ")}` }),
  rate: z.coerce.number().int().positive(),
  duration: z.string().regex(
    DURATION_RE,
    "must be a k6 duration like 2m, 90s or 1m30s",
  ),
  vus: z.coerce.number().int().positive(),
  maxVus: z.coerce.number().int().positive(),
  model: z.string().min(1),
  pollInterval: z.coerce.number().positive(),
  maxPolls: z.coerce.number().int().positive(),
  workers: z.coerce.number().int().min(1).max(64),
  longPoll: z.boolean(),
  baseUrl: z.url().optional(),
  baseline: z.string().min(1),
  assert: z.boolean(),
  userId: z.string().min(1),
  /** Runs back to back on one stack (a group folder with run-1..N). */
  repeat: z.coerce.number().int().min(1).max(1000),
  /**
   * With `repeat`: a stack of its own for every run (started, warmed up,
   * stopped), so a stack's lasting speed offset is part of the run-to-run
   * noise the verdict's intervals carry.
   */
  freshStacks: z.boolean(),
  /**
   * An unrecorded k6 run before the first measured one (first jobs on a
   * fresh stack are slower); `0s` for none.
   */
  warmup: z.string().regex(
    /^(0|(\d+(\.\d+)?(ms|s|m|h))+)$/,
    "must be a k6 duration like 5s, or 0s for none",
  ),
  /** Benchmark-only extra worker processing delay, ms (0: off). */
  faultProcessingDelayMs: z.coerce.number().int().min(0).max(600_000),
  /** Benchmark-only extra API latency, ms (0: off). */
  faultApiDelayMs: z.coerce.number().int().min(0).max(600_000),
  /** Benchmark-only leak: KiB a worker keeps per job (0: off; the soak's proof). */
  faultLeakKibPerJob: z.coerce.number().int().min(0).max(1 << 20),
  /** The test type and its own settings (`--profile`, src/perf/profiles/). */
  profile: z.custom<ProfileSettings>(),
  /** `--slo` was given (a workload's smoke then judges every class by it). */
  sloGiven: z.boolean(),
  /**
   * The traffic mix (`--workload`): the sample scenario when absent, else a
   * spec or folder, built into a manifest before k6 starts.
   */
  workload: z.custom<WorkloadRef>().optional(),
  /** The built workload: its manifest (workload.json) and name. */
  workloadBuilt: z.object({ manifest: z.string(), id: z.string() })
    .optional(),
});
/** Options of {@linkcode runPerf}. */
export type PerfOptions = z.infer<typeof PerfOptionsSchema>;

/** Maps flag names to their environment variables and defaults. */
export const PERF_DEFAULTS = {
  rate: ["ARRIVAL_RATE", "3"],
  duration: ["DURATION", "2m"],
  vus: ["PRE_ALLOCATED_VUS", "4"],
  maxVus: ["MAX_VUS", "12"],
  model: ["WHISPER_MODEL", "tiny.en-q8_0"],
  pollInterval: ["POLL_INTERVAL", "1"],
  maxPolls: ["MAX_POLLS", "40"],
  // One worker more than cores: a worker's Redis, queue and decoding work
  // is serial with its inference, so with one per core the cores idle while
  // the backlog grows (capacity 13 jobs/s at 1.64 of 2 cores busy; with 3
  // workers 18.5 jobs/s, docs/performance.md "Capacity").
  workers: ["WORKERS", String(navigator.hardwareConcurrency + 1)],
  userId: ["UPLOAD_USER_ID", "perf-tester"],
} as const;

/**
 * Defaults of a workload other than the sample (`--workload mixed|SPEC|DIR`)
 * where flags and variables give none: a long recording holds its VU for
 * half a minute, so more VUs are ready up front (k6 drops iterations while
 * it initializes VUs, each of which loads every class's audio), and the
 * rate is the one this 2-core machine sustained with every job a success
 * (perf/README.md, "Workloads").
 */
export const WORKLOAD_DEFAULTS = {
  rate: "2",
  vus: "8",
  maxVus: "16",
} as const;

/** k6 exit codes we act on (errext/exitcodes). */
export const K6_EXIT = {
  thresholdsFailed: 99,
  setupTimeout: 100,
  teardownTimeout: 101,
  genericTimeout: 102,
  genericEngine: 103,
  invalidConfig: 104,
  externalAbort: 105,
  cannotStartRestAPI: 106,
  scriptException: 107,
  scriptAborted: 108,
} as const;

/** Seconds in a k6 duration string. */
export function durationToSeconds(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    const v = Number(m[1]);
    total += m[2] === "ms"
      ? v / 1000
      : m[2] === "s"
      ? v
      : m[2] === "m"
      ? v * 60
      : v * 3600;
  }
  return total;
}

/** `perf/results/<UTC timestamp>` for `now`, e.g. `2026-11-29T10-05-00Z`. */
export function runDirName(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/:/g, "-");
}

/**
 * The fault-injection contract with the service (benchmark use only): the
 * API and workers honour the delays only when `FAULT_INJECTION=test-only`;
 * the orchestrator always sets all three, so a value inherited from the
 * shell can't switch a fault on by accident (the processing hang, a test
 * switch of the reliability suites, is always off here).
 */
export const FAULT_ENV = {
  switch: "FAULT_INJECTION",
  enabled: "test-only",
  disabled: "off",
  processingDelayMs: "FAULT_PROCESSING_DELAY_MS",
  apiDelayMs: "FAULT_API_DELAY_MS",
  processingHang: "FAULT_PROCESSING_HANG",
  leakKibPerJob: "FAULT_LEAK_KIB_PER_JOB",
} as const;

/** The stack environment for the fault options (all off by default). */
export function faultEnv(
  o: Pick<
    PerfOptions,
    "faultProcessingDelayMs" | "faultApiDelayMs" | "faultLeakKibPerJob"
  >,
): Record<string, string> {
  const on = o.faultProcessingDelayMs > 0 || o.faultApiDelayMs > 0 ||
    o.faultLeakKibPerJob > 0;
  return {
    [FAULT_ENV.switch]: on ? FAULT_ENV.enabled : FAULT_ENV.disabled,
    [FAULT_ENV.processingDelayMs]: String(o.faultProcessingDelayMs),
    [FAULT_ENV.apiDelayMs]: String(o.faultApiDelayMs),
    [FAULT_ENV.processingHang]: "0",
    [FAULT_ENV.leakKibPerJob]: String(o.faultLeakKibPerJob),
  };
}

/** k6's web-dashboard aggregation period for a run of `seconds`. */
export function dashboardPeriod(seconds: number): string {
  // The HTML report needs several periods of data; k6's default (10 s)
  // skips it for short runs ("report generation was skipped").
  return `${Math.min(10, Math.max(1, Math.floor(seconds / 10)))}s`;
}

/** Flags shared with `deno task perf` that calibrate and bench:verdict accept too. */
export const RUN_FLAGS = {
  rate: { type: "string" },
  duration: { type: "string" },
  vus: { type: "string" },
  "max-vus": { type: "string" },
  model: { type: "string" },
  "poll-interval": { type: "string" },
  "max-polls": { type: "string" },
  workers: { type: "string" },
  "long-poll": { type: "boolean" },
  warmup: { type: "string" },
} as const;

/** Builds {@linkcode PerfOptions} from flags and environment; ConfigError names the bad one. */
export function perfOptionsFrom(
  flags: Record<string, string | boolean | undefined>,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): PerfOptions {
  const workload = resolveWorkload(flags.workload as string | undefined);
  const profile = profileSettingsFrom(flags);
  const byProfile = PROFILE_DEFAULTS[profile.profile] as Record<
    string,
    string | undefined
  >;
  const pick = (key: keyof typeof PERF_DEFAULTS, flag: string) =>
    (flags[flag] as string | undefined) ?? env(PERF_DEFAULTS[key][0]) ??
      byProfile[key] ??
      (workload.kind !== "sample" && key in WORKLOAD_DEFAULTS
        ? WORKLOAD_DEFAULTS[key as keyof typeof WORKLOAD_DEFAULTS]
        : PERF_DEFAULTS[key][1]);
  const raw = {
    api: (flags.api as string | undefined) ?? DEFAULT_API,
    rate: pick("rate", "rate"),
    duration: pick("duration", "duration"),
    vus: pick("vus", "vus"),
    maxVus: pick("maxVus", "max-vus"),
    model: pick("model", "model"),
    pollInterval: pick("pollInterval", "poll-interval"),
    maxPolls: pick("maxPolls", "max-polls"),
    workers: pick("workers", "workers"),
    userId: pick("userId", "user-id"),
    longPoll: flags["long-poll"] === true || env("LONG_POLL") === "1",
    baseUrl: (flags["base-url"] as string | undefined) ?? env("BASE_URL"),
    baseline: (flags.baseline as string | undefined) ??
      join(PROJECT_ROOT, "baseline.json"),
    assert: flags["no-assert"] !== true,
    repeat: (flags.repeat as string | undefined) ?? "1",
    freshStacks: flags["fresh-stacks"] === true,
    // Repeats are compared with each other: warm the stack up first.
    warmup: (flags.warmup as string | undefined) ?? byProfile.warmup ??
      (Number(flags.repeat ?? "1") > 1 ? "5s" : "0s"),
    faultProcessingDelayMs:
      (flags["fault-processing-delay-ms"] as string | undefined) ?? "0",
    faultApiDelayMs: (flags["fault-api-delay-ms"] as string | undefined) ??
      "0",
    faultLeakKibPerJob:
      (flags["fault-leak-kib-per-job"] as string | undefined) ?? "0",
    profile,
    sloGiven: flags.slo !== undefined,
  };
  const parsed = PerfOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const names: Record<string, string> = {
      api: "--api",
      rate: "--rate / ARRIVAL_RATE",
      duration: "--duration / DURATION",
      vus: "--vus / PRE_ALLOCATED_VUS",
      maxVus: "--max-vus / MAX_VUS",
      model: "--model / WHISPER_MODEL",
      pollInterval: "--poll-interval / POLL_INTERVAL",
      maxPolls: "--max-polls / MAX_POLLS",
      workers: "--workers / WORKERS",
      baseUrl: "--base-url / BASE_URL",
      repeat: "--repeat",
      warmup: "--warmup",
      faultProcessingDelayMs: "--fault-processing-delay-ms",
      faultApiDelayMs: "--fault-api-delay-ms",
      faultLeakKibPerJob: "--fault-leak-kib-per-job",
    };
    throw new ConfigError(
      `invalid perf options: ${
        flagIssues(parsed.error.issues, (k) => names[k] ?? k, raw)
      }`,
    );
  }
  if (profile.profile === "spike") {
    const at = durationToSeconds(profile.spikeAt);
    const hold = durationToSeconds(profile.spikeHold);
    const total = durationToSeconds(parsed.data.duration);
    if (hold < 2 || at + hold + 2 > total) {
      throw new ConfigError(
        `--spike-hold (${hold} s) must be at least 2 s, and --spike-at + ` +
          `--spike-hold (${at + hold} s) at least 2 s shorter than ` +
          `--duration (${total} s)`,
      );
    }
    // The burst needs VUs ready for ×N the rate: a VU is busy for a job's
    // whole latency (~1 s at the default poll interval, ten times that when
    // the queue grows in the burst), and k6 drops iterations while it
    // starts VUs mid-run.
    const burst = Math.ceil(parsed.data.rate * profile.spikeFactor);
    const given = (flag: string, key: keyof typeof PERF_DEFAULTS) =>
      flags[flag] !== undefined || env(PERF_DEFAULTS[key][0]) !== undefined;
    if (!given("vus", "vus")) {
      parsed.data.vus = Math.max(parsed.data.vus, 4 * burst);
    }
    if (!given("max-vus", "maxVus")) {
      parsed.data.maxVus = Math.max(parsed.data.maxVus, 10 * burst);
    }
  }
  if (parsed.data.maxVus < parsed.data.vus) {
    throw new ConfigError(
      `--max-vus (${parsed.data.maxVus}) must be >= --vus (${parsed.data.vus})`,
    );
  }
  if (parsed.data.api !== "native") {
    // The OpenAI-compatible route answers the request itself: nothing polls.
    const polling = ["long-poll", "poll-interval", "max-polls"].find((f) =>
      flags[f] !== undefined
    );
    if (polling) {
      throw new ConfigError(
        `--${polling} applies to the native protocol's polling; ` +
          `--api ${parsed.data.api} makes one synchronous request per iteration`,
      );
    }
  }
  if (workload.kind !== "sample") {
    if (parsed.data.api !== "native") {
      throw new ConfigError(
        `--workload ${flags.workload} drives the native protocol; ` +
          `it can't be combined with --api ${parsed.data.api}`,
      );
    }
    parsed.data.workload = workload;
  }
  if (parsed.data.freshStacks && parsed.data.baseUrl) {
    throw new ConfigError(
      "--fresh-stacks needs the embedded stack; it can't be combined with --base-url",
    );
  }
  if (
    parsed.data.baseUrl &&
    (parsed.data.faultProcessingDelayMs > 0 ||
      parsed.data.faultApiDelayMs > 0 || parsed.data.faultLeakKibPerJob > 0)
  ) {
    throw new ConfigError(
      "--fault-processing-delay-ms / --fault-api-delay-ms / " +
        "--fault-leak-kib-per-job need the embedded stack; they can't be " +
        "combined with --base-url",
    );
  }
  if (profile.profile !== "load" && parsed.data.repeat > 1) {
    throw new ConfigError(
      `--repeat applies to the load profile (runs compared with each other); ` +
        `--profile ${profile.profile} judges one run`,
    );
  }
  return parsed.data;
}

/** Flags only some profiles read, and which. */
const PROFILE_ONLY: Readonly<Record<string, readonly string[]>> = {
  "spike-factor": ["spike"],
  "spike-at": ["spike"],
  "spike-hold": ["spike"],
  "recovery-limit": ["spike"],
  "leak-limit": ["soak"],
  "drift-limit": ["soak"],
  slo: ["smoke", "soak", "spike"],
};

/**
 * The profile settings of `--profile` and its flags (`load` and the
 * defaults when absent).
 * @throws {ConfigError} naming the flag that is invalid, or that the
 * profile doesn't read.
 */
export function profileSettingsFrom(
  flags: Record<string, string | boolean | undefined>,
): ProfileSettings {
  const raw: Record<string, unknown> = {
    profile: (flags.profile as string | undefined) ?? DEFAULT_PROFILE,
  };
  for (const [key, [flag, value]] of Object.entries(PROFILE_FLAGS)) {
    raw[key] = (flags[flag] as string | undefined) ?? value;
  }
  const parsed = ProfileSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const byKey = Object.fromEntries(
      Object.entries(PROFILE_FLAGS).map(([k, [flag]]) => [k, flag]),
    ) as Record<string, string>;
    throw new ConfigError(
      `invalid perf options: ${
        flagIssues(parsed.error.issues, (k) => `--${byKey[k] ?? k}`, raw)
      }`,
    );
  }
  for (const [flag, profiles] of Object.entries(PROFILE_ONLY)) {
    if (flags[flag] !== undefined && !profiles.includes(parsed.data.profile)) {
      throw new ConfigError(
        `--${flag} applies to --profile ${
          profiles.join(" / ")
        }, not ${parsed.data.profile}`,
      );
    }
  }
  return parsed.data;
}
