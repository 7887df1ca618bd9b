/**
 * `perf/results/history.jsonl`: one line per run (commit, time, environment,
 * key figures, verdict), appended by `deno task perf`, read by
 * `deno task trend`.
 */
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../../errors/mod.ts";
import type { RunMetadata } from "../run_metadata.ts";
import type { RunSummary } from "../summary.ts";
import { type Api, apiOfRun, SCENARIOS } from "../scenarios.ts";

/** The history file name inside the results folder. */
export const HISTORY_FILE = "history.jsonl";

/** What the verdict said about a run. */
export const VERDICTS = ["pass", "regression", "not judged", "failed"] as const;

const num = z.number().nullable().optional();

/** One line of the history. */
export const HistoryEntrySchema = z.looseObject({
  /** The run folder, relative to the results folder. */
  run: z.string(),
  /** The `--repeat` group folder, when the run was one of several. */
  group: z.string().optional(),
  commit: z.string().optional(),
  dirty: z.boolean().optional(),
  /** When the run started (ISO 8601). */
  time: z.string(),
  environment: z.record(z.string(), z.unknown()),
  figures: z.object({
    latency_p50_s: num,
    latency_p95_s: num,
    /** Successful transcriptions per second of the scenario. */
    throughput_per_s: num,
    success_rate: num,
    iterations: num,
    http_req_p95_ms: num,
  }),
  verdict: z.enum(VERDICTS),
  reason: z.string().optional(),
});
/** One line of the history. */
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

const ENV_KEYS = [
  "api",
  "workload",
  "model",
  "arrival_rate_per_second",
  "duration_seconds",
  "workers",
  "cpu_count",
  "cpu_model",
  "long_poll",
  "fault_injection",
  "k6_version",
  "deno_version",
] as const;

/** The history line of a run from its summary and metadata. */
export function historyEntry(input: {
  run: string;
  group?: string;
  summary?: RunSummary;
  metadata?: RunMetadata;
  verdict: HistoryEntry["verdict"];
  reason?: string;
}): HistoryEntry {
  const m = input.metadata as Record<string, unknown> | undefined;
  const get = (metric: string, stat: string) => {
    const v = input.summary?.metrics.get(metric)?.values[stat];
    return v === undefined ? null : v;
  };
  const environment: Record<string, unknown> = {};
  for (const k of ENV_KEYS) if (m?.[k] !== undefined) environment[k] = m[k];
  const duration = input.metadata?.duration_seconds;
  // The scenario's own latency and success metrics (native: end to end).
  const scenario = SCENARIOS[
    input.summary
      ? apiOfRun(input.summary, input.metadata).api
      : input.metadata?.api ?? "native"
  ];
  const seconds = (stat: string) => {
    const v = get(scenario.latency.metric, stat);
    const f = scenario.latency.toSeconds;
    return v === null || f === 1 ? v : Number((v * f).toPrecision(6));
  };
  const passes = get(scenario.success, "passes");
  return {
    run: input.run,
    ...(input.group ? { group: input.group } : {}),
    commit: typeof m?.git_commit === "string" ? m.git_commit : undefined,
    dirty: typeof m?.git_dirty === "boolean" ? m.git_dirty : undefined,
    time: input.metadata?.started_at ?? new Date().toISOString(),
    environment,
    figures: {
      latency_p50_s: seconds("med"),
      latency_p95_s: seconds("p(95)"),
      throughput_per_s: passes !== null && duration
        ? Number((passes / duration).toPrecision(4))
        : null,
      success_rate: get(scenario.success, "rate"),
      iterations: get("iterations", "count"),
      http_req_p95_ms: get("http_req_duration", "p(95)"),
    },
    verdict: input.verdict,
    ...(input.reason ? { reason: input.reason } : {}),
  };
}

/**
 * The entries of runs that drove `api` with the sample workload (lines
 * written before `--api` or `--workload` existed are native and sample):
 * one protocol's latencies per chart, never mixed with a workload's.
 */
export function entriesOfApi(
  entries: readonly HistoryEntry[],
  api: Api,
): HistoryEntry[] {
  return entries.filter((e) =>
    (e.environment.api ?? "native") === api &&
    (e.environment.workload ?? "sample") === "sample"
  );
}

/** Appends one line to `<dir>/history.jsonl`. */
export async function appendHistory(
  dir: string,
  entry: HistoryEntry,
): Promise<void> {
  await Deno.writeTextFile(
    join(dir, HISTORY_FILE),
    JSON.stringify(entry) + "\n",
    { append: true, create: true },
  );
}

/**
 * Reads a history file; lines that are not valid entries are skipped and
 * reported in `skipped` (a history survives a bad line).
 * @throws {ConfigError} when the file can't be read.
 */
export async function loadHistory(
  path: string,
): Promise<{ entries: HistoryEntry[]; skipped: number[] }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      `${path}: cannot read the history (${
        error instanceof Deno.errors.NotFound
          ? "no such file; run `deno task perf` first"
          : (error as Error).message
      })`,
      { cause: error },
    );
  }
  const entries: HistoryEntry[] = [];
  const skipped: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const parsed = HistoryEntrySchema.safeParse(JSON.parse(line));
      if (parsed.success) entries.push(parsed.data);
      else skipped.push(i + 1);
    } catch {
      skipped.push(i + 1);
    }
  });
  return { entries, skipped };
}
