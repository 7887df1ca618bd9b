/**
 * Reading k6's end-of-test summary files, in either format k6 1.x writes with
 * `--summary-export FILE`:
 *
 * - **legacy** (the default): `{root_group, metrics}`. Each metric is a flat
 *   object of numbers without its type: a Trend has its summary stats (`avg`,
 *   `min`, `med`, `max`, `p(90)`, `p(95)` by default; built-in times in ms);
 *   a Rate has `passes`, `fails` and its fraction under `value` (k6 renames
 *   `rate` to `value`); a Counter has `count` and `rate` (per second); a Gauge
 *   `value`, `min`, `max`. A metric with thresholds also has
 *   `thresholds: {"<expression>": <failed>}` where `true` means the threshold
 *   FAILED. A metric that was never observed is absent unless it has a
 *   threshold. For `http_req_failed`, `passes` counts failed requests.
 * - **v1** (`--new-machine-readable-summary`, schema version `"1.0.0"`):
 *   `{version, config: {duration (s), execution, script}, metadata:
 *   {k6_version, generated_at}, results: {checks, metrics: [{name, type,
 *   contains, values}]}}`. Trend values are `avg`, `min`, `med`, `max`, `p90`,
 *   `p95` only; a Rate has `matches`, `total`, `rate`; a Counter only `count`.
 *   It carries NO thresholds: their outcome is only in k6's exit code (99).
 *
 * Both are normalized to {@linkcode RunSummary}, with k6's threshold stat
 * names (`p(95)`, `rate`, `count`...).
 */
import { z } from "zod";
import { ConfigError } from "../errors/mod.ts";

/** k6 metric types. */
export type MetricType = "trend" | "rate" | "counter" | "gauge";

/** One metric: its type and its values keyed by k6 threshold stat names. */
export interface SummaryMetric {
  type: MetricType;
  /** e.g. `{avg, "p(95)"}` for a Trend, `{rate, passes, fails}` for a Rate. */
  values: Record<string, number>;
}

/** A k6 summary in one shape, whatever file format it came from. */
export interface RunSummary {
  /** Metrics by k6 name, including tagged sub-metrics like `a{b:c}`. */
  metrics: Map<string, SummaryMetric>;
  /** Threshold expressions that failed, as `metric: expression`. */
  thresholdsFailed: string[];
  /** Every recorded threshold (`metric: expression`) → whether it failed. */
  thresholds: Map<string, boolean>;
  /** Whether the file records threshold outcomes (v1 files don't). */
  thresholdsRecorded: boolean;
  /** Which file format it was. */
  format: "legacy" | "v1";
  /** The run's duration in seconds, when the file records it (v1). */
  durationSeconds?: number;
  /** k6's version, when the file records it (v1). */
  k6Version?: string;
}

const num = z.number().refine(Number.isFinite);

const LegacyMetricSchema = z.record(
  z.string(),
  z.union([num, z.record(z.string(), z.boolean())]),
);

/** The legacy `--summary-export` JSON (only the parts we read). */
export const LegacySummarySchema = z.looseObject({
  root_group: z.unknown().optional(),
  metrics: z.record(z.string(), LegacyMetricSchema),
});

const V1MetricSchema = z.object({
  name: z.string(),
  type: z.enum(["trend", "rate", "counter", "gauge"]),
  contains: z.string().optional(),
  values: z.record(z.string(), num),
});

/** The machine-readable summary, schema version 1.x (only what we read). */
export const V1SummarySchema = z.looseObject({
  version: z.string().regex(/^1\.\d+\.\d+$/),
  config: z.looseObject({ duration: num.optional() }).optional(),
  metadata: z.looseObject({ k6_version: z.string().optional() }).optional(),
  results: z.looseObject({
    metrics: z.array(V1MetricSchema),
  }),
});

// v1 Trend keys → k6 stat names.
const V1_TREND_KEYS: Record<string, string> = { p90: "p(90)", p95: "p(95)" };

/**
 * Parses summary JSON text of either format.
 *
 * @param file the name used in messages
 * @throws {ConfigError} when the text is not JSON or not a k6 summary.
 */
export function parseSummary(text: string, file: string): RunSummary {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `${file}: is not valid JSON (${
        error instanceof Error ? error.message : error
      })`,
      { cause: error },
    );
  }
  if (raw !== null && typeof raw === "object" && "version" in raw) {
    const parsed = V1SummarySchema.safeParse(raw);
    if (!parsed.success) throw invalid(file, "v1", parsed.error);
    return fromV1(parsed.data);
  }
  const parsed = LegacySummarySchema.safeParse(raw);
  if (!parsed.success) throw invalid(file, "legacy", parsed.error);
  return fromLegacy(parsed.data);
}

/**
 * Reads a summary file of either format.
 * @throws {ConfigError} when it is missing, not JSON or not a k6 summary.
 */
export async function loadSummary(path: string): Promise<RunSummary> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      `${path}: cannot read the k6 summary (${
        error instanceof Deno.errors.NotFound
          ? "no such file; run `deno task perf` first"
          : error instanceof Error
          ? error.message
          : error
      })`,
      { cause: error },
    );
  }
  return parseSummary(text, path);
}

function invalid(file: string, format: string, error: z.ZodError) {
  const issue = error.issues[0]!;
  const where = issue.path.map(String).join(".") || "(top level)";
  return new ConfigError(
    `${file}: is not a k6 ${
      format === "v1"
        ? "machine-readable (v1) summary"
        : "--summary-export summary"
    }: ${where}: ${issue.message}`,
  );
}

function fromLegacy(data: z.infer<typeof LegacySummarySchema>): RunSummary {
  const metrics = new Map<string, SummaryMetric>();
  const thresholds = new Map<string, boolean>();
  for (const [name, entry] of Object.entries(data.metrics)) {
    const values: Record<string, number> = {};
    for (const [key, value] of Object.entries(entry)) {
      if (typeof value === "number") values[key] = value;
      else if (key === "thresholds") {
        // `true` means the threshold FAILED (k6 writes `!ok`).
        for (const [expr, failed] of Object.entries(value)) {
          thresholds.set(`${name}: ${expr}`, failed);
        }
      }
    }
    const type = legacyType(values);
    if (type === "rate") {
      // The legacy export renames a Rate's `rate` to `value`.
      values.rate = values.value ?? 0;
      delete values.value;
    }
    metrics.set(name, { type, values });
  }
  return {
    metrics,
    thresholdsFailed: [...thresholds].filter(([, f]) => f).map(([t]) => t),
    thresholds,
    thresholdsRecorded: true,
    format: "legacy",
  };
}

/** The legacy format has no types: infer them from the value names. */
function legacyType(values: Record<string, number>): MetricType {
  if ("passes" in values && "fails" in values) return "rate";
  if ("count" in values) return "counter";
  if ("value" in values) return "gauge";
  return "trend";
}

function fromV1(data: z.infer<typeof V1SummarySchema>): RunSummary {
  const metrics = new Map<string, SummaryMetric>();
  for (const m of data.results.metrics) {
    const values: Record<string, number> = {};
    if (m.type === "rate") {
      const matches = m.values.matches ?? 0;
      const total = m.values.total ?? 0;
      values.rate = m.values.rate ?? (total ? matches / total : 0);
      values.passes = matches;
      values.fails = total - matches;
    } else {
      for (const [key, value] of Object.entries(m.values)) {
        values[m.type === "trend" ? V1_TREND_KEYS[key] ?? key : key] = value;
      }
    }
    metrics.set(m.name, { type: m.type, values });
  }
  return {
    metrics,
    thresholdsFailed: [],
    thresholds: new Map(),
    thresholdsRecorded: false,
    format: "v1",
    durationSeconds: data.config?.duration,
    k6Version: data.metadata?.k6_version,
  };
}
