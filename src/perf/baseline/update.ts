/**
 * `deno task baseline:update [SUMMARY | RUN_DIR | GROUP_DIR] [--baseline FILE]
 * [--force] [--description TEXT]`: re-records `baseline.json` from a k6
 * summary, keeping its keys, tolerances and definitions, and recording the
 * run's environment (from `metadata.json` beside the summary) and the time.
 * Given a run folder or a `--repeat` group folder, it also records
 * `distributions`: per key the median and spread across the runs, and per
 * run and metric a 101-quantile sketch (the value of each key is the median
 * across runs).
 * A run whose k6 thresholds failed is refused (exit 1) unless `--force`;
 * an incomplete run or one missing a metric is never used (exit 2).
 *
 * Only the keys of the run's scenario (`--api`) are recorded; the other
 * scenarios' keys, environments and distributions are kept as they were. A
 * native run records the top level (environment, captured_at, description,
 * distributions); another scenario's run records `scenarios.<api>`.
 */
import { parseArgs } from "node:util";
import { ConfigError, ExitCode } from "../../errors/mod.ts";
import { checkComplete, COMPARED_FIELDS } from "./assert.ts";
import { DEFAULT_BASELINE, DEFAULT_SUMMARY } from "./assert_command.ts";
import {
  type Baseline,
  entriesOf,
  type Environment,
  loadBaseline,
  parseBaseline,
  scenarioRecord,
  selectEntries,
} from "./baseline.ts";
import { type Api, apiOfRun, scenarioLabel, SCENARIOS } from "../scenarios.ts";
import { loadRunMetadata, type RunMetadata } from "../run_metadata.ts";
import { loadSummary, type RunSummary } from "../summary.ts";
import {
  type Distributions,
  readK6Samples,
  type RunSamples,
  SAMPLES_FILE,
  sketchRuns,
  spreadOf,
} from "../../verdict/mod.ts";
import { join } from "node:path";

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

/** The run folders of a run or group folder (those with a summary.json). */
export async function summaryFolders(dir: string): Promise<string[]> {
  const has = async (d: string) =>
    (await Deno.stat(join(d, "summary.json")).catch(() => null))?.isFile ??
      false;
  if (await has(dir)) return [dir];
  const found: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory && await has(join(dir, e.name))) {
      found.push(join(dir, e.name));
    }
  }
  // run-2 before run-10
  return found.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/** Options of {@linkcode runBaselineUpdate}. */
export interface RunBaselineUpdateOptions {
  /** @default DEFAULT_SUMMARY */
  summaryPath?: string;
  /** The baseline read and rewritten. @default DEFAULT_BASELINE */
  baselinePath?: string;
  /** Write even when k6 thresholds failed. */
  force?: boolean;
  description?: string;
  now?: Date;
  /** @default console.log */
  out?: (line: string) => void;
  /** @default console.error */
  err?: (line: string) => void;
}

/**
 * Rewrites the baseline from a summary; returns the exit code (0 written,
 * 1 refused because k6 thresholds failed).
 *
 * @throws {ConfigError} for unusable input (exit 2).
 */
export async function runBaselineUpdate(
  options: RunBaselineUpdateOptions = {},
): Promise<number> {
  const summaryPath = options.summaryPath ?? DEFAULT_SUMMARY;
  const baselinePath = options.baselinePath ?? DEFAULT_BASELINE;
  const out = options.out ?? console.log;
  const err = options.err ?? console.error;

  const previous = await loadBaseline(baselinePath);
  const isDir = (await Deno.stat(summaryPath).catch(() => null))?.isDirectory;
  if (isDir) {
    return await updateFromFolder(summaryPath, baselinePath, previous, options);
  }
  const summary = await loadSummary(summaryPath);
  const real = await Deno.realPath(summaryPath).catch(() => summaryPath);
  const meta = await loadRunMetadata(real);

  const failed = [...summary.thresholdsFailed];
  if (meta?.metadata.k6_exit_code === 99 && failed.length === 0) {
    failed.push("k6 exited with 99 (thresholds failed)");
  }
  if (failed.length && !options.force) {
    err(
      `baseline:update: ${summaryPath}: k6 thresholds failed (${
        failed.join("; ")
      }); refusing to record a failing run as the baseline. ` +
        `Re-run, or pass --force to record it anyway.`,
    );
    return ExitCode.failed;
  }
  const { baseline, warnings, api, keys, workload } = buildBaseline({
    previous,
    previousFile: baselinePath,
    summary,
    summaryFile: summaryPath,
    metadata: meta?.metadata,
    metadataFile: meta?.path,
    now: options.now,
    description: options.description,
  });
  for (const w of warnings) err(`warning: ${w}`);
  if (failed.length) {
    err(`warning: recording a run whose k6 thresholds failed (--force)`);
  }
  await Deno.writeTextFile(
    baselinePath,
    JSON.stringify(baseline, null, 2) + "\n",
  );
  out(
    `wrote ${baselinePath} (the ${
      scenarioLabel(api, workload)
    } scenario's keys):`,
  );
  for (const key of keys) {
    out(`  ${key}: ${previous.metrics[key]} -> ${baseline.metrics[key]}`);
  }
  keptLine(previous, keys, out);
  return ExitCode.ok;
}

async function updateFromFolder(
  dir: string,
  baselinePath: string,
  previous: Baseline,
  options: RunBaselineUpdateOptions,
): Promise<number> {
  const out = options.out ?? console.log;
  const err = options.err ?? console.error;
  const folders = await summaryFolders(dir).catch((error) => {
    throw new ConfigError(`${dir}: not a run archive (${error.message})`);
  });
  if (folders.length === 0) {
    throw new ConfigError(
      `${dir}: no summary.json in it or its sub-folders (not a run archive)`,
    );
  }
  const runs: GroupRun[] = [];
  const failed: string[] = [];
  for (const f of folders) {
    const summaryFile = join(f, "summary.json");
    const summary = await loadSummary(summaryFile);
    const meta = await loadRunMetadata(summaryFile);
    if (summary.thresholdsFailed.length || meta?.metadata.k6_exit_code === 99) {
      failed.push(f);
    }
    runs.push({
      summary,
      summaryFile,
      metadata: meta?.metadata,
      metadataFile: meta?.path,
      samples: await readK6Samples(
        join(f, SAMPLES_FILE),
        SCENARIOS[apiOfRun(summary, meta?.metadata).api].verdictMetrics,
      ),
    });
  }
  if (failed.length && !options.force) {
    err(
      `baseline:update: k6 thresholds failed in ${
        failed.join(", ")
      }; refusing to record a failing run as the baseline. Re-run, or pass --force.`,
    );
    return ExitCode.failed;
  }
  const { baseline, warnings, api, keys, workload } = buildGroupBaseline({
    previous,
    previousFile: baselinePath,
    runs,
    source: dir,
    now: options.now,
    description: options.description,
  });
  for (const w of warnings) err(`warning: ${w}`);
  await Deno.writeTextFile(
    baselinePath,
    JSON.stringify(baseline, null, 2) + "\n",
  );
  out(
    workload
      ? `wrote ${baselinePath} from ${runs.length} run(s), medians (the ${
        scenarioLabel(api, workload)
      } scenario's keys; a workload's keys have no distributions):`
      : `wrote ${baselinePath} from ${runs.length} run(s) with distributions (the ${api} scenario's keys):`,
  );
  const spread = scenarioRecord(baseline, api).distributions?.spread;
  for (const key of keys) {
    const s = spread?.[key];
    out(
      `  ${key}: ${previous.metrics[key]} -> ${baseline.metrics[key]}${
        s ? ` (runs ${s.min}..${s.max}, CV ${(s.cv * 100).toFixed(1)} %)` : ""
      }`,
    );
  }
  keptLine(previous, keys, out);
  return ExitCode.ok;
}

/** Says which keys (the other scenarios') were kept as they were. */
function keptLine(
  previous: Baseline,
  recorded: readonly string[],
  out: (line: string) => void,
): void {
  const kept = Object.keys(previous.metrics).filter((k) =>
    !recorded.includes(k)
  );
  if (kept.length) {
    out(`  kept (other scenarios' keys): ${kept.join(", ")}`);
  }
}

/** Parses the command line for {@linkcode runBaselineUpdate}. */
export function parseBaselineUpdateArgs(
  args: string[],
): RunBaselineUpdateOptions {
  const usage =
    "usage: deno task baseline:update [SUMMARY] [--baseline FILE] [--force] [--description TEXT]";
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        baseline: { type: "string" },
        force: { type: "boolean" },
        description: { type: "string" },
      },
    });
  } catch (error) {
    throw new ConfigError(
      `${error instanceof Error ? error.message : error}; ${usage}`,
    );
  }
  if (parsed.positionals.length > 1) {
    throw new ConfigError(`expected at most one summary file; ${usage}`);
  }
  return {
    summaryPath: parsed.positionals[0],
    baselinePath: parsed.values.baseline,
    force: parsed.values.force ?? false,
    description: parsed.values.description,
  };
}
