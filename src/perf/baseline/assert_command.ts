/**
 * `deno task assert [SUMMARY] [--baseline FILE]`: judges a k6 summary
 * (default `perf/results/latest.json`) against `baseline.json`.
 * Exit 0 pass, 1 regression (or k6 thresholds failed), 2 unusable input.
 */
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { ConfigError, ExitCode } from "../../errors/mod.ts";
import { PROJECT_ROOT } from "../../config/mod.ts";
import {
  type AssertResult,
  evaluateRun,
  githubAnnotations,
  renderMarkdown,
  renderTable,
} from "./assert.ts";
import { loadBaseline, scenarioRecord } from "./baseline.ts";
import { apiOfRun, scenarioLabel, SCENARIOS } from "../scenarios.ts";
import { loadRunMetadata } from "../run_metadata.ts";
import { loadSummary } from "../summary.ts";
import {
  readK6Samples,
  type RunSamples,
  SAMPLES_FILE,
} from "../../verdict/mod.ts";

/** Default summary path. */
export const DEFAULT_SUMMARY: string = join(
  PROJECT_ROOT,
  "perf/results/latest.json",
);
/** Default baseline path. */
export const DEFAULT_BASELINE: string = join(PROJECT_ROOT, "baseline.json");

/** Options of {@linkcode runAssert}. */
export interface RunAssertOptions {
  /** @default DEFAULT_SUMMARY */
  summaryPath?: string;
  /** @default DEFAULT_BASELINE */
  baselinePath?: string;
  /** Environment lookup (GITHUB_ACTIONS, GITHUB_STEP_SUMMARY). @default Deno.env.get */
  env?: (name: string) => string | undefined;
  /** Where the report goes. @default console.log */
  out?: (line: string) => void;
  /** Where warnings and annotations go. @default console.error */
  err?: (line: string) => void;
}

/**
 * Loads the files, judges the run, prints the report; returns the exit code
 * (0 pass, 1 regression).
 *
 * @throws {ConfigError} for unusable input (exit 2).
 */
export async function runAssert(
  options: RunAssertOptions = {},
): Promise<{ code: number; result: AssertResult }> {
  const summaryPath = options.summaryPath ?? DEFAULT_SUMMARY;
  const baselinePath = options.baselinePath ?? DEFAULT_BASELINE;
  const env = options.env ?? ((n) => Deno.env.get(n));
  const out = options.out ?? console.log;
  const err = options.err ?? console.error;

  const baseline = await loadBaseline(baselinePath);
  const summary = await loadSummary(summaryPath);
  // Metadata sits beside the real file (latest.json may be a symlink).
  const real = await Deno.realPath(summaryPath).catch(() => summaryPath);
  const meta = await loadRunMetadata(real);
  const scenario = apiOfRun(summary, meta?.metadata);
  // Raw samples are only read for a baseline with distributions of the run's
  // scenario, so old baselines are judged exactly as before.
  const samples = scenarioRecord(baseline, scenario.api).distributions
    ? await findSamples(
      real,
      meta?.metadata.run_dir,
      SCENARIOS[scenario.api].verdictMetrics,
      err,
    )
    : undefined;
  const result = evaluateRun({
    summary,
    summaryFile: summaryPath,
    baseline,
    baselineFile: baselinePath,
    metadata: meta?.metadata,
    metadataFile: meta?.path,
    samples,
    scenario,
  });

  out(`summary: ${summaryPath} (${summary.format} format)`);
  out(
    `scenario: ${
      scenarioLabel(scenario.api, scenario.workload)
    } (from ${scenario.from})`,
  );
  const captured = scenarioRecord(baseline, scenario.api).captured_at;
  out(
    `baseline: ${baselinePath} (${
      (scenario.workload ?? "sample") !== "sample"
        ? `the ${scenario.workload} workload's keys; they have no recording of their own`
        : captured
        ? `${scenario.api} keys captured ${captured}`
        : `no ${scenario.api} recording yet`
    })`,
  );
  out(renderTable(result));
  for (const w of result.warnings) err(`warning: ${w}`);

  if (env("GITHUB_ACTIONS") === "true") {
    for (const a of githubAnnotations(result)) out(a);
    const stepSummary = env("GITHUB_STEP_SUMMARY");
    if (stepSummary) {
      await Deno.writeTextFile(stepSummary, renderMarkdown(result), {
        append: true,
      });
    }
  }
  return {
    code: result.verdict === "pass" ? ExitCode.ok : ExitCode.failed,
    result,
  };
}

/**
 * The run's samples: beside the summary, else in the run folder its metadata
 * names (`latest.json` is a copy in the results folder).
 */
async function findSamples(
  summaryPath: string,
  runDir: unknown,
  metrics: readonly string[],
  err: (line: string) => void,
): Promise<RunSamples | undefined> {
  const candidates = [join(dirname(summaryPath), SAMPLES_FILE)];
  if (typeof runDir === "string") candidates.push(join(runDir, SAMPLES_FILE));
  for (const path of candidates) {
    try {
      await Deno.stat(path);
    } catch {
      continue;
    }
    try {
      return await readK6Samples(path, metrics);
    } catch (error) {
      err(`warning: ${(error as Error).message}; judged by single values`);
      return undefined;
    }
  }
  return undefined;
}

/** Parses the command line; returns the options for {@linkcode runAssert}. */
export function parseAssertArgs(args: string[]): RunAssertOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { baseline: { type: "string" } },
    });
  } catch (error) {
    throw new ConfigError(
      `${error instanceof Error ? error.message : error}; ` +
        `usage: deno task assert [SUMMARY] [--baseline FILE]`,
    );
  }
  if (parsed.positionals.length > 1) {
    throw new ConfigError(
      `expected at most one summary file, got ${parsed.positionals.length}; ` +
        `usage: deno task assert [SUMMARY] [--baseline FILE]`,
    );
  }
  return {
    summaryPath: parsed.positionals[0],
    baselinePath: parsed.values.baseline,
  };
}
