/**
 * Comparing a k6 run with `baseline.json`: one verdict per baseline key, the
 * k6 thresholds recorded in the summary, a check that the run is complete
 * and comparable, and the reports (plain table, GitHub annotations and
 * step-summary markdown).
 */
import { ConfigError } from "../../errors/mod.ts";
import {
  type Baseline,
  type BaselineEntry,
  entriesOf,
  type MetricDefinition,
  scenarioOf,
  scenarioRecord,
  selectEntries,
  thresholdExpression,
  withinAllowed,
  workloadOf,
} from "./baseline.ts";
import {
  type Api,
  apiOfRun,
  type RunApi,
  scenarioLabel,
} from "../scenarios.ts";
import type { Distributions } from "../../verdict/mod.ts";
import {
  ratioInterval,
  type RunSamples,
  runsFromDistributions,
  statForK6,
} from "../../verdict/mod.ts";
import type { RunMetadata } from "../run_metadata.ts";
import type { RunSummary } from "../summary.ts";

/**
 * The summary can't be judged because the run did not finish (interrupted,
 * aborted, far fewer iterations than planned). Exit 2, never a pass.
 */
export class IncompleteRunError extends ConfigError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IncompleteRunError";
  }
}

/** One baseline key judged against the run. */
export interface KeyResult extends BaselineEntry {
  /** The run's value; NaN when the metric recorded no samples. */
  actual: number;
  /**
   * Headroom relative to the allowed value: positive is inside the limit
   * (0.25 = 25 % to spare), negative is over it. NaN when not computable.
   */
  margin: number;
  pass: boolean;
  /** Why it failed other than by value, e.g. "no samples". */
  note?: string;
  /**
   * Set when the key was judged by interval (the baseline has distributions
   * and the run has samples): the bootstrap interval of run/baseline.
   */
  interval?: { ratio: number; lo: number; hi: number; confidence: number };
}

/** A baseline key not judged because it belongs to another scenario. */
export interface SkippedKey {
  key: string;
  /** The scenario it belongs to. */
  scenario: Api;
  /** The workload it belongs to (`sample` unless its definition says). */
  workload: string;
}

/** The whole verdict. */
export interface AssertResult {
  verdict: "pass" | "regression";
  /** The scenario the run ran, and how that was decided. */
  scenario: RunApi;
  /** The keys of the run's scenario, judged. */
  keys: KeyResult[];
  /** The other scenarios' keys, not judged. */
  skipped: SkippedKey[];
  /** k6 thresholds that failed (`metric: expression`). */
  thresholdsFailed: string[];
  /** Environment differences and other things worth a look. */
  warnings: string[];
  /**
   * Whether this verdict accounts for k6's thresholds (the summary records
   * them, or k6's exit code is known), so a pass overrides k6's exit 99.
   */
  thresholdsCovered: boolean;
}

/** Everything {@linkcode evaluateRun} needs. */
export interface EvaluateInput {
  summary: RunSummary;
  /** The summary's path, for messages. */
  summaryFile: string;
  baseline: Baseline;
  /** The baseline's path, for messages. */
  baselineFile: string;
  /** `metadata.json` beside the summary, when there is one. */
  metadata?: RunMetadata;
  /** The metadata's path, for messages. */
  metadataFile?: string;
  /**
   * The run's raw samples. With a baseline that has `distributions`, ratio
   * keys are judged by a bootstrap interval instead of the single value.
   */
  samples?: RunSamples;
  /** Interval confidence. @default 0.95 */
  confidence?: number;
  /**
   * The scenario the run ran. @default from the metadata's `api`, else the
   * summary's metrics ({@linkcode apiOfRun})
   */
  scenario?: RunApi;
}

/** Fraction of the planned iterations a complete run must have started. */
export const MIN_STARTED_FRACTION = 0.9;

// k6 exit codes that mean the run did not run to its end
// (errext/exitcodes/codes.go).
const ABORTED_EXIT_CODES: Record<number, string> = {
  103: "script stopped from the REST API",
  105: "aborted by a signal (Ctrl-C)",
  107: "script exception",
  108: "test.abort() called",
  109: "k6 panicked",
};
const THRESHOLDS_FAILED_EXIT_CODE = 99;

/**
 * Judges the run against the baseline.
 *
 * @throws {IncompleteRunError} when the run did not finish.
 * @throws {ConfigError} when a metric a baseline key needs is absent.
 */
export function evaluateRun(input: EvaluateInput): AssertResult {
  const { summary, summaryFile, baseline, baselineFile, metadata } = input;
  const scenario = input.scenario ?? apiOfRun(summary, metadata);
  const workload = scenario.workload ?? "sample";
  const { selected, skipped } = selectEntries(
    entriesOf(baseline, baselineFile),
    scenario.api,
    workload,
  );
  if (selected.length === 0) {
    throw new ConfigError(
      `${baselineFile}: has no keys for the ${
        scenarioLabel(scenario.api, workload)
      } scenario (the run's, from ${scenario.from}); add them (definitions with ` +
        `"scenario": "${scenario.api}"${
          workload === "sample" ? "" : `, "workload": "${workload}"`
        }, metrics, tolerances), then record ` +
        `their values with deno task baseline:update`,
    );
  }
  checkComplete(input);
  // A workload's keys have no recording of their own: the environment is
  // the scenario's, and the scenario's distributions (which sketch the
  // sample's traffic) never judge them.
  const record = workload === "sample"
    ? scenarioRecord(baseline, scenario.api)
    : { environment: scenarioRecord(baseline, scenario.api).environment };

  const keys = selected.map((entry) => {
    const k = judge(entry, summary, summaryFile);
    return k.note ? k : judgeByInterval(k, {
      distributions: record.distributions,
      samples: input.samples,
      confidence: input.confidence,
    }) ?? k;
  });
  // The recording's rate and duration are the sample traffic's: a workload
  // run is compared on the machine and the stack only.
  const warnings = environmentWarnings(
    record.environment,
    metadata,
    input,
    workload === "sample" ? COMPARED_FIELDS : MACHINE_FIELDS,
  );
  // A key judged by interval supersedes k6's point threshold on it.
  const byInterval = new Set(
    keys.filter((k) => k.interval && k.pass).map((k) =>
      `${k.definition.metric}: ${thresholdExpression(k)}`
    ),
  );
  // The summary's thresholds were derived when the run was made, from the
  // baseline it ran with; judged against another baseline, a threshold on
  // a metric that baseline's keys address is not this baseline's to count.
  const own = new Set(
    keys.map((k) => `${k.definition.metric}: ${thresholdExpression(k)}`),
  );
  const ownMetrics = new Set(keys.map((k) => k.definition.metric));
  const thresholdsFailed: string[] = [];
  for (const t of summary.thresholdsFailed) {
    const metric = t.slice(0, t.indexOf(":"));
    if (byInterval.has(t)) {
      warnings.push(
        `k6 threshold ${t} failed on the point value, but the key's interval is within tolerance`,
      );
    } else if (ownMetrics.has(metric) && !own.has(t)) {
      warnings.push(
        `k6 threshold ${t} came from the baseline the run was made with, not ${baselineFile}; ignored (its keys judge ${metric})`,
      );
    } else thresholdsFailed.push(t);
  }
  if (record.distributions && !input.samples) {
    warnings.push(
      `${baselineFile} has distributions but the run has no samples; judged by single values`,
    );
  }
  if (
    !summary.thresholdsRecorded &&
    metadata?.k6_exit_code === THRESHOLDS_FAILED_EXIT_CODE
  ) {
    thresholdsFailed.push(
      "k6 exited with 99 (thresholds failed); a v1 summary doesn't say which",
    );
  } else if (
    !summary.thresholdsRecorded && metadata?.k6_exit_code === undefined
  ) {
    warnings.push(
      `${summaryFile}: a machine-readable (v1) summary records no threshold ` +
        `outcomes and no k6 exit code is known; only the baseline keys were judged`,
    );
  }
  const pass = keys.every((k) => k.pass) && thresholdsFailed.length === 0;
  return {
    verdict: pass ? "pass" : "regression",
    scenario,
    keys,
    skipped: skipped.map((e) => ({
      key: e.key,
      scenario: scenarioOf(e.definition),
      workload: workloadOf(e.definition),
    })),
    thresholdsFailed,
    warnings,
    thresholdsCovered: summary.thresholdsRecorded ||
      metadata?.k6_exit_code !== undefined,
  };
}

/**
 * Judges a ratio key by the bootstrap interval of run/baseline, resampling
 * the baseline's runs from their quantile sketches and the run's raw
 * samples. Lower is better: a regression only when the whole interval lies
 * above the tolerance; higher is better: only when it lies below it.
 * Undefined when the key can't be judged this way (kind floor/ceiling, a
 * stat without a bootstrap statistic, no distribution or no samples).
 */
export function judgeByInterval(
  k: KeyResult,
  input: Pick<EvaluateInput, "samples" | "confidence"> & {
    /** The distributions of the key's scenario. */
    distributions?: Distributions;
  },
): KeyResult | undefined {
  const d = input.distributions;
  const { metric, stat, kind, direction } = k.definition;
  const s = statForK6(stat);
  const sketches = d?.metrics[metric];
  const run = input.samples?.get(metric);
  if (!d || !s || kind !== "ratio" || !sketches || !run?.length) return;
  const baselineRuns = runsFromDistributions({
    ...d,
    metrics: { [metric]: sketches },
  })
    .map((r) => r.get(metric)!);
  const confidence = input.confidence ?? 0.95;
  const iv = ratioInterval(baselineRuns, [run], s, {
    confidence,
    resamples: 1000,
  });
  const lower = direction === "lower_is_better";
  const pass = lower ? iv.lo <= k.tolerance : iv.hi >= k.tolerance;
  return {
    ...k,
    pass,
    margin: lower
      ? (k.tolerance - iv.lo) / k.tolerance
      : (iv.hi - k.tolerance) / k.tolerance,
    interval: { ratio: iv.ratio, lo: iv.lo, hi: iv.hi, confidence },
  };
}

function judge(
  entry: BaselineEntry,
  summary: RunSummary,
  file: string,
): KeyResult {
  const { metric, stat } = entry.definition;
  const m = summary.metrics.get(metric);
  if (!m) {
    throw new ConfigError(
      `${file}: metric "${metric}" (needed by baseline key ${entry.key}) is ` +
        `missing; the scenario must define it and the run must record it`,
    );
  }
  const actual = m.values[stat];
  if (actual === undefined) {
    throw new ConfigError(
      `${file}: metric "${metric}" has no "${stat}" value (needed by ` +
        `baseline key ${entry.key}); it has ${
          Object.keys(m.values).join(", ")
        }`,
    );
  }
  // k6 exports a Trend that has a threshold but no samples as all zeros.
  if (m.type === "trend" && Object.values(m.values).every((v) => v === 0)) {
    return {
      ...entry,
      actual: NaN,
      margin: NaN,
      pass: false,
      note: "no samples",
    };
  }
  return {
    ...entry,
    actual,
    margin: margin(entry.definition, entry.allowed, actual),
    pass: withinAllowed(entry.definition, entry.allowed, actual),
  };
}

function margin(d: MetricDefinition, allowed: number, actual: number): number {
  if (allowed === 0) return NaN;
  return d.direction === "lower_is_better"
    ? (allowed - actual) / Math.abs(allowed)
    : (actual - allowed) / Math.abs(allowed);
}

/**
 * Throws {@linkcode IncompleteRunError} when the summary comes from a run
 * that did not finish: no iterations at all, metadata saying it was
 * interrupted or aborted, a v1 run shorter than planned, or far fewer
 * iterations (completed + dropped) than rate × duration.
 */
export function checkComplete(input: EvaluateInput): void {
  const { summary, summaryFile, metadata } = input;
  const metaFile = input.metadataFile ?? "metadata.json";
  const iterations = summary.metrics.get("iterations")?.values.count;
  if (iterations === undefined || iterations === 0) {
    throw new IncompleteRunError(
      `${summaryFile}: no iteration completed (metric "iterations" is ${
        iterations === undefined ? "missing" : "0"
      }); the run was interrupted or never reached the service`,
    );
  }
  if (!metadata) return;
  if (metadata.interrupted) {
    throw new IncompleteRunError(
      `${metaFile}: the run was interrupted; its summary can't be judged`,
    );
  }
  const code = metadata.k6_exit_code;
  if (code !== undefined && code in ABORTED_EXIT_CODES) {
    throw new IncompleteRunError(
      `${metaFile}: k6 exited with ${code} (${
        ABORTED_EXIT_CODES[code]
      }); the run did not finish`,
    );
  }
  const rate = metadata.arrival_rate_per_second;
  const duration = metadata.duration_seconds;
  if (
    summary.durationSeconds !== undefined && duration !== undefined &&
    summary.durationSeconds < duration * MIN_STARTED_FRACTION
  ) {
    throw new IncompleteRunError(
      `${summaryFile}: the run lasted ${
        summary.durationSeconds.toFixed(1)
      } s of the planned ${duration} s (${metaFile}); it was interrupted`,
    );
  }
  if (rate !== undefined && duration !== undefined) {
    const planned = rate * duration;
    const dropped = summary.metrics.get("dropped_iterations")?.values.count ??
      0;
    const started = iterations + dropped;
    if (started < planned * MIN_STARTED_FRACTION) {
      throw new IncompleteRunError(
        `${summaryFile}: ${started} iterations (${iterations} completed + ${dropped} dropped) ` +
          `of the ${planned} planned by ${metaFile} (${rate}/s × ${duration} s); ` +
          `the run was interrupted`,
      );
    }
  }
}

/** Run environment fields a summary is compared on with its baseline. */
export const COMPARED_FIELDS = [
  "model",
  "arrival_rate_per_second",
  "duration_seconds",
  "worker_concurrency",
  "workers",
  "cpu_count",
  "cpu_model",
  "k6_version",
] as const;

/** The fields of {@linkcode COMPARED_FIELDS} that aren't the traffic's. */
const MACHINE_FIELDS = COMPARED_FIELDS.filter((f) =>
  f !== "arrival_rate_per_second" && f !== "duration_seconds"
);

function environmentWarnings(
  environment: Baseline["environment"] | undefined,
  metadata: RunMetadata | undefined,
  input: EvaluateInput,
  fields: readonly (typeof COMPARED_FIELDS)[number][],
): string[] {
  if (!metadata) {
    return [
      `no metadata.json beside ${input.summaryFile}: the run's environment ` +
      `can't be compared with the baseline's, nor its completeness verified`,
    ];
  }
  const env = (environment ?? {}) as Record<string, unknown>;
  const run = metadata as Record<string, unknown>;
  const diffs: string[] = [];
  for (const field of fields) {
    if (env[field] === undefined || run[field] === undefined) continue;
    if (env[field] !== run[field]) {
      diffs.push(
        `${field}: baseline ${JSON.stringify(env[field])}, run ${
          JSON.stringify(run[field])
        }`,
      );
    }
  }
  return diffs.length
    ? [
      `the run's environment differs from the baseline's (${
        diffs.join("; ")
      }); the comparison may not be like for like`,
    ]
    : [];
}

// ---------------------------------------------------------------- reports

/** Formats a value in its unit, e.g. `1850 ms`, `46.5 s`, `98.0%`. */
export function formatValue(value: number, unit: MetricDefinition["unit"]) {
  if (Number.isNaN(value)) return "n/a";
  switch (unit) {
    case "ratio":
      return `${(value * 100).toFixed(1)}%`;
    case "count":
      return String(Math.round(value * 100) / 100);
    default:
      return `${Number(value.toPrecision(4))} ${unit}`;
  }
}

/** A key's headroom, e.g. `+12.5%`, or why there is none. */
export function formatMargin(k: KeyResult): string {
  if (Number.isNaN(k.margin)) return k.note ?? "n/a";
  return `${k.margin >= 0 ? "+" : ""}${(k.margin * 100).toFixed(1)}%`;
}

/** What a key allows, e.g. `≤ 1.2 s` or `≤ +20% (interval)`. */
export function allowedText(k: KeyResult): string {
  const op = k.definition.direction === "lower_is_better" ? "≤" : "≥";
  if (k.interval) {
    return `${op} ${((k.tolerance - 1) * 100 >= 0 ? "+" : "")}${
      ((k.tolerance - 1) * 100).toFixed(0)
    }% (interval)`;
  }
  return `${op} ${formatValue(k.allowed, k.definition.unit)}`;
}

/** A key's change and its interval, e.g. `+2.2% [+1.4%, +3.3%]`; `—` without one. */
export function intervalText(k: KeyResult): string {
  if (!k.interval) return "—";
  const p = (r: number) => `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(1)}%`;
  return `${p(k.interval.ratio)} [${p(k.interval.lo)}, ${p(k.interval.hi)}]`;
}

function withIntervals(result: AssertResult): boolean {
  return result.keys.some((k) => k.interval);
}

function rows(result: AssertResult): string[][] {
  const iv = withIntervals(result);
  return result.keys.map((k) => [
    k.key,
    formatValue(k.baseline, k.definition.unit),
    allowedText(k),
    formatValue(k.actual, k.definition.unit),
    formatMargin(k),
    ...(iv ? [intervalText(k)] : []),
    k.pass ? "PASS" : "FAIL",
  ]);
}

const HEADER = ["metric", "baseline", "allowed", "actual", "margin", "result"];
const HEADER_IV = [
  "metric",
  "baseline",
  "allowed",
  "actual",
  "margin",
  "change [interval]",
  "result",
];

function header(result: AssertResult): string[] {
  return withIntervals(result) ? HEADER_IV : HEADER;
}

/** A plain-text table of the verdict, one row per baseline key. */
export function renderTable(result: AssertResult): string {
  const HEAD = header(result);
  const table = [HEAD, ...rows(result)];
  const widths = HEAD.map((_, i) =>
    Math.max(...table.map((r) => r[i]!.length))
  );
  const line = (r: string[]) =>
    r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [line(table[0]!), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const r of table.slice(1)) out.push(line(r));
  for (const t of result.thresholdsFailed) {
    out.push(`k6 threshold failed: ${t}`);
  }
  const skipped = skippedText(result);
  if (skipped) out.push(skipped);
  out.push(
    result.verdict === "pass"
      ? "verdict: PASS"
      : `verdict: REGRESSION (${
        result.keys.filter((k) => !k.pass).length
      } key(s) failed, ${result.thresholdsFailed.length} k6 threshold(s) failed)`,
  );
  return out.join("\n");
}

/**
 * Which keys were not judged and why, e.g. `skipped 7 keys of the native
 * scenario (this run is openai, from metadata.json (api)): a, b, …`;
 * undefined when none were.
 */
export function skippedText(result: AssertResult): string | undefined {
  if (result.skipped.length === 0) return undefined;
  const byScenario = new Map<string, string[]>();
  for (const s of result.skipped) {
    const label = scenarioLabel(s.scenario, s.workload);
    byScenario.set(label, [...byScenario.get(label) ?? [], s.key]);
  }
  return [...byScenario].map(([scenario, keys]) =>
    `skipped ${keys.length} key(s) of the ${scenario} scenario (this run ` +
    `is ${
      scenarioLabel(result.scenario.api, result.scenario.workload)
    }, from ${result.scenario.from}): ${keys.join(", ")}`
  ).join("\n");
}

/** The verdict as a GitHub step-summary markdown section. */
export function renderMarkdown(result: AssertResult): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const out = [
    `### Performance vs baseline: ${
      result.verdict === "pass" ? "✅ pass" : "❌ regression"
    }`,
    "",
    `| ${header(result).join(" | ")} |`,
    `| ${header(result).map(() => "---").join(" | ")} |`,
    ...rows(result).map((r) => `| ${r.map(esc).join(" | ")} |`),
  ];
  if (result.thresholdsFailed.length) {
    out.push("", "k6 thresholds failed:", "");
    for (const t of result.thresholdsFailed) out.push(`- \`${t}\``);
  }
  const skipped = skippedText(result);
  if (skipped) out.push("", esc(skipped));
  if (result.warnings.length) {
    out.push("");
    for (const w of result.warnings) out.push(`> ⚠️ ${esc(w)}`);
  }
  return out.join("\n") + "\n";
}

/** GitHub Actions workflow commands (`::error::`, `::warning::`). */
export function githubAnnotations(result: AssertResult): string[] {
  const clean = (s: string) =>
    s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
  const out: string[] = [];
  for (const k of result.keys.filter((k) => !k.pass)) {
    out.push(
      `::error title=Performance regression::${
        clean(
          `${k.key}: ${
            k.note ?? formatValue(k.actual, k.definition.unit)
          }, allowed ${allowedText(k)} (baseline ${
            formatValue(k.baseline, k.definition.unit)
          })`,
        )
      }`,
    );
  }
  for (const t of result.thresholdsFailed) {
    out.push(`::error title=k6 threshold failed::${clean(t)}`);
  }
  for (const w of result.warnings) {
    out.push(`::warning title=Performance baseline::${clean(w)}`);
  }
  return out;
}
