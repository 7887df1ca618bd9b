/**
 * `baseline.json`: the reference numbers a run is compared with.
 *
 * The original Python toolkit's format is read unchanged: `metrics` and
 * `tolerances` keyed by five well-known names. A latency key passes while
 * `actual <= baseline × tolerance`; `transcription_success_rate` passes while
 * `actual >= tolerance` (a floor). An optional `definitions` map describes
 * any other key (which k6 metric and stat, and how to compare), so a new
 * metric needs no code change.
 *
 * Every key belongs to one scenario (`--api`): its definition's `scenario`,
 * `native` when absent. A run is judged only on its own scenario's keys. The
 * top-level `environment`, `captured_at` and `distributions` describe the
 * native scenario's recording; `scenarios.<api>` holds another scenario's.
 */
import { z } from "zod";
import { ConfigError } from "../../errors/mod.ts";
import { DistributionsSchema } from "../../verdict/mod.ts";
import { type Api, APIS } from "../scenarios.ts";

/** Stats a definition can read; the names are k6's threshold names. */
export const STATS = [
  "avg",
  "p(95)",
  "p(90)",
  "med",
  "max",
  "min",
  "rate",
  "count",
  "value",
] as const;
/** A stat of a k6 metric. */
export type Stat = typeof STATS[number];

/** How one baseline key is measured and judged. */
export const MetricDefinitionSchema = z.object({
  /** The k6 metric name, e.g. `http_req_duration`. */
  metric: z.string({ error: "must be a k6 metric name" }).min(1, {
    error: "must be a k6 metric name",
  }),
  /** Which of the metric's values. */
  stat: z.enum(STATS, { error: `must be one of ${STATS.join(", ")}` }),
  /** Unit of the value as k6 exports it (built-in times are ms). */
  unit: z.enum(["ms", "s", "ratio", "count"], {
    error: "must be one of ms, s, ratio, count",
  }),
  /** Whether smaller or larger values are better. */
  direction: z.enum(["lower_is_better", "higher_is_better"], {
    error: "must be lower_is_better or higher_is_better",
  }),
  /**
   * `ratio`: the allowed value is baseline × tolerance (tolerance ≥ 1 when
   * lower is better, in (0, 1] when higher is better); `floor`/`ceiling`: the
   * tolerance itself is the lowest/highest allowed value.
   */
  kind: z.enum(["ratio", "floor", "ceiling"], {
    error: "must be ratio, floor or ceiling",
  }),
  /**
   * The scenario whose runs record the metric and are judged on the key.
   * @default "native"
   */
  scenario: z.enum(APIS, { error: `must be one of ${APIS.join(", ")}` })
    .optional(),
  /**
   * The workload (`deno task perf --workload`) whose runs are judged on the
   * key: `sample`, `mixed`, `spec:<name>` or `dir:<name>`.
   * @default "sample"
   */
  workload: z.string({ error: "must be a string" }).min(1).optional(),
});
/** How one baseline key is measured and judged. */
export type MetricDefinition = z.infer<typeof MetricDefinitionSchema>;

/** Definitions of the original toolkit's five keys. */
export const BUILTIN_DEFINITIONS: Readonly<Record<string, MetricDefinition>> = {
  http_req_duration_ms_avg: {
    metric: "http_req_duration",
    stat: "avg",
    unit: "ms",
    direction: "lower_is_better",
    kind: "ratio",
  },
  http_req_duration_ms_p95: {
    metric: "http_req_duration",
    stat: "p(95)",
    unit: "ms",
    direction: "lower_is_better",
    kind: "ratio",
  },
  transcription_latency_seconds_avg: {
    metric: "transcription_latency_seconds",
    stat: "avg",
    unit: "s",
    direction: "lower_is_better",
    kind: "ratio",
  },
  transcription_latency_seconds_p95: {
    metric: "transcription_latency_seconds",
    stat: "p(95)",
    unit: "s",
    direction: "lower_is_better",
    kind: "ratio",
  },
  transcription_success_rate: {
    metric: "transcription_success_rate",
    stat: "rate",
    unit: "ratio",
    direction: "higher_is_better",
    kind: "floor",
  },
};

const finite = (what = "a number") =>
  z.number({ error: `must be ${what}` }).refine(Number.isFinite, {
    error: `must be ${what}`,
  });
const positiveInt = z.number({ error: "must be an integer >= 1" }).int({
  error: "must be an integer >= 1",
}).min(1, { error: "must be an integer >= 1" });

/** Where and how the baseline was captured; unknown fields are kept. */
export const EnvironmentSchema = z.looseObject({
  model: z.string({ error: "must be a model name" }),
  arrival_rate_per_second: finite("a number > 0").refine((n) => n > 0, {
    error: "must be a number > 0",
  }),
  duration_seconds: finite("a number > 0").refine((n) => n > 0, {
    error: "must be a number > 0",
  }),
  worker_concurrency: positiveInt,
  workers: positiveInt.optional(),
  cpu_count: positiveInt.optional(),
  cpu_model: z.string({ error: "must be a string" }).optional(),
  k6_version: z.string({ error: "must be a string" }).optional(),
  deno_version: z.string({ error: "must be a string" }).optional(),
});
/** Where and how the baseline was captured. */
export type Environment = z.infer<typeof EnvironmentSchema>;

/**
 * The recording of a scenario other than native (`scenarios.<api>`): when,
 * where and how its keys' values were captured, and their distributions.
 */
export const ScenarioRecordSchema = z.looseObject({
  description: z.string({ error: "must be a string" }).optional(),
  captured_at: z.string({ error: "must be a string (ISO 8601 time)" })
    .optional(),
  environment: EnvironmentSchema.optional(),
  distributions: DistributionsSchema.optional(),
});
/** The recording of a scenario other than native. */
export type ScenarioRecord = z.infer<typeof ScenarioRecordSchema>;

/** The schema of `baseline.json`. Unknown top-level fields are kept. */
export const BaselineSchema = z.looseObject({
  description: z.string({ error: "must be a string" }),
  captured_at: z.string({ error: "must be a string (ISO 8601 time)" }),
  environment: EnvironmentSchema,
  metrics: z.record(z.string(), finite()),
  tolerances: z.record(z.string(), finite()),
  definitions: z.record(z.string(), MetricDefinitionSchema).optional(),
  /**
   * Extension: per-run quantile sketches and per-key spread across the runs
   * the baseline was recorded from (`baseline:update <repeat group>`). When
   * present, the assert judges ratio keys by a bootstrap interval.
   */
  distributions: DistributionsSchema.optional(),
  /**
   * Extension: the recordings of the scenarios other than native (whose
   * recording is the top level), e.g. `scenarios.openai`.
   */
  scenarios: z.strictObject({ openai: ScenarioRecordSchema.optional() }, {
    error: "may only have the key openai (native is the top level)",
  }).optional(),
});
/** A parsed `baseline.json`. */
export type Baseline = z.infer<typeof BaselineSchema>;

/** One baseline key with everything needed to judge it. */
export interface BaselineEntry {
  /** The key in `metrics`/`tolerances`, e.g. `http_req_duration_ms_p95`. */
  key: string;
  definition: MetricDefinition;
  /** The baseline's value. */
  baseline: number;
  /** The tolerance (a factor for `ratio`, a bound for `floor`/`ceiling`). */
  tolerance: number;
  /** The worst value that still passes. */
  allowed: number;
}

/** The definition of `key`: the baseline's own, else the built-in one. */
export function definitionOf(
  baseline: Pick<Baseline, "definitions">,
  key: string,
): MetricDefinition | undefined {
  return baseline.definitions?.[key] ?? BUILTIN_DEFINITIONS[key];
}

/** The scenario a key's definition belongs to. */
export function scenarioOf(definition: MetricDefinition): Api {
  return definition.scenario ?? "native";
}

/** The workload a key's definition belongs to. */
export function workloadOf(definition: MetricDefinition): string {
  return definition.workload ?? "sample";
}

/**
 * The keys a run of `api` with `workload` is judged on, and the others (the
 * other scenarios' and workloads' keys), each in the file's order.
 */
export function selectEntries(
  entries: readonly BaselineEntry[],
  api: Api,
  workload = "sample",
): { selected: BaselineEntry[]; skipped: BaselineEntry[] } {
  const own = (e: BaselineEntry) =>
    scenarioOf(e.definition) === api && workloadOf(e.definition) === workload;
  const selected = entries.filter(own);
  const skipped = entries.filter((e) => !own(e));
  return { selected, skipped };
}

/**
 * A scenario's recording: native's is the top level; another scenario's is
 * `scenarios.<api>`, whose environment falls back to the top level's (the
 * same machine and settings unless recorded otherwise) but whose
 * distributions never do (they sketch other metrics).
 */
export function scenarioRecord(
  baseline: Baseline,
  api: Api,
): ScenarioRecord & { environment?: Environment } {
  if (api === "native") {
    return {
      description: baseline.description,
      captured_at: baseline.captured_at,
      environment: baseline.environment,
      distributions: baseline.distributions,
    };
  }
  const own = baseline.scenarios?.[api];
  return { ...own, environment: own?.environment ?? baseline.environment };
}

/** The worst value that still passes for `definition`. */
export function allowedValue(
  definition: MetricDefinition,
  baseline: number,
  tolerance: number,
): number {
  return definition.kind === "ratio" ? baseline * tolerance : tolerance;
}

/** Whether `actual` is within `allowed` (inclusive, as k6's thresholds). */
export function withinAllowed(
  definition: MetricDefinition,
  allowed: number,
  actual: number,
): boolean {
  return definition.direction === "lower_is_better"
    ? actual <= allowed
    : actual >= allowed;
}

/**
 * Parses and validates baseline JSON text.
 *
 * @param file the name used in messages, e.g. `baseline.json`
 * @throws {ConfigError} naming the file, the key and what was expected.
 */
export function parseBaseline(text: string, file: string): Baseline {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: is not valid JSON (${errorText(error)})`, {
      cause: error,
    });
  }
  const parsed = BaselineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map(String).join(".") || "(top level)";
    const message = valueAt(raw, issue.path) === undefined
      ? `is missing (${issue.message})`
      : issue.message;
    throw new ConfigError(`${file}: ${where} ${message}`);
  }
  entriesOf(parsed.data, file); // cross-field checks
  return parsed.data;
}

/**
 * Reads and validates a baseline file.
 * @throws {ConfigError} when it is missing, not JSON or invalid.
 */
export async function loadBaseline(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      `${path}: cannot read the baseline (${
        error instanceof Deno.errors.NotFound
          ? "no such file"
          : errorText(error)
      })`,
      { cause: error },
    );
  }
  return parseBaseline(text, path);
}

/**
 * Every key of the baseline with its definition, tolerance and allowed
 * value, in the file's order.
 *
 * @throws {ConfigError} when a key lacks a tolerance or definition, or a
 *   tolerance doesn't fit its kind.
 */
export function entriesOf(baseline: Baseline, file: string): BaselineEntry[] {
  const entries: BaselineEntry[] = [];
  if (Object.keys(baseline.metrics).length === 0) {
    throw new ConfigError(`${file}: metrics must have at least one key`);
  }
  for (const [key, value] of Object.entries(baseline.metrics)) {
    const definition = definitionOf(baseline, key);
    if (!definition) {
      throw new ConfigError(
        `${file}: metrics.${key} has no built-in definition; add ` +
          `definitions.${key} {metric, stat, unit, direction, kind}`,
      );
    }
    const expected = { floor: "higher_is_better", ceiling: "lower_is_better" }[
      definition.kind as "floor" | "ceiling"
    ];
    if (expected && definition.direction !== expected) {
      throw new ConfigError(
        `${file}: definitions.${key}.direction must be ${expected} for kind ${definition.kind}`,
      );
    }
    const tolerance = baseline.tolerances[key];
    if (tolerance === undefined) {
      throw new ConfigError(`${file}: tolerances.${key} is missing`);
    }
    const bad = toleranceProblem(definition, tolerance);
    if (bad) throw new ConfigError(`${file}: tolerances.${key} ${bad}`);
    if (definition.kind === "ratio" && !(value > 0)) {
      throw new ConfigError(`${file}: metrics.${key} must be a number > 0`);
    }
    entries.push({
      key,
      definition,
      baseline: value,
      tolerance,
      allowed: allowedValue(definition, value, tolerance),
    });
  }
  for (const key of Object.keys(baseline.tolerances)) {
    if (!(key in baseline.metrics)) {
      throw new ConfigError(
        `${file}: tolerances.${key} has no matching metrics.${key}`,
      );
    }
  }
  return entries;
}

function toleranceProblem(
  d: MetricDefinition,
  t: number,
): string | undefined {
  if (d.kind === "ratio") {
    if (d.direction === "lower_is_better") {
      return t >= 1 ? undefined : "must be a number >= 1";
    }
    return t > 0 && t <= 1 ? undefined : "must be a number in (0, 1]";
  }
  if (d.unit === "ratio" && (t < 0 || t > 1)) {
    return "must be a number in [0, 1]";
  }
  return undefined;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let at = raw;
  for (const key of path) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The k6 threshold expression the scenario derives for `entry`, e.g.
 * `p(95)<=5040` (perf/transcription_scenario.js builds the same string).
 */
export function thresholdExpression(entry: BaselineEntry): string {
  const op = entry.definition.direction === "lower_is_better" ? "<=" : ">=";
  return `${entry.definition.stat}${op}${entry.allowed}`;
}
