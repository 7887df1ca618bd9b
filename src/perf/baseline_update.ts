/**
 * `deno task baseline:update [SUMMARY] [--baseline FILE] [--force]
 * [--description TEXT]`: re-records `baseline.json` from a k6 summary,
 * keeping its keys, tolerances and definitions, and recording the run's
 * environment (from `metadata.json` beside the summary) and the time.
 * A run whose k6 thresholds failed is refused (exit 1) unless `--force`;
 * an incomplete run or one missing a metric is never used (exit 2).
 */
import { parseArgs } from "node:util";
import { runCli } from "../cli/mod.ts";
import { ConfigError, ExitCode } from "../errors/mod.ts";
import { checkComplete } from "./assert.ts";
import { DEFAULT_BASELINE, DEFAULT_SUMMARY } from "./assert_main.ts";
import {
  type Baseline,
  entriesOf,
  type Environment,
  loadBaseline,
  parseBaseline,
} from "./baseline.ts";
import { loadRunMetadata, type RunMetadata } from "./run_metadata.ts";
import { loadSummary, type RunSummary } from "./summary.ts";

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

const ENV_FIELDS = [
  "model",
  "arrival_rate_per_second",
  "duration_seconds",
  "worker_concurrency",
  "workers",
  "cpu_count",
  "cpu_model",
  "k6_version",
  "deno_version",
] as const;

/**
 * A new baseline with the run's values for every key of `previous`.
 *
 * @throws {ConfigError} when the run is incomplete or lacks a key's metric.
 */
export function buildBaseline(
  input: BuildBaselineInput,
): { baseline: Baseline; warnings: string[] } {
  const { previous, summary, summaryFile, metadata } = input;
  const warnings: string[] = [];
  checkComplete({
    summary,
    summaryFile,
    baseline: previous,
    baselineFile: input.previousFile,
    metadata,
    metadataFile: input.metadataFile,
  });

  const metrics: Record<string, number> = {};
  for (const entry of entriesOf(previous, input.previousFile)) {
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

  const environment: Record<string, unknown> = { ...previous.environment };
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

  const baseline: Baseline = {
    ...previous,
    description: input.description ??
      `Recorded with \`deno task baseline:update\` from ${summaryFile}: model ${env.model}, ` +
        `${env.arrival_rate_per_second} jobs/s for ${env.duration_seconds} s, ` +
        `worker concurrency ${env.worker_concurrency}${
          env.cpu_count ? `, ${env.cpu_count} CPUs` : ""
        }${
          env.cpu_model ? ` (${env.cpu_model})` : ""
        }. Ratio keys pass while actual <= baseline x tolerance; ` +
        `floor keys while actual >= tolerance.`,
    captured_at: (input.now ?? new Date()).toISOString(),
    environment: env,
    metrics,
    tolerances: { ...previous.tolerances },
  };
  // Round-trip through the schema so we never write a baseline we can't read.
  parseBaseline(JSON.stringify(baseline), input.previousFile);
  return { baseline, warnings };
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
  const { baseline, warnings } = buildBaseline({
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
  out(`wrote ${baselinePath}:`);
  for (const [key, value] of Object.entries(baseline.metrics)) {
    out(`  ${key}: ${previous.metrics[key]} -> ${value}`);
  }
  return ExitCode.ok;
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

if (import.meta.main) {
  await runCli(
    "baseline:update",
    () => runBaselineUpdate(parseBaselineUpdateArgs(Deno.args)),
  );
}
