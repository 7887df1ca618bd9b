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
import { join } from "node:path";
import { ConfigError, ExitCode } from "../../errors/mod.ts";
import { DEFAULT_BASELINE, DEFAULT_SUMMARY } from "./assert_command.ts";
import { type Baseline, loadBaseline, scenarioRecord } from "./baseline.ts";
import { apiOfRun, scenarioLabel, SCENARIOS } from "../scenarios.ts";
import { loadRunMetadata } from "../run_metadata.ts";
import { loadSummary } from "../summary.ts";
import { readK6Samples, SAMPLES_FILE } from "../../verdict/mod.ts";
import { buildBaseline, buildGroupBaseline, type GroupRun } from "./update.ts";

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
