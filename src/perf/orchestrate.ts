/**
 * `deno task perf`: provisions, starts the embedded stack (or targets
 * `--base-url`), runs the k6 scenario with summary export, raw samples and
 * the web dashboard report, archives everything under
 * `perf/results/<UTC time>/` (or `<UTC time>/run-1..N/` with `--repeat N`,
 * fresh Redis state between runs), asserts the result against
 * `baseline.json`, and appends each run to `perf/results/history.jsonl`.
 *
 * Every process started here is stopped on success, failure, Ctrl-C, and
 * when a component dies mid-run (the run then fails with that component's log).
 */
import { basename, dirname, join, relative } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors/mod.ts";
import { PROJECT_ROOT } from "../config/mod.ts";
import { type ComponentDeath, type Stack, startStack } from "../stack/mod.ts";
import { provisionK6, setup } from "../setup/mod.ts";
import { ensureK6, k6Version } from "../setup/mod.ts";
import { runAssert } from "./assert_command.ts";
import { loadSummary } from "./summary.ts";
import { type ProcessMemory, readMemory } from "./proc_memory.ts";
import { loadRunMetadata } from "./run_metadata.ts";
import {
  appendHistory,
  type HistoryEntry,
  historyEntry,
} from "./history/mod.ts";
import { resetServiceState } from "./reset_state.ts";
import { SAMPLES_FILE } from "../verdict/mod.ts";

/** `path` relative to the project when inside it, else absolute. */
export function shownPath(path: string): string {
  const r = relative(PROJECT_ROOT, path);
  return r.startsWith("..") ? path : r;
}

/** Where runs are archived: `PERF_RESULTS_DIR` or `perf/results`. */
export function resultsDir(): string {
  return Deno.env.get("PERF_RESULTS_DIR") ?? join(PROJECT_ROOT, "perf/results");
}
/** The scenario script. */
export const SCENARIO: string = join(
  PROJECT_ROOT,
  "perf/transcription_scenario.js",
);

const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** Validated options of a perf run (flags win over environment variables). */
export const PerfOptionsSchema = z.object({
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

/** The outcome of {@linkcode runPerf}. */
export interface PerfOutcome {
  /** 0 pass, 1 regression/thresholds/interrupted, 2 unusable input. */
  code: number;
  /** The run folder, or the group folder of a `--repeat` run. */
  runDir: string;
  reason: string;
}

/**
 * The fault-injection contract with the service (benchmark use only): the
 * API and workers honour the delays only when `FAULT_INJECTION=test-only`;
 * the orchestrator always sets all three, so a value inherited from the
 * shell can't switch a fault on by accident.
 */
export const FAULT_ENV = {
  switch: "FAULT_INJECTION",
  enabled: "test-only",
  disabled: "off",
  processingDelayMs: "FAULT_PROCESSING_DELAY_MS",
  apiDelayMs: "FAULT_API_DELAY_MS",
} as const;

/** The stack environment for the fault options (all off by default). */
export function faultEnv(
  o: Pick<PerfOptions, "faultProcessingDelayMs" | "faultApiDelayMs">,
): Record<string, string> {
  const on = o.faultProcessingDelayMs > 0 || o.faultApiDelayMs > 0;
  return {
    [FAULT_ENV.switch]: on ? FAULT_ENV.enabled : FAULT_ENV.disabled,
    [FAULT_ENV.processingDelayMs]: String(o.faultProcessingDelayMs),
    [FAULT_ENV.apiDelayMs]: String(o.faultApiDelayMs),
  };
}

/** k6's web-dashboard aggregation period for a run of `seconds`. */
export function dashboardPeriod(seconds: number): string {
  // The HTML report needs several periods of data; k6's default (10 s)
  // skips it for short runs ("report generation was skipped").
  return `${Math.min(10, Math.max(1, Math.floor(seconds / 10)))}s`;
}

/** One k6 run of a session. */
export interface RunRecord {
  runDir: string;
  k6Exit: number | null;
  /** Stopped early (Ctrl-C, a component died). */
  interrupted: boolean;
  /** Why it was stopped, when interrupted. */
  reason?: string;
}

/** A running target (the embedded stack or `--base-url`) and k6. */
export interface PerfSession {
  k6: string;
  baseUrl: string;
  stack: Stack | null;
  /** Resolves when Ctrl-C/SIGTERM arrives or a component dies. */
  stopped: Promise<string>;
  /** Stops the stack and the signal listeners; safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@linkcode openSession}. */
export interface SessionOptions {
  /** Folder for the stack's logs. */
  logDir: string;
  /** Extra environment for every stack component (faults). */
  env?: Record<string, string>;
  /** The k6 binary, when already provisioned. */
  k6?: string;
  say: (line: string) => void;
}

/**
 * Provisions, starts the stack (unless `--base-url`) and listens for
 * Ctrl-C. Returns a reason string instead when interrupted while starting.
 * @throws {ConfigError} when the stack can't start (exit 2).
 */
export async function openSession(
  o: PerfOptions,
  so: SessionOptions,
): Promise<PerfSession | { interrupted: string }> {
  const say = so.say;
  const k6 = so.k6 ?? await provision(o, say);
  const interrupt = Promise.withResolvers<string>();
  const onSignal = () => interrupt.resolve("interrupted by a signal (Ctrl-C)");
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let stack: Stack | null = null;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    if (stack) {
      say("perf: stopping the stack");
      await stack.stop();
    }
  };
  try {
    if (o.baseUrl) {
      return {
        k6,
        baseUrl: o.baseUrl,
        stack,
        stopped: interrupt.promise,
        close,
      };
    }
    const starting = startStack({
      workers: o.workers,
      model: o.model,
      logDir: so.logDir,
      env: { ...faultEnv(o), ...so.env },
      onEvent: (m) => say(`perf: ${m}`),
    }).catch((error) => {
      // A component that can't start is an unusable environment (exit 2).
      throw new ConfigError(
        `the embedded stack could not start: ${error.message ?? error}`,
        { cause: error },
      );
    });
    const first = await Promise.race([
      starting.then((s) => ({ stack: s })),
      interrupt.promise.then((reason) => ({ reason })),
    ]);
    if ("reason" in first) {
      // Let the start finish or fail, then stop whatever it started.
      await starting.then((s) => s.stop(), () => undefined);
      await close();
      return { interrupted: first.reason };
    }
    stack = first.stack;
    const stopped = Promise.race([
      interrupt.promise,
      stack.died.then(describeDeath),
    ]);
    return { k6, baseUrl: stack.baseUrl, stack, stopped, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Options of {@linkcode runK6Once}. */
export interface RunOnceOptions {
  /** 1-based index within a `--repeat` group. */
  repeat?: { index: number; of: number; group: string };
  say: (line: string) => void;
  /** Don't echo k6's output (it still goes to k6.log). */
  quiet?: boolean;
  /**
   * Export k6's web-dashboard report (`report.html`); off where k6's own
   * CPU use is measured (the dashboard costs it CPU). @default true
   */
  dashboard?: boolean;
  /** Called with k6's pid once it is started (CPU accounting). */
  onStart?: (pid: number) => void;
}

/**
 * The scenario's `ARRIVAL_RATE` and `ARRIVAL_TIME_UNIT` for `rate` jobs/s:
 * k6 takes an integer count per time unit, so 12.5 jobs/s is 125 per 10 s.
 * @throws {RangeError} for a rate that is not positive or has more than
 * three decimals.
 */
export function arrivalRateEnv(
  rate: number,
): { ARRIVAL_RATE: string; ARRIVAL_TIME_UNIT: string } {
  for (let unit = 1; unit <= 1000 && rate > 0; unit *= 10) {
    const n = rate * unit;
    if (Math.abs(n - Math.round(n)) < 1e-6) {
      return {
        ARRIVAL_RATE: String(Math.round(n)),
        ARRIVAL_TIME_UNIT: `${unit}s`,
      };
    }
  }
  throw new RangeError(
    `arrival rate ${rate} must be positive with at most 3 decimals`,
  );
}

/**
 * Runs the scenario once against the session into `runDir`: summary.json,
 * samples.json.gz, report.html, k6.log, metadata.json.
 */
export async function runK6Once(
  session: PerfSession,
  o: PerfOptions,
  runDir: string,
  ro: RunOnceOptions,
): Promise<RunRecord> {
  const say = ro.say;
  await Deno.mkdir(runDir, { recursive: true });
  const startedAt = new Date().toISOString();
  say(
    `perf: k6 ${o.rate} jobs/s for ${o.duration} against ${session.baseUrl}${
      ro.repeat ? ` (run ${ro.repeat.index}/${ro.repeat.of})` : ""
    }`,
  );
  const log = await Deno.open(join(runDir, "k6.log"), {
    create: true,
    write: true,
  });
  let k6Exit: number | null = null;
  let interrupted = false;
  let reason: string | undefined;
  const k6Proc = new Deno.Command(session.k6, {
    args: [
      "run",
      // No REST API: its fixed port (6565) collides with any other k6 running
      // on the machine, and nothing here uses it.
      "--address",
      "",
      "--summary-export",
      join(runDir, "summary.json"),
      // Every sample, compressed: statistics that don't depend on k6's
      // pre-aggregated summary (deno task compare).
      "--out",
      `json=${join(runDir, SAMPLES_FILE)}`,
      SCENARIO,
    ],
    env: {
      ...Deno.env.toObject(),
      BASE_URL: session.baseUrl,
      ...arrivalRateEnv(o.rate),
      DURATION: o.duration,
      PRE_ALLOCATED_VUS: String(o.vus),
      MAX_VUS: String(o.maxVus),
      WHISPER_MODEL: o.model,
      POLL_INTERVAL: String(o.pollInterval),
      MAX_POLLS: String(o.maxPolls),
      UPLOAD_USER_ID: o.userId,
      LONG_POLL: o.longPoll ? "1" : "0",
      BASELINE: o.baseline,
      ...(ro.dashboard === false ? { K6_WEB_DASHBOARD: "false" } : {
        K6_WEB_DASHBOARD: "true",
        K6_WEB_DASHBOARD_PORT: "-1",
        K6_WEB_DASHBOARD_PERIOD: dashboardPeriod(
          durationToSeconds(o.duration),
        ),
        K6_WEB_DASHBOARD_EXPORT: join(runDir, "report.html"),
      }),
      K6_NO_USAGE_REPORT: "true",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    ro.onStart?.(k6Proc.pid);
    const echo = ro.quiet
      ? { writeSync: (b: Uint8Array) => b.length }
      : Deno.stderr;
    const pumps = [
      tee(k6Proc.stdout, log, echo),
      tee(k6Proc.stderr, log, echo),
    ];
    const first = await Promise.race([
      k6Proc.status.then((s) => ({ k6: s })),
      session.stopped.then((r) => ({ reason: r })),
    ]);
    if (!("k6" in first)) {
      interrupted = true;
      reason = first.reason;
      stopK6(k6Proc);
    }
    k6Exit = (await k6Proc.status).code;
    await Promise.allSettled(pumps);
  } finally {
    stopK6(k6Proc);
    await k6Proc.status.catch(() => undefined);
    try {
      log.close();
    } catch { /* closed */ }
    const memory = session.stack
      ? await readMemory(
        session.stack.processes().map((p) => ({ name: p.name, pid: p.pid })),
      )
      : undefined;
    if (memory && Object.keys(memory).length) say(memoryLine(memory));
    await writeMetadata(runDir, o, session.k6, k6Exit, interrupted, startedAt, {
      repeat: ro.repeat,
      memory,
    });
  }
  return { runDir, k6Exit, interrupted, reason };
}

/** The outcome of {@linkcode runRepeats}. */
export interface RepeatOutcome {
  groupDir: string;
  records: RunRecord[];
  /** Set when the group stopped early (interrupt, component death). */
  interrupted?: string;
}

/**
 * Opens a session ({@linkcode openSession}, `so.logDir` created) and warms it
 * up ({@linkcode warmUp}, archived under `<so.warmupDir>/logs/warmup/`).
 * `so.onSession` sees the session as soon as it is open, so a caller can
 * close it even when the warm-up is interrupted. Returns whether a warm-up
 * ran, or the reason when interrupted.
 */
export async function openWarmSession(
  o: PerfOptions,
  so: SessionOptions & {
    warmupDir: string;
    onSession: (session: PerfSession) => void;
  },
): Promise<{ warm: boolean } | { reason: string }> {
  await Deno.mkdir(so.logDir, { recursive: true });
  const s = await openSession(o, so);
  if ("interrupted" in s) return { reason: s.interrupted };
  so.onSession(s);
  const warm = await warmUp(s, o, so.warmupDir, so.say);
  if (warm?.interrupted) return { reason: warm.reason ?? "interrupted" };
  return { warm: Boolean(warm) };
}

/**
 * Runs the scenario `runs` times back to back into `<groupDir>/run-1..N/`:
 * on one stack with fresh service state in Redis between runs (its logs go
 * once to `<groupDir>/logs/`), or with `o.freshStacks` on a stack of its own
 * per run (logs and warm-up under `<groupDir>/logs/stack-<i>/`).
 */
export async function runRepeats(
  o: PerfOptions,
  options: {
    runs: number;
    groupDir?: string;
    env?: Record<string, string>;
    k6?: string;
    say?: (line: string) => void;
    /** Called after each run (e.g. to print figures). */
    afterRun?: (r: RunRecord, index: number) => Promise<void> | void;
  },
): Promise<RepeatOutcome> {
  const say = options.say ?? ((l: string) => console.error(l));
  const groupDir = options.groupDir ?? join(resultsDir(), runDirName());
  await Deno.mkdir(join(groupDir, "logs"), { recursive: true });
  say(
    `perf: archiving ${options.runs} runs to ${shownPath(groupDir)}/${
      o.freshStacks ? " (a fresh stack for each)" : ""
    }`,
  );
  const records: RunRecord[] = [];
  let session: PerfSession | undefined;
  let stoppedBy: string | undefined;
  const open = (i: number) => {
    const stackDir = join(groupDir, "logs", `stack-${i}`);
    return openWarmSession(o, {
      logDir: o.freshStacks ? stackDir : join(groupDir, "logs"),
      warmupDir: o.freshStacks ? stackDir : groupDir,
      env: options.env,
      k6: options.k6,
      say,
      onSession: (s) => {
        session = s;
        // A stack closed on purpose between runs is no interruption.
        s.stopped.then((r) => {
          if (session === s) stoppedBy = r;
        });
      },
    });
  };
  try {
    let opened = await open(1);
    for (let i = 1; i <= options.runs; i++) {
      if ("reason" in opened) {
        return { groupDir, records, interrupted: opened.reason };
      }
      // Ctrl-C or a death between runs: don't start another one.
      if (stoppedBy) return { groupDir, records, interrupted: stoppedBy };
      if (i > 1 || opened.warm) {
        await freshState(session!, say, i === 2 && !o.freshStacks);
      }
      const rec = await runK6Once(session!, o, join(groupDir, `run-${i}`), {
        repeat: { index: i, of: options.runs, group: groupDir },
        say,
      });
      records.push(rec);
      if (rec.interrupted) {
        return { groupDir, records, interrupted: rec.reason };
      }
      await options.afterRun?.(rec, i);
      if (o.freshStacks && i < options.runs) {
        const old = session!;
        session = undefined;
        await old.close();
        opened = await open(i + 1);
      }
    }
    return { groupDir, records };
  } finally {
    await session?.close();
  }
}

/**
 * Deletes the previous run's state from the session's Redis (nothing with
 * `--base-url`, said once when `first`).
 */
export async function freshState(
  session: PerfSession,
  say: (line: string) => void,
  first = false,
): Promise<void> {
  if (!session.stack) {
    if (first) {
      say("perf: --base-url: the target's state is not reset between runs");
    }
    return;
  }
  const r = await resetServiceState(session.stack.redisUrl);
  say(
    `perf: fresh state: removed ${r.serviceKeys} service keys and ${r.finishedJobs} finished jobs${
      r.busy ? ` (${r.busy} jobs were still queued)` : ""
    }`,
  );
}

/**
 * The warm-up run (`o.warmup`, skipped when 0): archived under
 * `<dir>/logs/warmup/`, where neither compare nor baseline:update look.
 */
export async function warmUp(
  session: PerfSession,
  o: PerfOptions,
  dir: string,
  say: (line: string) => void,
): Promise<RunRecord | undefined> {
  if (durationToSeconds(o.warmup) <= 0) return undefined;
  say(`perf: warming up for ${o.warmup} (not recorded)`);
  return await runK6Once(
    session,
    { ...o, duration: o.warmup },
    join(dir, "logs", "warmup"),
    { say: () => undefined, quiet: true },
  );
}

/** Runs one perf run (or a `--repeat` group) end to end. */
export async function runPerf(
  o: PerfOptions,
  say: (line: string) => void = (l) => console.error(l),
): Promise<PerfOutcome> {
  if (o.repeat > 1) return await runGroup(o, say);
  const runDir = join(resultsDir(), runDirName());
  await Deno.mkdir(join(runDir, "logs"), { recursive: true });
  say(`perf: archiving to ${shownPath(runDir)}/`);
  const session = await openSession(o, { logDir: join(runDir, "logs"), say });
  if ("interrupted" in session) {
    say(`perf: run failed: ${session.interrupted}`);
    return { code: 1, runDir, reason: session.interrupted };
  }
  let rec: RunRecord;
  try {
    const warm = await warmUp(session, o, runDir, say);
    if (warm && !warm.interrupted) await freshState(session, say);
    rec = warm?.interrupted
      ? warm
      : await runK6Once(session, o, runDir, { say });
  } finally {
    await session.close();
  }
  if (rec.interrupted) {
    say(`perf: run failed: ${rec.reason}`);
    await recordHistory(runDir, undefined, "failed", rec.reason);
    return { code: 1, runDir, reason: rec.reason ?? "interrupted" };
  }
  return await judgeRun(o, rec, say, { link: true });
}

async function runGroup(
  o: PerfOptions,
  say: (line: string) => void,
): Promise<PerfOutcome> {
  const outcomes: PerfOutcome[] = [];
  const group = await runRepeats(o, {
    runs: o.repeat,
    say,
    afterRun: async (rec) => {
      outcomes.push(await judgeRun(o, rec, say, { link: true }));
    },
  });
  if (group.interrupted) {
    const last = group.records.at(-1);
    if (last?.interrupted) {
      await recordHistory(
        last.runDir,
        group.groupDir,
        "failed",
        group.interrupted,
      );
    }
    say(`perf: run failed: ${group.interrupted}`);
    return { code: 1, runDir: group.groupDir, reason: group.interrupted };
  }
  const worst = outcomes.reduce(
    (w, x) => (x.code === 2 || (x.code === 1 && w.code === 0) ? x : w),
    { code: 0, runDir: group.groupDir, reason: "" } as PerfOutcome,
  );
  say(
    `perf: ${o.repeat} runs archived in ${shownPath(group.groupDir)}/`,
  );
  if (worst.code !== 0) {
    return {
      code: worst.code,
      runDir: group.groupDir,
      reason: `${relative(group.groupDir, worst.runDir)}: ${worst.reason}`,
    };
  }
  return {
    code: 0,
    runDir: group.groupDir,
    reason: o.assert
      ? `all ${o.repeat} runs pass`
      : `k6 passed ${o.repeat} runs (assert skipped)`,
  };
}

/** Maps a finished run's k6 exit and assert to an outcome; records history. */
async function judgeRun(
  o: PerfOptions,
  rec: RunRecord,
  say: (line: string) => void,
  opts: { link: boolean },
): Promise<PerfOutcome> {
  const { runDir, k6Exit } = rec;
  const group = /^run-\d+$/.test(basename(runDir))
    ? dirname(runDir)
    : undefined;
  const done = async (
    outcome: PerfOutcome,
    verdict: HistoryEntry["verdict"],
  ) => {
    await recordHistory(runDir, group, verdict, outcome.reason);
    return outcome;
  };
  const summaryPath = join(runDir, "summary.json");
  if (!(await exists(summaryPath))) {
    return await done({
      code: 2,
      runDir,
      reason: `k6 exited with ${k6Exit} and wrote no summary; see k6.log`,
    }, "failed");
  }
  if (opts.link) await linkLatest(runDir);
  await printKeyFigures(summaryPath, say);
  if (k6Exit === K6_EXIT.invalidConfig || k6Exit === K6_EXIT.scriptException) {
    return await done({
      code: 2,
      runDir,
      reason: `k6 could not run the scenario (exit ${k6Exit}); see k6.log`,
    }, "failed");
  }
  if (k6Exit === K6_EXIT.externalAbort || k6Exit === K6_EXIT.scriptAborted) {
    return await done({
      code: 1,
      runDir,
      reason: `the k6 run was aborted (exit ${k6Exit}); see k6.log`,
    }, "failed");
  }
  if (!o.assert) {
    const ok = k6Exit === 0;
    return await done({
      code: ok ? 0 : 1,
      runDir,
      reason: ok ? "k6 passed (assert skipped)" : `k6 exit ${k6Exit}`,
    }, ok ? "not judged" : "failed");
  }
  let assertion;
  try {
    assertion = await runAssert({ summaryPath, baselinePath: o.baseline });
  } catch (error) {
    await recordHistory(runDir, group, "failed", (error as Error).message);
    throw error;
  }
  if (assertion.code !== 0) {
    return await done(
      {
        code: assertion.code,
        runDir,
        reason: "regression against the baseline",
      },
      "regression",
    );
  }
  // The assert read the thresholds from the summary (and judged the keys it
  // checks by interval when the baseline has distributions), so a k6 exit 99
  // it passed is covered by it; other exits still fail.
  if (
    k6Exit === K6_EXIT.thresholdsFailed && !assertion.result.thresholdsCovered
  ) {
    return await done(
      { code: 1, runDir, reason: "k6 thresholds failed" },
      "regression",
    );
  }
  if (k6Exit !== 0 && k6Exit !== K6_EXIT.thresholdsFailed) {
    return await done(
      { code: 1, runDir, reason: `k6 exited with ${k6Exit}` },
      "failed",
    );
  }
  return await done({ code: 0, runDir, reason: "pass" }, "pass");
}

/** Appends the run's line to `history.jsonl` (never fails the run). */
async function recordHistory(
  runDir: string,
  group: string | undefined,
  verdict: HistoryEntry["verdict"],
  reason?: string,
): Promise<void> {
  try {
    const summary = await loadSummary(join(runDir, "summary.json")).catch(
      () => undefined,
    );
    const meta = await loadRunMetadata(join(runDir, "summary.json")).catch(
      () => undefined,
    );
    await appendHistory(
      resultsDir(),
      historyEntry({
        run: relative(resultsDir(), runDir),
        group: group ? relative(resultsDir(), group) : undefined,
        summary,
        metadata: meta?.metadata,
        verdict,
        reason,
      }),
    );
  } catch (error) {
    console.error(`perf: warning: could not append to the history: ${error}`);
  }
}

/** Provisions what a run needs; returns the k6 binary. */
export async function provision(
  o: PerfOptions,
  say: (l: string) => void,
): Promise<string> {
  if (!o.baseUrl) await setup({ models: [o.model], say, k6: false });
  await provisionK6(say);
  return await ensureK6();
}

function stopK6(p: Deno.ChildProcess): void {
  try {
    p.kill("SIGINT"); // k6 stops its scenario and still writes its summary
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      p.kill("SIGKILL");
    } catch { /* gone */ }
  }, 10_000);
  p.status.finally(() => clearTimeout(t));
}

async function tee(
  stream: ReadableStream<Uint8Array>,
  file: Deno.FsFile,
  out: { writeSync(b: Uint8Array): number },
): Promise<void> {
  for await (const chunk of stream) {
    await file.write(chunk);
    out.writeSync(chunk);
  }
}

function describeDeath(d: ComponentDeath): string {
  return `${d.component} died mid-run (code ${d.exit.code}${
    d.exit.signal ? `, ${d.exit.signal}` : ""
  }); log ${d.logPath}, last lines:\n  ${d.tail.join("\n  ")}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Points `perf/results/latest.json` (and its metadata) at this run. */
async function linkLatest(runDir: string): Promise<void> {
  const pairs: [string, string][] = [
    ["latest.json", "summary.json"],
    ["metadata.json", "metadata.json"],
  ];
  for (const [name, target] of pairs) {
    const link = join(resultsDir(), name);
    await Deno.remove(link).catch(() => undefined);
    await Deno.copyFile(join(runDir, target), link);
  }
}

/** Runs `cmd` and returns its trimmed stdout, undefined when it fails. */
export async function command(
  cmd: string,
  args: string[],
): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success
      ? new TextDecoder().decode(out.stdout).trim()
      : undefined;
  } catch {
    return undefined;
  }
}

/** The CPU model from `/proc/cpuinfo`, when it says. */
export async function cpuModel(): Promise<string | undefined> {
  const text = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim();
}

async function writeMetadata(
  runDir: string,
  o: PerfOptions,
  k6: string,
  k6Exit: number | null,
  interrupted: boolean,
  startedAt: string,
  extra: {
    repeat?: RunOnceOptions["repeat"];
    memory?: Record<string, ProcessMemory>;
  } = {},
): Promise<void> {
  const faults = o.faultProcessingDelayMs > 0 || o.faultApiDelayMs > 0
    ? {
      processing_delay_ms: o.faultProcessingDelayMs,
      api_delay_ms: o.faultApiDelayMs,
    }
    : undefined;
  const meta = {
    git_commit: await command("git", ["-C", PROJECT_ROOT, "rev-parse", "HEAD"]),
    git_dirty:
      (await command("git", ["-C", PROJECT_ROOT, "status", "--porcelain"]))
          ?.length
        ? true
        : false,
    cpu_model: await cpuModel(),
    cpu_count: navigator.hardwareConcurrency,
    k6_version: await k6Version(k6).catch(() => undefined),
    deno_version: Deno.version.deno,
    model: o.model,
    workers: o.baseUrl ? undefined : o.workers,
    worker_concurrency: o.baseUrl ? undefined : o.workers,
    arrival_rate_per_second: o.rate,
    duration_seconds: durationToSeconds(o.duration),
    pre_allocated_vus: o.vus,
    max_vus: o.maxVus,
    poll_interval_s: o.pollInterval,
    max_polls: o.maxPolls,
    long_poll: o.longPoll,
    base_url: o.baseUrl ?? "embedded stack",
    k6_exit_code: k6Exit ?? undefined,
    interrupted,
    run_dir: runDir,
    repeat_index: extra.repeat?.index,
    repeat_of: extra.repeat?.of,
    fresh_stack: extra.repeat && o.freshStacks ? true : undefined,
    fault_injection: faults,
    memory_mib: extra.memory,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
  };
  await Deno.writeTextFile(
    join(runDir, "metadata.json"),
    JSON.stringify(meta, null, 2) + "\n",
  );
}

/**
 * One line with each component's peak resident memory since it started
 * (the stack's processes; `VmHWM`), e.g.
 * `perf: peak RSS MiB: api 101.2, worker-1 212.0, worker-2 208.4, redis 9.1`.
 */
export function memoryLine(memory: Record<string, ProcessMemory>): string {
  return `perf: peak RSS MiB: ${
    Object.entries(memory).map(([k, m]) => `${k} ${m.peak_mib.toFixed(1)}`)
      .join(", ")
  }`;
}

/** Prints the run's key figures as a table. */
async function printKeyFigures(
  summaryPath: string,
  say: (l: string) => void,
): Promise<void> {
  let summary;
  try {
    summary = await loadSummary(summaryPath);
  } catch {
    return;
  }
  const get = (metric: string, stat: string) =>
    summary.metrics.get(metric)?.values[stat];
  const rows: [string, number | undefined, string][] = [
    ["http_req_duration avg", get("http_req_duration", "avg"), "ms"],
    ["http_req_duration p95", get("http_req_duration", "p(95)"), "ms"],
    [
      "transcription latency avg",
      get("transcription_latency_seconds", "avg"),
      "s",
    ],
    [
      "transcription latency p95",
      get("transcription_latency_seconds", "p(95)"),
      "s",
    ],
    ["server processing p95", get("server_processing_ms", "p(95)"), "ms"],
    ["server queue wait p95", get("server_queue_wait_ms", "p(95)"), "ms"],
    ["success rate", get("transcription_success_rate", "rate"), ""],
    ["accuracy", get("transcription_accuracy", "rate"), ""],
    ["iterations", get("iterations", "count"), ""],
    ["dropped iterations", get("dropped_iterations", "count") ?? 0, ""],
  ];
  say("perf: key figures");
  for (const [name, v, unit] of rows) {
    const text = v === undefined
      ? "—"
      : `${Number.isInteger(v) ? v : v.toFixed(3)} ${unit}`;
    say(`  ${name.padEnd(28)} ${text}`);
  }
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
  const pick = (key: keyof typeof PERF_DEFAULTS, flag: string) =>
    (flags[flag] as string | undefined) ?? env(PERF_DEFAULTS[key][0]) ??
      PERF_DEFAULTS[key][1];
  const raw = {
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
    warmup: (flags.warmup as string | undefined) ??
      (Number(flags.repeat ?? "1") > 1 ? "5s" : "0s"),
    faultProcessingDelayMs:
      (flags["fault-processing-delay-ms"] as string | undefined) ?? "0",
    faultApiDelayMs: (flags["fault-api-delay-ms"] as string | undefined) ??
      "0",
  };
  const parsed = PerfOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const names: Record<string, string> = {
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
    };
    const msg = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      return `${names[key] ?? key}: ${i.message} (got ${
        JSON.stringify(raw[key as keyof typeof raw])
      })`;
    }).join("; ");
    throw new ConfigError(`invalid perf options: ${msg}`);
  }
  if (parsed.data.maxVus < parsed.data.vus) {
    throw new ConfigError(
      `--max-vus (${parsed.data.maxVus}) must be >= --vus (${parsed.data.vus})`,
    );
  }
  if (parsed.data.freshStacks && parsed.data.baseUrl) {
    throw new ConfigError(
      "--fresh-stacks needs the embedded stack; it can't be combined with --base-url",
    );
  }
  if (
    parsed.data.baseUrl &&
    (parsed.data.faultProcessingDelayMs > 0 || parsed.data.faultApiDelayMs > 0)
  ) {
    throw new ConfigError(
      "--fault-processing-delay-ms / --fault-api-delay-ms need the embedded " +
        "stack; they can't be combined with --base-url",
    );
  }
  return parsed.data;
}
