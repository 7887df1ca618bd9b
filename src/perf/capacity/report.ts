/**
 * The report of a capacity search: `capacity.json`'s schema, the result
 * (capacity, k6's CPU share and the capacity without it, the ratio to the
 * engine alone, the goals), and its text forms (table, result lines).
 */
import { z } from "zod";
import { capacityOf } from "./search.ts";
import { formatPercent } from "./step.ts";
import type { CpuUsage } from "../proc_cpu.ts";
import { APIS } from "../scenarios.ts";

/** The issue's goals for the capacity. */
export const GOALS = {
  /** Jobs/s with k6 running on the same cores. */
  minJobsPerS: 15,
  /** Capacity ÷ engine-only throughput, k6's CPU share accounted for. */
  minEngineRatio: 0.9,
} as const;

const n = z.number().refine(Number.isFinite, "must be finite");
const cores = n.min(0);

/** One step of `capacity.json`. */
export const CapacityStepSchema = z.object({
  /** Order of execution, from 1. */
  index: z.number().int().positive(),
  rate_per_s: n.positive(),
  duration_s: n.positive(),
  offered: z.number().int().min(0),
  completed: z.number().int().min(0),
  failed: z.number().int().min(0),
  dropped: z.number().int().min(0),
  success_rate: n.min(0).max(1),
  throughput_per_s: n.min(0).nullable(),
  latency_s: z.object({
    p50: n.nullable(),
    p95: n.nullable(),
    p99: n.nullable(),
  }),
  /** Cores used over the step (1 = one core busy throughout). */
  cpu_cores: z.object({
    api: cores,
    workers: cores,
    redis: cores,
    k6: cores,
    /** api + workers + redis. */
    service: cores,
    /** This process (`deno task perf`: sampling, k6's output). */
    orchestrator: cores,
    /** The whole machine, every process. */
    machine: cores,
    /** machine − service − k6 − orchestrator: other work on the machine. */
    other: cores,
  }),
  /** k6 ÷ (service + k6): the load generator's part of the CPU used. */
  k6_share: n.min(0).max(1).nullable(),
  pass: z.boolean(),
  reasons: z.array(z.string()),
  k6_exit_code: z.number().int().nullable(),
  /** The step's k6 files, relative to the archive. */
  run_dir: z.string(),
});
/** One step of the report. */
export type CapacityStep = z.infer<typeof CapacityStepSchema>;

/** Why the search ended. */
export const STOP_REASONS = [
  "resolution reached",
  "max rate passed",
  "time budget spent",
  "interrupted",
] as const;

/** `capacity.json`. */
export const CapacityReportSchema = z.object({
  kind: z.literal("capacity"),
  started_at: z.string(),
  finished_at: z.string(),
  elapsed_s: n.min(0),
  git_commit: z.string().optional(),
  machine: z.object({
    cpus: z.number().int().positive(),
    cpu_model: z.string().optional(),
  }),
  setup: z.object({
    model: z.string(),
    /**
     * The protocol the steps drove (archives before `--api` was allowed
     * here: native).
     */
    api: z.enum(APIS).default("native"),
    workers: z.number().int().positive(),
    /** Native: true, `GET /jobs/{id}?wait=` returns when the job ends. */
    long_poll: z.boolean(),
    /** The long poll's wait and the polls allowed; null: nothing polls. */
    poll_wait_s: n.positive().nullable(),
    max_polls: z.number().int().positive().nullable(),
    step_duration_s: n.positive(),
    warmup_s: n.min(0),
    start_rate_per_s: n.positive(),
    rate_factor: n,
    max_rate_per_s: n.positive(),
    resolution_per_s: n.positive(),
    budget_s: n.positive(),
  }),
  criteria: z.object({
    min_success_rate: n,
    max_latency_p95_s: n,
    /** Throughput ÷ offered rate a step must reach (it keeps up). */
    min_throughput_ratio: n,
  }),
  engine: z.object({
    /** Engine alone before the steps: the best of one 1-thread stream per core and one per worker; null when skipped. */
    jobs_per_s: n.positive().nullable(),
    /**
     * Engine alone again after the steps, on the best stream count; null
     * when skipped or interrupted (absent in archives from before it). The
     * ratios are taken against the mean of both readings when it is there.
     */
    after_jobs_per_s: n.positive().nullable().optional(),
    streams: z.number().int().min(0),
    jobs: z.number().int().min(0),
  }),
  steps: z.array(CapacityStepSchema),
  result: z.object({
    /** The highest passing rate below every failing one; null when none. */
    capacity_per_s: n.positive().nullable(),
    stop_reason: z.enum(STOP_REASONS),
    /** Detail of an interruption. */
    stop_detail: z.string().optional(),
    /** The step that established the capacity. */
    capacity_step: z.number().int().positive().nullable(),
    /** k6's share of the CPU used in that step. */
    k6_share: n.min(0).max(1).nullable(),
    /** capacity ÷ (1 − k6_share). */
    capacity_without_k6_per_s: n.positive().nullable(),
    /** capacity ÷ engine ({@linkcode engineReference}). */
    engine_ratio: n.min(0).nullable(),
    /** capacity_without_k6 ÷ engine. */
    engine_ratio_without_k6: n.min(0).nullable(),
    goals: z.object({
      min_jobs_per_s: n,
      jobs_per_s_met: z.boolean(),
      min_engine_ratio: n,
      /**
       * engine_ratio (as measured, k6 on the same cores) ≥ min_engine_ratio;
       * null without an engine figure.
       */
      engine_ratio_met: z.boolean().nullable(),
      /** The same goal judged on engine_ratio_without_k6. */
      engine_ratio_without_k6_met: z.boolean().nullable(),
    }),
  }),
  /** How the k6 adjustment is computed, in words. */
  method: z.string(),
});
/** `capacity.json`'s content. */
export type CapacityReport = z.infer<typeof CapacityReportSchema>;

/** The file names in a capacity archive. */
export const CAPACITY_FILES = {
  report: "capacity.json",
  chart: "capacity.svg",
} as const;

/** Explains the k6 adjustment (kept in the report). */
export const METHOD =
  "k6 runs on the same cores as the service. k6_share = k6 CPU / (API + " +
  "workers + Redis + k6 CPU), measured from /proc/<pid>/stat over the " +
  "capacity step. capacity_without_k6 = capacity / (1 - k6_share): the rate " +
  "the service would reach if the CPU k6 used were the service's too, " +
  "assuming throughput grows in proportion to the CPU the service gets. It " +
  "is an estimate (an upper bound when the cores were not saturated).";

/** The component name of this process in the CPU samples. */
export const ORCHESTRATOR = "orchestrator";

/** A step's CPU block from a sampled usage. */
export function stepCpu(u: CpuUsage): CapacityStep["cpu_cores"] {
  let api = 0, workers = 0, redis = 0, k6 = 0, orchestrator = 0;
  for (const [name, c] of Object.entries(u.components)) {
    if (name === "api") api += c;
    else if (name.startsWith("worker")) workers += c;
    else if (name === "redis") redis += c;
    else if (name === "k6") k6 += c;
    else if (name === ORCHESTRATOR) orchestrator += c;
  }
  const service = api + workers + redis;
  return {
    api,
    workers,
    redis,
    k6,
    service,
    orchestrator,
    machine: u.machine,
    other: Math.max(0, u.machine - service - k6 - orchestrator),
  };
}

/** k6 ÷ (service + k6), null when nothing was measured. */
export function k6Share(cpu: CapacityStep["cpu_cores"]): number | null {
  const used = cpu.service + cpu.k6;
  return used > 0 ? Math.min(1, cpu.k6 / used) : null;
}

/** The result block from the steps and the engine figure. */
export function summarize(
  steps: readonly CapacityStep[],
  engine: number | null,
  stop: CapacityReport["result"]["stop_reason"],
  stopDetail?: string,
): CapacityReport["result"] {
  const capacity = capacityOf(
    steps.map((s) => ({ rate: s.rate_per_s, pass: s.pass })),
  ) ?? null;
  const step = capacity === null
    ? undefined
    : steps.find((s) => s.pass && s.rate_per_s === capacity);
  const share = step?.k6_share ?? null;
  const adjusted = capacity !== null && share !== null && share < 1
    ? capacity / (1 - share)
    : null;
  const ratio = capacity !== null && engine ? capacity / engine : null;
  const ratioAdjusted = adjusted !== null && engine ? adjusted / engine : null;
  return {
    capacity_per_s: capacity,
    stop_reason: stop,
    ...(stopDetail ? { stop_detail: stopDetail } : {}),
    capacity_step: step?.index ?? null,
    k6_share: share,
    capacity_without_k6_per_s: adjusted,
    engine_ratio: ratio,
    engine_ratio_without_k6: ratioAdjusted,
    goals: {
      min_jobs_per_s: GOALS.minJobsPerS,
      jobs_per_s_met: (capacity ?? 0) >= GOALS.minJobsPerS,
      min_engine_ratio: GOALS.minEngineRatio,
      engine_ratio_met: ratio === null ? null : ratio >= GOALS.minEngineRatio,
      engine_ratio_without_k6_met: ratioAdjusted === null
        ? null
        : ratioAdjusted >= GOALS.minEngineRatio,
    },
  };
}

/** The steps as a text table (execution order). */
export function renderStepTable(steps: readonly CapacityStep[]): string {
  const f = (v: number | null, d: number) => v === null ? "—" : v.toFixed(d);
  const head = [
    "step",
    "rate/s",
    "done/s",
    "success",
    "dropped",
    "p50 s",
    "p95 s",
    "p99 s",
    "api",
    "workers",
    "redis",
    "k6",
    "machine",
    "other",
    "k6 share",
    "verdict",
  ];
  const rows = steps.map((s) => [
    String(s.index),
    f(s.rate_per_s, 1),
    f(s.throughput_per_s, 2),
    formatPercent(s.success_rate),
    String(s.dropped),
    f(s.latency_s.p50, 2),
    f(s.latency_s.p95, 2),
    f(s.latency_s.p99, 2),
    f(s.cpu_cores.api, 2),
    f(s.cpu_cores.workers, 2),
    f(s.cpu_cores.redis, 2),
    f(s.cpu_cores.k6, 2),
    f(s.cpu_cores.machine, 2),
    f(s.cpu_cores.other, 2),
    s.k6_share === null ? "—" : formatPercent(s.k6_share),
    s.pass ? "pass" : `FAIL: ${s.reasons.join("; ")}`,
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i]!.length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padStart(widths[i]!))
      .join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}

/**
 * The engine-alone figure the ratios are taken against: the mean of the
 * readings before and after the steps, or the one before when there is no
 * second; null when the engine wasn't measured.
 */
export function engineReference(
  engine: CapacityReport["engine"],
): number | null {
  const { jobs_per_s: before, after_jobs_per_s: after } = engine;
  if (before === null) return null;
  return after == null ? before : (before + after) / 2;
}

/**
 * How the engine's two readings compare: "32.72 jobs/s before the steps,
 * 31.08 after (-5.0 %), mean 31.90", or the one reading.
 */
export function describeEngine(engine: CapacityReport["engine"]): string {
  const { jobs_per_s: before, after_jobs_per_s: after } = engine;
  if (before === null) return "not measured";
  if (after == null) return `${before.toFixed(2)} jobs/s`;
  const drift = (100 * (after - before)) / before;
  return `${before.toFixed(2)} jobs/s before the steps, ${
    after.toFixed(2)
  } after (${drift >= 0 ? "+" : ""}${drift.toFixed(1)} %), mean ${
    engineReference(engine)!.toFixed(2)
  }`;
}

/** The one stdout line. */
export function resultLine(report: CapacityReport): string {
  const r = report.result;
  const engine = engineReference(report.engine);
  const eng = engine === null
    ? "engine not measured"
    : `engine ${engine.toFixed(2)} jobs/s, ratio ${
      r.engine_ratio === null ? "—" : r.engine_ratio.toFixed(2)
    }`;
  return r.capacity_per_s === null
    ? `capacity: none (${eng})`
    : `capacity: ${r.capacity_per_s} jobs/s (${eng})`;
}

/** One step in words (stderr, as it ends). */
export function describeStep(s: CapacityStep): string {
  const f = (v: number | null, d = 2) => v === null ? "—" : v.toFixed(d);
  return `${s.pass ? "pass" : "FAIL"} at ${s.rate_per_s} jobs/s: ${
    f(s.throughput_per_s)
  } done/s, success ${formatPercent(s.success_rate)}, p50/p95/p99 ${
    f(s.latency_s.p50)
  }/${f(s.latency_s.p95)}/${f(s.latency_s.p99)} s, CPU service ${
    f(s.cpu_cores.service)
  } + k6 ${f(s.cpu_cores.k6)} of ${f(s.cpu_cores.machine)} cores used${
    s.pass ? "" : ` (${s.reasons.join("; ")})`
  }`;
}

/** How the steps sent their jobs, in words: `long polling on`, … */
export function protocolOf(setup: CapacityReport["setup"]): string {
  return setup.api === "native"
    ? `long polling ${setup.long_poll ? "on" : "off"}`
    : `one request per job (--api ${setup.api})`;
}

/** The result in words (stderr). */
export function describeResult(report: CapacityReport): string[] {
  const r = report.result;
  const f = (v: number | null, d = 2) => v === null ? "—" : v.toFixed(d);
  const lines = [
    `capacity: search ended: ${r.stop_reason}${
      r.stop_detail ? ` (${r.stop_detail.split("\n")[0]})` : ""
    }; ${report.steps.length} steps in ${report.elapsed_s.toFixed(0)} s`,
    `capacity: criteria: success ≥ ${
      formatPercent(report.criteria.min_success_rate)
    } (dropped iterations count as failures), end-to-end p95 ≤ ${report.criteria.max_latency_p95_s} s, throughput ≥ ${
      formatPercent(report.criteria.min_throughput_ratio)
    } of the rate, ${protocolOf(report.setup)}`,
  ];
  if (r.capacity_per_s === null) {
    lines.push("capacity: no rate met the criteria");
    return lines;
  }
  lines.push(
    `capacity: ${r.capacity_per_s} jobs/s${
      r.stop_reason === "max rate passed" ? " or more (--max-rate)" : ""
    } (step ${r.capacity_step}); goal ≥ ${r.goals.min_jobs_per_s}: ${
      r.goals.jobs_per_s_met ? "met" : "NOT met"
    }`,
    `capacity: k6 used ${
      r.k6_share === null ? "—" : formatPercent(r.k6_share)
    } of the CPU in that step; without k6: ${
      f(r.capacity_without_k6_per_s)
    } jobs/s (capacity ÷ (1 − k6 share))`,
  );
  if (report.engine.jobs_per_s !== null) {
    const verdict = (met: boolean | null) =>
      met === null ? "—" : met ? "met" : "NOT met";
    lines.push(
      `capacity: engine alone ${describeEngine(report.engine)}; ratio ${
        f(r.engine_ratio, 3)
      }: goal ≥ ${r.goals.min_engine_ratio} ${
        verdict(r.goals.engine_ratio_met)
      }; without k6 ${f(r.engine_ratio_without_k6, 3)}: ${
        verdict(r.goals.engine_ratio_without_k6_met)
      }`,
    );
  }
  return lines;
}
