/**
 * `metadata.json`: what the orchestrator records beside a run's k6 summary
 * (`perf/results/<run>/summary.json` + `metadata.json`), so the assert can
 * compare environments and tell a complete run from an interrupted one.
 * Every field is optional; unknown fields are kept.
 */
import { z } from "zod";
import { readJsonFile } from "./_json_file.ts";
import { dirname, join } from "node:path";
import { APIS } from "./scenarios.ts";

/** The file name looked for beside a summary. */
export const METADATA_FILE = "metadata.json";

/** The schema of `metadata.json`. Field names match baseline `environment`. */
export const RunMetadataSchema = z.looseObject({
  /** The protocol the scenario drove (`--api`); absent in older archives. */
  api: z.enum(APIS).optional(),
  /**
   * The traffic mix (`--workload`): `sample`, `mixed`, `spec:<name>` or
   * `dir:<name>`; absent in older archives (sample).
   */
  workload: z.string().optional(),
  /** Model the jobs used, e.g. `tiny.en`. */
  model: z.string().optional(),
  /** The scenario's ARRIVAL_RATE (iterations per second). */
  arrival_rate_per_second: z.number().positive().optional(),
  /** The scenario's DURATION in seconds (without the graceful stop). */
  duration_seconds: z.number().positive().optional(),
  /** Jobs processed at once across the stack (workers × per-worker). */
  worker_concurrency: z.number().int().positive().optional(),
  /** Worker processes. */
  workers: z.number().int().positive().optional(),
  /** Logical CPUs of the machine (`navigator.hardwareConcurrency`). */
  cpu_count: z.number().int().positive().optional(),
  cpu_model: z.string().optional(),
  k6_version: z.string().optional(),
  deno_version: z.string().optional(),
  /** k6's exit code: 0 ok, 99 thresholds failed, 105/108 aborted... */
  k6_exit_code: z.number().int().optional(),
  /** True when the run was stopped early (Ctrl-C, a dead component). */
  interrupted: z.boolean().optional(),
  started_at: z.string().optional(),
  finished_at: z.string().optional(),
  /** The run's folder (so `latest.json`'s copy can find the samples). */
  run_dir: z.string().optional(),
  /** Position in a `--repeat` group. */
  repeat_index: z.number().int().positive().optional(),
  repeat_of: z.number().int().positive().optional(),
  /** A `--repeat --fresh-stacks` run: on a stack of its own. */
  fresh_stack: z.boolean().optional(),
  /** Set only when a benchmark injected faults; such runs are never baselines. */
  fault_injection: z.looseObject({
    processing_delay_ms: z.number().optional(),
    api_delay_ms: z.number().optional(),
  }).optional(),
  long_poll: z.boolean().optional(),
});
/** A parsed `metadata.json`. */
export type RunMetadata = z.infer<typeof RunMetadataSchema>;

/** The metadata file's path for a summary path. */
export function metadataPathFor(summaryPath: string): string {
  return join(dirname(summaryPath), METADATA_FILE);
}

/**
 * Reads `metadata.json` beside `summaryPath`; undefined when there is none.
 * @throws {ConfigError} when it exists but is not valid.
 */
export async function loadRunMetadata(
  summaryPath: string,
): Promise<{ path: string; metadata: RunMetadata } | undefined> {
  const path = metadataPathFor(summaryPath);
  const metadata = await readJsonFile(path, RunMetadataSchema);
  return metadata ? { path, metadata } : undefined;
}
