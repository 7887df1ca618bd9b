/**
 * Re-recording a baseline from runs: {@linkcode buildBaseline} (one
 * summary) and {@linkcode buildGroupBaseline} (a `--repeat` group, with
 * `distributions`: per key the median and spread across the runs, and per
 * run and metric a 101-quantile sketch). Only the keys of the run's
 * scenario (`--api`) and workload are recorded; the others' keys,
 * environments and distributions are kept as they were. A native run
 * records the top level (environment, captured_at, description,
 * distributions); another scenario's run records `scenarios.<api>`. The
 * command around it is `update_command.ts`.
 */
import { ConfigError } from "../../errors/mod.ts";
import { checkComplete, COMPARED_FIELDS } from "./assert.ts";
import {
  type Baseline,
  entriesOf,
  type Environment,
  parseBaseline,
  scenarioRecord,
  selectEntries,
} from "./baseline.ts";
import { type Api, apiOfRun, scenarioLabel, SCENARIOS } from "../scenarios.ts";
import type { RunMetadata } from "../run_metadata.ts";
import type { RunSummary } from "../summary.ts";
import {
  type Distributions,
  type RunSamples,
  SAMPLES_FILE,
  sketchRuns,
  spreadOf,
} from "../../verdict/mod.ts";

/** Inputs of {@linkcode buildBaseline}. */
export interface BuildBaselineInput {
  previous: Baseline;
  previousFile: string;
  summary: RunSummary;
  summaryFile: string;
  metadata?: RunMetadata;
  metadataFile?: string;
  /** The capture time. @default new Date() */
  now?: Date;
  /** A description; @default one generated from the environment */
  description?: string;
}

/** Fields the runs of one baseline must agree on: the compared ones and more. */
const ENV_FIELDS = [
  ...COMPARED_FIELDS,
  "deno_version",
  "long_poll",
] as const;

/** What {@linkcode buildBaseline} and {@linkcode buildGroupBaseline} return. */
export interface BuiltBaseline {
  baseline: Baseline;
  warnings: string[];
  /** The scenario the run(s) ran. */
  api: Api;
  /** The keys recorded (the scenario's), in the file's order. */
  keys: string[];
  /** Set for a workload other than the sample: values only, no distributions. */
  workload?: string;
}

/**
 * A new baseline with the run's values for every key of `previous` that
 * belongs to the run's scenario; the other keys keep their values.
 *
 * @throws {ConfigError} when the run is incomplete, lacks a key's metric,
 *   or the baseline has no key of the run's scenario.
 */
export function buildBaseline(input: BuildBaselineInput): BuiltBaseline {
  const { previous, summary, summaryFile, metadata } = input;
  const warnings: string[] = [];
  const scenario = apiOfRun(summary, metadata);
  const api = scenario.api;
  checkComplete({
    summary,
    summaryFile,
    baseline: previous,
    baselineFile: input.previousFile,
    metadata,
    metadataFile: input.metadataFile,
  });
  const workload = scenario.workload ?? "sample";
  const { selected } = selectEntries(
    entriesOf(previous, input.previousFile),
    api,
    workload,
  );
  if (selected.length === 0) {
    throw new ConfigError(
      `${input.previousFile}: has no keys for the ${
        scenarioLabel(api, workload)
      } scenario (the run's, from ${scenario.from}); add them first ` +
        `(definitions with "scenario": "${api}"${
          workload === "sample" ? "" : `, "workload": "${workload}"`
        }, metrics, tolerances)`,
    );
  }

  // Other scenarios' keys keep their values (and the file's order).
  const metrics: Record<string, number> = { ...previous.metrics };
  for (const entry of selected) {
    const { metric, stat } = entry.definition;
    const m = summary.metrics.get(metric);
    const value = m?.values[stat];
    if (!m || value === undefined) {
      throw new ConfigError(
        `${summaryFile}: metric "${metric}" ${
          m ? `has no "${stat}" value` : "is missing"
        } (needed by baseline key ${entry.key})`,
      );
    }
    if (m.type === "trend" && Object.values(m.values).every((v) => v === 0)) {
      throw new ConfigError(
        `${summaryFile}: metric "${metric}" recorded no samples (needed by ` +
          `baseline key ${entry.key}); no job completed in this run`,
      );
    }
    metrics[entry.key] = Number(value.toPrecision(6));
  }
  if (workload !== "sample") {
    // A workload's keys are values only: the scenario's recording
    // (environment, distributions) describes the sample's traffic and stays.
    if (metadata?.fault_injection) {
      throw new ConfigError(
        `${input.metadataFile ?? summaryFile}: the run injected faults ` +
          `(fault_injection); it can't be a baseline`,
      );
    }
    const baseline = { ...previous, metrics };
    parseBaseline(JSON.stringify(baseline), input.previousFile);
    return {
      baseline,
      warnings,
      api,
      keys: selected.map((e) => e.key),
      workload,
    };
  }

  const before = scenarioRecord(previous, api);
  const environment: Record<string, unknown> = { ...before.environment };
  // Polling settings describe the native scenario only.
  if (api !== "native") delete environment.long_poll;
  if (!metadata) {
    warnings.push(
      `no metadata.json beside ${summaryFile}: the environment is copied ` +
        `from ${input.previousFile} and may not describe this run`,
    );
  } else {
    const missing: string[] = [];
    for (const field of ENV_FIELDS) {
      const value = (metadata as Record<string, unknown>)[field];
      if (value !== undefined) environment[field] = value;
      else if (
        ["model", "arrival_rate_per_second", "duration_seconds"].includes(field)
      ) missing.push(field);
    }
    if (missing.length) {
      warnings.push(
        `${input.metadataFile ?? "metadata.json"} lacks ${
          missing.join(", ")
        }; kept the previous baseline's values`,
      );
    }
  }
  if (summary.k6Version && metadata?.k6_version === undefined) {
    environment.k6_version = summary.k6Version;
  }
  const env = environment as Environment;
  if (metadata?.fault_injection) {
    throw new ConfigError(
      `${input.metadataFile ?? summaryFile}: the run injected faults ` +
        `(fault_injection); it can't be a baseline`,
    );
  }
  const stale = before.distributions;
  if (stale) {
    warnings.push(
      `${input.previousFile} had ${api} distributions from ${
        stale.source ?? `${stale.runs} runs`
      }; a single summary has none, so they were dropped (record from a run or group folder to keep them)`,
    );
  }
  const record = {
    description: input.description ??
      `Recorded with \`deno task baseline:update\` from ${summaryFile}${
          api === "native" ? "" : ` (--api ${api})`
        }: model ${env.model}, ` +
        `${env.arrival_rate_per_second} jobs/s for ${env.duration_seconds} s, ` +
        `worker concurrency ${env.worker_concurrency}${
          env.cpu_count ? `, ${env.cpu_count} CPUs` : ""
        }${
          env.cpu_model ? ` (${env.cpu_model})` : ""
        }. Ratio keys pass while actual <= baseline x tolerance; ` +
        `floor keys while actual >= tolerance` +
        (api === "native" ? "." : "; ceiling keys while actual <= tolerance."),
    captured_at: (input.now ?? new Date()).toISOString(),
    environment: env,
  };
  const baseline = withRecord(
    dropDistributions(previous, api),
    api,
    record,
    { metrics, tolerances: { ...previous.tolerances } },
  );
  // Round-trip through the schema so we never write a baseline we can't read.
  parseBaseline(JSON.stringify(baseline), input.previousFile);
  return { baseline, warnings, api, keys: selected.map((e) => e.key) };
}

/** `baseline` without the distributions of `api`'s scenario. */
function dropDistributions(baseline: Baseline, api: Api): Baseline {
  if (api === "native") {
    const { distributions: _dropped, ...kept } = baseline;
    return kept;
  }
  const own = baseline.scenarios?.[api];
  if (!own) return baseline;
  const { distributions: _dropped, ...kept } = own;
  return { ...baseline, scenarios: { ...baseline.scenarios, [api]: kept } };
}

/**
 * `baseline` with `api`'s recording fields (the top level for native,
 * `scenarios.<api>` otherwise) set from `record`, and `rest` on top.
 */
function withRecord(
  baseline: Baseline,
  api: Api,
  record: {
    description?: string;
    captured_at?: string;
    environment?: Environment;
    distributions?: Distributions;
  },
  rest: Partial<Baseline> = {},
): Baseline {
  if (api === "native") return { ...baseline, ...record, ...rest };
  return {
    ...baseline,
    ...rest,
    scenarios: {
      ...baseline.scenarios,
      [api]: { ...baseline.scenarios?.[api], ...record },
    },
  };
}

/** One run of a group given to {@linkcode buildGroupBaseline}. */
export interface GroupRun {
  summary: RunSummary;
  summaryFile: string;
  metadata?: RunMetadata;
  metadataFile?: string;
  samples: RunSamples;
}

/**
 * A baseline from several runs of one build: each key of the runs' scenario
 * gets the median across runs, and the scenario's `distributions` record
 * each key's spread and each run's quantile sketch of the scenario's verdict
 * metrics. The other scenarios' keys and distributions are kept.
 *
 * @throws {ConfigError} when a run is incomplete, lacks a metric, injected
 *   faults, or has no samples, or when the runs ran different scenarios.
 */
export function buildGroupBaseline(input: {
  previous: Baseline;
  previousFile: string;
  runs: GroupRun[];
  /** The group folder, recorded as the source. */
  source: string;
  now?: Date;
  description?: string;
}): BuiltBaseline {
  if (input.runs.length === 0) {
    throw new ConfigError(`${input.source}: no runs to record`);
  }
  const apis = new Set(
    input.runs.map((r) => apiOfRun(r.summary, r.metadata).api),
  );
  if (apis.size > 1) {
    throw new ConfigError(
      `${input.source}: the runs ran different scenarios (${
        [...apis].join(", ")
      }); record each scenario from its own runs`,
    );
  }
  const api = [...apis][0]!;
  const workloads = new Set(
    input.runs.map((r) => apiOfRun(r.summary, r.metadata).workload ?? "sample"),
  );
  if (workloads.size > 1) {
    throw new ConfigError(
      `${input.source}: the runs ran different workloads (${
        [...workloads].join(", ")
      }); record each workload from its own runs`,
    );
  }
  const workload = [...workloads][0]!;
  const warnings = new Set<string>();
  // The group replaces the scenario's previous distributions.
  const previous = dropDistributions(input.previous, api);
  let keys: string[] = [];
  const perRun = input.runs.map((run) => {
    if (run.metadata?.fault_injection) {
      throw new ConfigError(
        `${run.metadataFile ?? run.summaryFile}: the run injected faults ` +
          `(fault_injection); it can't be a baseline`,
      );
    }
    if (![...run.samples.values()].some((v) => v.length > 0)) {
      throw new ConfigError(
        `${run.summaryFile}: the run has no samples (${SAMPLES_FILE}); ` +
          `re-run it with deno task perf`,
      );
    }
    const built = buildBaseline({
      previous,
      previousFile: input.previousFile,
      summary: run.summary,
      summaryFile: run.summaryFile,
      metadata: run.metadata,
      metadataFile: run.metadataFile,
      now: input.now,
    });
    for (const w of built.warnings) warnings.add(w);
    keys = built.keys;
    return built.baseline;
  });
  const first = perRun[0]!;
  const metrics: Record<string, number> = { ...first.metrics };
  const spread: NonNullable<Distributions["spread"]> = {};
  for (const key of keys) {
    const s = spreadOf(perRun.map((b) => b.metrics[key]!));
    spread[key] = s;
    metrics[key] = s.median;
  }
  const n = input.runs.length;
  if (workload !== "sample") {
    // Medians only: distributions sketch the sample's traffic.
    const baseline = { ...input.previous, metrics };
    parseBaseline(JSON.stringify(baseline), input.previousFile);
    return { baseline, warnings: [...warnings], api, keys, workload };
  }
  const env = scenarioRecord(first, api).environment!;
  const distributions: Distributions = {
    format: "quantiles-101",
    runs: n,
    source: input.source,
    metrics: sketchRuns(
      input.runs.map((r) => r.samples),
      SCENARIOS[api].verdictMetrics,
    ),
    spread,
  };
  const description = input.description ??
    `Recorded with \`deno task baseline:update\` from ${n} runs in ${input.source}${
        api === "native" ? "" : ` (--api ${api})`
      }: model ${env.model}, ` +
      `${env.arrival_rate_per_second} jobs/s for ${env.duration_seconds} s each, ` +
      `worker concurrency ${env.worker_concurrency}${
        env.cpu_count ? `, ${env.cpu_count} CPUs` : ""
      }${env.cpu_model ? ` (${env.cpu_model})` : ""}. ` +
      `Each value is the median across runs. Ratio keys are judged by a bootstrap ` +
      `interval of run/baseline (from the distributions) against the tolerance ` +
      `when the run has samples, else actual <= baseline x tolerance; floor keys while actual >= tolerance` +
      (api === "native" ? "." : "; ceiling keys while actual <= tolerance.");
  const baseline = withRecord(first, api, { description, distributions }, {
    metrics,
  });
  parseBaseline(JSON.stringify(baseline), input.previousFile);
  return { baseline, warnings: [...warnings], api, keys };
}
