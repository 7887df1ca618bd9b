/**
 * `deno task perf --find-capacity`: the highest arrival rate the embedded
 * stack sustains with success ≥ 99.9 % and end-to-end p95 ≤ 2 s, its
 * throughput keeping up with the rate (a short step can otherwise pass while
 * the backlog grows).
 *
 * One session: the engine alone is measured first (no stack running), then
 * the stack starts, is warmed up, and short constant-arrival-rate k6 steps
 * search the rate: a geometric ramp until a step fails, then bisection
 * between the last pass and the first fail down to `--resolution`, within
 * `--budget`. Each step records throughput, success (dropped iterations count
 * as failures), latency p50/p95/p99 and the CPU used by every process (API,
 * workers, Redis, k6) and by the machine. The archive holds `capacity.json`,
 * `capacity.svg` and each step's k6 files.
 *
 * The search (capacity_search.ts), a step's measurement (capacity_step.ts),
 * the report (capacity_report.ts) and the chart (capacity_chart.ts) are pure
 * functions; {@linkcode runCapacity} runs them.
 */
import { flagIssues } from "../../cli/mod.ts";
import { join, relative } from "node:path";
import { z } from "zod";
import { ConfigError } from "../../errors/mod.ts";
import { engineFigures } from "../../bench/mod.ts";
import { SAMPLES_FILE } from "../../verdict/mod.ts";
import { PROJECT_ROOT } from "../../config/mod.ts";
import { command, cpuModel } from "../archive.ts";
import { runK6Once, type RunRecord } from "../k6_run.ts";
import {
  durationToSeconds,
  type PerfOptions,
  perfOptionsFrom,
  resultsDir,
  runDirName,
  shownPath,
} from "../run_options.ts";
import {
  freshState,
  openSession,
  type PerfSession,
  provision,
} from "../session.ts";
import { loadSummary, type RunSummary } from "../summary.ts";
import { DEFAULT_API, SCENARIOS } from "../scenarios.ts";
import { clockTicks, CpuSampler } from "../proc_cpu.ts";
import {
  bracket,
  nextRate,
  quantize,
  type SearchParams,
  topRate,
  type Trial,
} from "./search.ts";
import {
  criteriaFor,
  judgeStep,
  measureStep,
  readCompletions,
  vusFor,
} from "./step.ts";
import {
  CAPACITY_FILES,
  type CapacityReport,
  CapacityReportSchema,
  type CapacityStep,
  describeResult,
  describeStep,
  engineReference,
  k6Share,
  METHOD,
  ORCHESTRATOR,
  renderStepTable,
  stepCpu,
  summarize,
} from "./report.ts";
import { renderCapacityChart } from "./chart.ts";

const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const duration = (what: string) =>
  z.string().regex(DURATION_RE, `must be a k6 duration like ${what}`);

/** The search's own options (flags of `--find-capacity`). */
export const CapacitySearchSchema = z.object({
  /** Length of each step. */
  stepDuration: duration("20s"),
  /** First rate tried, jobs/s. */
  startRate: z.coerce.number().positive().max(1000),
  /** Ramp multiplier while every step passes. */
  rateFactor: z.coerce.number().gt(1).max(10),
  /** Highest rate tried, jobs/s. */
  maxRate: z.coerce.number().positive().max(1000),
  /** Bisection stops when pass and fail are this close, jobs/s. */
  resolution: z.coerce.number().min(0.001).max(100),
  /** Wall time for the engine run, the stack start, warm-up and steps. */
  budget: duration("6m"),
  /** Engine-only jobs before the search (0: skip the engine run). */
  engineJobs: z.coerce.number().int().min(0).max(100_000),
});

/** Options of {@linkcode runCapacity}. */
export interface CapacityOptions {
  /** The search. */
  search: z.infer<typeof CapacitySearchSchema>;
  /**
   * Options every step shares (model, workers, long polling, warm-up…);
   * rate, duration and VUs are set per step.
   */
  perf: PerfOptions;
}

/** Search defaults: a whole search takes 3–4 minutes on 2 cores (≤ 6). */
export const CAPACITY_DEFAULTS = {
  stepDuration: "20s",
  startRate: "4",
  rateFactor: "1.5",
  maxRate: "40",
  resolution: "0.5",
  budget: "6m",
  engineJobs: "120",
  warmup: "10s",
  /** Long-poll wait, s: `GET /jobs/{id}?wait=5` returns when the job ends. */
  pollInterval: "5",
  /** 6 polls of 5 s: a job not done in 30 s is a failure. */
  maxPolls: "6",
} as const;

const SEARCH_FLAGS: Record<keyof typeof CapacitySearchSchema.shape, string> = {
  stepDuration: "step-duration",
  startRate: "start-rate",
  rateFactor: "rate-factor",
  maxRate: "max-rate",
  resolution: "resolution",
  budget: "budget",
  engineJobs: "engine-jobs",
};

/** Flags of `deno task perf` that mean nothing in a capacity search. */
const REFUSED: Record<string, string> = {
  rate: "use --start-rate and --max-rate",
  duration: "use --step-duration",
  repeat: "each step is one run",
  vus: "VUs are sized per step",
  "max-vus": "VUs are sized per step",
  "base-url": "the CPU of the service's processes is measured here",
  "fault-processing-delay-ms": "a capacity is measured without faults",
  "fault-api-delay-ms": "a capacity is measured without faults",
  workload: "the search measures the sample workload",
};

/**
 * Builds {@linkcode CapacityOptions} from `deno task perf` flags.
 * @throws {ConfigError} naming the flag that is wrong or doesn't apply.
 */
export function capacityOptionsFrom(
  flags: Record<string, string | boolean | undefined>,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): CapacityOptions {
  for (const [flag, why] of Object.entries(REFUSED)) {
    if (flags[flag] !== undefined) {
      throw new ConfigError(
        `--${flag} can't be combined with --find-capacity (${why})`,
      );
    }
  }
  const raw = Object.fromEntries(
    Object.entries(SEARCH_FLAGS).map(([key, flag]) => [
      key,
      flags[flag] ?? CAPACITY_DEFAULTS[key as keyof typeof SEARCH_FLAGS],
    ]),
  );
  const parsed = CapacitySearchSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid capacity options: ${
        flagIssues(
          parsed.error.issues,
          (k) => `--${SEARCH_FLAGS[k as keyof typeof SEARCH_FLAGS]}`,
          raw,
        )
      }`,
    );
  }
  const s = parsed.data;
  if (s.maxRate < s.startRate) {
    throw new ConfigError(
      `--max-rate (${s.maxRate}) must be >= --start-rate (${s.startRate})`,
    );
  }
  if (s.startRate < s.resolution) {
    throw new ConfigError(
      `--start-rate (${s.startRate}) must be >= --resolution (${s.resolution})`,
    );
  }
  if (Math.abs(s.resolution * 1000 - Math.round(s.resolution * 1000)) > 1e-6) {
    throw new ConfigError(
      `--resolution (${s.resolution}) must have at most 3 decimals`,
    );
  }
  if (durationToSeconds(s.budget) < durationToSeconds(s.stepDuration)) {
    throw new ConfigError(
      `--budget (${s.budget}) must be at least --step-duration (${s.stepDuration})`,
    );
  }
  // Everything else is `deno task perf`'s own validation; BASE_URL from the
  // environment is ignored like the refused flag. The native protocol polls
  // long; the OpenAI route answers its one request itself.
  const polling = (flags.api ?? DEFAULT_API) === "native"
    ? {
      "long-poll": true,
      "poll-interval": (flags["poll-interval"] as string | undefined) ??
        env("POLL_INTERVAL") ?? CAPACITY_DEFAULTS.pollInterval,
      "max-polls": (flags["max-polls"] as string | undefined) ??
        env("MAX_POLLS") ?? CAPACITY_DEFAULTS.maxPolls,
    }
    : {};
  const perf = perfOptionsFrom({
    ...flags,
    rate: "1",
    duration: s.stepDuration,
    vus: "1",
    "max-vus": "1",
    ...polling,
    warmup: (flags.warmup as string | undefined) ?? CAPACITY_DEFAULTS.warmup,
    "no-assert": true,
  }, (name) => name === "BASE_URL" ? undefined : env(name));
  return { search: s, perf };
}

/** The outcome of {@linkcode runCapacity}. */
export interface CapacityOutcome {
  /** 0 a capacity was found; 1 none passed, or interrupted. */
  code: number;
  dir: string;
  report: CapacityReport;
}

/**
 * Runs the whole search: engine alone, then the stack, a warm-up and the
 * steps; writes `capacity.json` and `capacity.svg`, prints the table on
 * `say`. Every process started is stopped on success, failure and Ctrl-C.
 * @throws {ConfigError} when the stack can't start or k6 can't run the
 * scenario (exit 2).
 */
export async function runCapacity(
  o: CapacityOptions,
  say: (line: string) => void = (l) => console.error(l),
): Promise<CapacityOutcome> {
  const startedAt = new Date();
  const dir = join(resultsDir(), `${runDirName(startedAt)}-capacity`);
  const s = o.search;
  const params: SearchParams = {
    startRate: s.startRate,
    rateFactor: s.rateFactor,
    maxRate: s.maxRate,
    resolution: s.resolution,
  };
  const stepS = durationToSeconds(s.stepDuration);
  const criteria = criteriaFor(stepS);
  const budgetS = durationToSeconds(s.budget);

  const k6 = await provision(o.perf, say);
  await Deno.mkdir(join(dir, "logs"), { recursive: true });
  say(`capacity: archiving to ${shownPath(dir)}/`);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;

  const cpus = navigator.hardwareConcurrency;
  // The engine's best: one 1-thread stream per core, and as many streams as
  // the stack has workers when that differs (more workers than cores keep
  // the cores busy while a worker waits on Redis; the engine alone gets
  // the same chance).
  const streamCounts = [...new Set([cpus, o.perf.workers])];
  let engine: number | null = null;
  let engineStreams = 0;
  // Ctrl-C during an engine run (nothing else runs then) ends it after the
  // run, with a report, instead of killing the process.
  let early: string | undefined;
  const onSignal = () => early ??= "interrupted by a signal (Ctrl-C)";
  const engineAlone = async (streams: readonly number[], when: string) => {
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    try {
      say(
        `capacity: engine alone (${when}): ${s.engineJobs} jobs on ${
          streams.join(" and on ")
        } streams of 1 thread`,
      );
      return await engineFigures({
        model: o.perf.model,
        streams,
        jobs: s.engineJobs,
        onThroughput: (n, jobsPerS) =>
          say(`capacity: engine ${jobsPerS.toFixed(2)} jobs/s on ${n} streams`),
      });
    } finally {
      Deno.removeSignalListener("SIGINT", onSignal);
      Deno.removeSignalListener("SIGTERM", onSignal);
    }
  };
  if (s.engineJobs > 0) {
    const e = await engineAlone(streamCounts, "no stack, before the steps");
    engine = e.throughput;
    engineStreams = e.streams;
  }

  const session = early ? { interrupted: early } : await openSession(o.perf, {
    logDir: join(dir, "logs"),
    k6,
    say,
  });
  const steps: CapacityStep[] = [];
  let stop: CapacityReport["result"]["stop_reason"] = "resolution reached";
  let stopDetail: string | undefined;
  if ("interrupted" in session) {
    stop = "interrupted";
    stopDetail = session.interrupted;
  } else {
    try {
      const r = await search(session, o, params, dir, {
        stepS,
        budgetS,
        elapsed,
        say,
        steps,
      });
      stop = r.stop;
      stopDetail = r.detail;
    } finally {
      await session.close();
    }
  }
  // The machine's speed moves over minutes here: the engine alone again,
  // on its best stream count, so the ratio is taken against its speed over
  // the whole run (the mean of both readings) and the drift is shown.
  let engineAfter: number | null = null;
  if (engine !== null && stop !== "interrupted" && !early) {
    engineAfter = (await engineAlone([engineStreams], "again, after the steps"))
      .throughput;
  }
  const engineBlock: CapacityReport["engine"] = {
    jobs_per_s: engine,
    after_jobs_per_s: engineAfter,
    streams: engineStreams,
    jobs: engine === null ? 0 : s.engineJobs,
  };

  const report: CapacityReport = CapacityReportSchema.parse({
    kind: "capacity",
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    elapsed_s: (Date.now() - startedAt.getTime()) / 1000,
    git_commit: await command("git", ["-C", PROJECT_ROOT, "rev-parse", "HEAD"]),
    machine: { cpus, cpu_model: await cpuModel() },
    setup: {
      model: o.perf.model,
      api: o.perf.api,
      workers: o.perf.workers,
      long_poll: o.perf.longPoll,
      poll_wait_s: o.perf.api === "native"
        ? Math.max(1, Math.min(30, Math.ceil(o.perf.pollInterval)))
        : null,
      max_polls: o.perf.api === "native" ? o.perf.maxPolls : null,
      step_duration_s: stepS,
      warmup_s: durationToSeconds(o.perf.warmup),
      start_rate_per_s: s.startRate,
      rate_factor: s.rateFactor,
      max_rate_per_s: s.maxRate,
      resolution_per_s: s.resolution,
      budget_s: budgetS,
    },
    criteria: {
      min_success_rate: criteria.minSuccessRate,
      max_latency_p95_s: criteria.maxLatencyP95S,
      min_throughput_ratio: criteria.minThroughputRatio,
    },
    engine: engineBlock,
    steps,
    result: summarize(steps, engineReference(engineBlock), stop, stopDetail),
    method: METHOD,
  });
  await Deno.writeTextFile(
    join(dir, CAPACITY_FILES.report),
    JSON.stringify(report, null, 2) + "\n",
  );
  await Deno.writeTextFile(
    join(dir, CAPACITY_FILES.chart),
    renderCapacityChart(report),
  );
  say("");
  say(renderStepTable(steps));
  say("");
  for (const line of describeResult(report)) say(line);
  say(
    `capacity: ${shownPath(join(dir, CAPACITY_FILES.report))}, ${
      shownPath(join(dir, CAPACITY_FILES.chart))
    }`,
  );
  const found = report.result.capacity_per_s !== null && stop !== "interrupted";
  return { code: found ? 0 : 1, dir, report };
}

/** The search loop on an open session; fills `ctx.steps`. */
async function search(
  session: PerfSession,
  o: CapacityOptions,
  params: SearchParams,
  dir: string,
  ctx: {
    stepS: number;
    budgetS: number;
    elapsed: () => number;
    say: (line: string) => void;
    steps: CapacityStep[];
  },
): Promise<{ stop: CapacityReport["result"]["stop_reason"]; detail?: string }> {
  const say = ctx.say;
  let stoppedBy: string | undefined;
  session.stopped.then((r) => stoppedBy = r);
  const stack = session.stack!;
  const ticks = await clockTicks();
  const stepOptions = (rate: number, seconds: string): PerfOptions => ({
    ...o.perf,
    rate,
    duration: seconds,
    ...vusFor(rate),
  });

  if (durationToSeconds(o.perf.warmup) > 0) {
    say(
      `capacity: warming up at ${params.startRate} jobs/s for ${o.perf.warmup} (not recorded)`,
    );
    const warm = await runK6Once(
      session,
      stepOptions(quantize(params.startRate, params.resolution), o.perf.warmup),
      join(dir, "logs", "warmup"),
      { say: () => undefined, quiet: true, dashboard: false },
    );
    if (warm.interrupted) return { stop: "interrupted", detail: warm.reason };
    await freshState(session, say);
  }

  // Which metrics carry a job's latency and outcome in this protocol.
  const scenario = SCENARIOS[o.perf.api];
  const trials: Trial[] = [];
  for (let rate = nextRate(trials, params); rate !== undefined;) {
    if (stoppedBy) return { stop: "interrupted", detail: stoppedBy };
    // A step costs its duration plus the drain and the state reset.
    if (ctx.elapsed() + ctx.stepS + 5 > ctx.budgetS) {
      say(
        `capacity: time budget (${ctx.budgetS} s) reached after ${
          ctx.elapsed().toFixed(0)
        } s; stopping the search`,
      );
      return { stop: "time budget spent" };
    }
    const index = ctx.steps.length + 1;
    const name = `${String(index).padStart(2, "0")}-${rate}`;
    const runDir = join(dir, "steps", name);
    say(`capacity: step ${index}: ${rate} jobs/s for ${o.perf.duration}`);
    const targets = new Map<number, string>();
    const sampler = new CpuSampler(() => [
      ...stack.processes().map((p) => ({ name: p.name, pid: p.pid })),
      ...[...targets].map(([pid, name]) => ({ name, pid })),
      { name: ORCHESTRATOR, pid: Deno.pid },
    ], ticks);
    await sampler.start();
    let rec: RunRecord;
    try {
      rec = await runK6Once(
        session,
        stepOptions(rate, o.perf.duration),
        runDir,
        {
          say: () => undefined,
          quiet: true,
          dashboard: false,
          onStart: (pid) => targets.set(pid, "k6"),
        },
      );
    } catch (error) {
      await sampler.stop();
      throw error;
    }
    const usage = await sampler.stop();
    if (rec.interrupted) return { stop: "interrupted", detail: rec.reason };
    let summary: RunSummary;
    try {
      summary = await loadSummary(join(runDir, "summary.json"));
    } catch (error) {
      throw new ConfigError(
        `k6 exited with ${rec.k6Exit} and wrote no usable summary; see ${
          shownPath(join(runDir, "k6.log"))
        }`,
        { cause: error },
      );
    }
    const m = measureStep(
      rate,
      durationToSeconds(o.perf.duration),
      summary,
      await readCompletions(join(runDir, SAMPLES_FILE), scenario.latency),
      scenario.success,
    );
    const verdict = judgeStep(m);
    const cpu = stepCpu(usage);
    const step: CapacityStep = {
      index,
      rate_per_s: rate,
      duration_s: m.seconds,
      offered: m.offered,
      completed: m.completed,
      failed: m.failed,
      dropped: m.dropped,
      success_rate: m.successRate,
      throughput_per_s: m.throughput,
      latency_s: m.latency,
      cpu_cores: cpu,
      k6_share: k6Share(cpu),
      pass: verdict.pass,
      reasons: verdict.reasons,
      k6_exit_code: rec.k6Exit,
      run_dir: relative(dir, runDir),
    };
    ctx.steps.push(step);
    trials.push({ rate, pass: verdict.pass });
    say(`capacity: step ${index}: ${describeStep(step)}`);
    rate = nextRate(trials, params);
    if (rate !== undefined) {
      // A component that died makes the reset fail: report the death.
      await freshState(session, say).catch((error) => {
        if (!stoppedBy) throw error;
      });
    }
  }
  const { lo } = bracket(trials);
  return {
    stop: lo > 0 && lo >= topRate(params)
      ? "max rate passed"
      : "resolution reached",
  };
}
