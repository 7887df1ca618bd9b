/**
 * The protocols a perf run can drive (`deno task perf --api native|openai`)
 * and their k6 scenarios: which script, which metrics carry the verdict,
 * which figures are printed, and how a run's summary tells which scenario it
 * ran. Every baseline key belongs to one scenario (its definition's
 * `scenario`, `native` when absent).
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../config/mod.ts";
import { VERDICT_METRICS } from "../verdict/mod.ts";
import type { RunMetadata } from "./run_metadata.ts";
import type { RunSummary } from "./summary.ts";

/** The protocols, in the order `--api` names them. */
export const APIS = ["native", "openai"] as const;
/** A protocol a perf run drives. */
export type Api = typeof APIS[number];
/** What `deno task perf` drives without `--api`. */
export const DEFAULT_API: Api = "native";

/**
 * The script of `--workload mixed|SPEC|DIR` runs (the native protocol, every
 * metric tagged by class); `--workload sample` runs the native scenario.
 */
export const WORKLOAD_SCRIPT: string = join(
  PROJECT_ROOT,
  "perf/workload_scenario.js",
);

/** One row of the key figures printed after a run. */
export interface Figure {
  label: string;
  metric: string;
  stat: string;
  unit: "ms" | "s" | "";
}

/** What the toolkit knows about one scenario. */
export interface ScenarioInfo {
  api: Api;
  /** The k6 script. */
  script: string;
  /** The k6 scenario's name inside the script (its samples' `scenario` tag). */
  k6Scenario: string;
  /**
   * Metrics read from a run's samples and sketched into a baseline's
   * distributions for this scenario.
   */
  verdictMetrics: readonly string[];
  /** The end-to-end latency: metric and the factor that makes it seconds. */
  latency: { metric: string; toSeconds: number };
  /** The Rate with one outcome per iteration. */
  success: string;
  /** Key figures printed after a run. */
  figures: readonly Figure[];
}

const COMMON_FIGURES: readonly Figure[] = [
  { label: "iterations", metric: "iterations", stat: "count", unit: "" },
  {
    label: "dropped iterations",
    metric: "dropped_iterations",
    stat: "count",
    unit: "",
  },
];

/** Metrics of the `openai` scenario (perf/openai_scenario.js). */
export const OPENAI_METRICS = {
  requestDuration: "openai_request_duration_ms",
  processing: "openai_server_processing_ms",
  queueWait: "openai_server_queue_wait_ms",
  overhead: "openai_overhead_ms",
  success: "openai_success_rate",
  accuracy: "openai_accuracy",
} as const;

/** The scenarios by protocol. */
export const SCENARIOS: Readonly<Record<Api, ScenarioInfo>> = {
  native: {
    api: "native",
    script: join(PROJECT_ROOT, "perf/transcription_scenario.js"),
    k6Scenario: "submit_and_poll",
    verdictMetrics: VERDICT_METRICS,
    latency: { metric: "transcription_latency_seconds", toSeconds: 1 },
    success: "transcription_success_rate",
    figures: [
      {
        label: "http_req_duration avg",
        metric: "http_req_duration",
        stat: "avg",
        unit: "ms",
      },
      {
        label: "http_req_duration p95",
        metric: "http_req_duration",
        stat: "p(95)",
        unit: "ms",
      },
      {
        label: "transcription latency avg",
        metric: "transcription_latency_seconds",
        stat: "avg",
        unit: "s",
      },
      {
        label: "transcription latency p95",
        metric: "transcription_latency_seconds",
        stat: "p(95)",
        unit: "s",
      },
      {
        label: "server processing p95",
        metric: "server_processing_ms",
        stat: "p(95)",
        unit: "ms",
      },
      {
        label: "server queue wait p95",
        metric: "server_queue_wait_ms",
        stat: "p(95)",
        unit: "ms",
      },
      {
        label: "success rate",
        metric: "transcription_success_rate",
        stat: "rate",
        unit: "",
      },
      {
        label: "accuracy",
        metric: "transcription_accuracy",
        stat: "rate",
        unit: "",
      },
      ...COMMON_FIGURES,
    ],
  },
  openai: {
    api: "openai",
    script: join(PROJECT_ROOT, "perf/openai_scenario.js"),
    k6Scenario: "openai_transcribe",
    verdictMetrics: Object.values(OPENAI_METRICS),
    latency: { metric: OPENAI_METRICS.requestDuration, toSeconds: 1 / 1000 },
    success: OPENAI_METRICS.success,
    figures: [
      {
        label: "request duration p50",
        metric: OPENAI_METRICS.requestDuration,
        stat: "med",
        unit: "ms",
      },
      {
        label: "request duration p95",
        metric: OPENAI_METRICS.requestDuration,
        stat: "p(95)",
        unit: "ms",
      },
      {
        label: "server processing p95",
        metric: OPENAI_METRICS.processing,
        stat: "p(95)",
        unit: "ms",
      },
      {
        label: "server queue wait p95",
        metric: OPENAI_METRICS.queueWait,
        stat: "p(95)",
        unit: "ms",
      },
      {
        label: "overhead p95",
        metric: OPENAI_METRICS.overhead,
        stat: "p(95)",
        unit: "ms",
      },
      {
        label: "success rate",
        metric: OPENAI_METRICS.success,
        stat: "rate",
        unit: "",
      },
      {
        label: "accuracy",
        metric: OPENAI_METRICS.accuracy,
        stat: "rate",
        unit: "",
      },
      ...COMMON_FIGURES,
    ],
  },
};

/** Which scenario a run ran, and how that was decided (for messages). */
export interface RunApi {
  api: Api;
  /**
   * The run's workload (`--workload`): `sample` (the default, and every
   * older archive), `mixed`, `spec:<name>`, `dir:<name>`.
   */
  workload?: string;
  /** e.g. `metadata.json (api)` or `the summary's metrics`. */
  from: string;
}

/**
 * The scenario of a run: its metadata's `api` when recorded, else the
 * summary's metrics (a run of the openai scenario records
 * `openai_success_rate`; older archives are native).
 */
export function apiOfRun(
  summary: Pick<RunSummary, "metrics">,
  metadata?: Pick<RunMetadata, "api" | "workload">,
): RunApi {
  const workload = metadata?.workload ?? "sample";
  if (metadata?.api) {
    return workload === "sample"
      ? { api: metadata.api, from: "metadata.json (api)" }
      : { api: metadata.api, workload, from: "metadata.json (api, workload)" };
  }
  const api = summary.metrics.has(OPENAI_METRICS.success) ? "openai" : "native";
  return workload === "sample" ? { api, from: "the summary's metrics" } : {
    api,
    workload,
    from: "the summary's metrics, metadata.json (workload)",
  };
}

/**
 * How messages name a run's scenario: `native`, or `native, workload
 * mixed` for a workload other than the sample.
 */
export function scenarioLabel(api: Api, workload = "sample"): string {
  return workload === "sample" ? api : `${api}, workload ${workload}`;
}
