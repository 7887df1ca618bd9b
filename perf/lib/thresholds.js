/**
 * k6 thresholds derived from baseline.json exactly as `deno task assert`
 * evaluates it (src/perf/baseline/baseline.ts), so k6's verdict and the
 * assert agree — from the keys of one scenario only, as the assert judges a
 * run only on its own scenario's keys. No k6 imports: the scenario script
 * passes the reading (its `open`, so a relative BASELINE resolves against
 * the script's folder).
 */

// Built-in definitions of the Python toolkit's baseline keys; a baseline's
// `definitions` map adds or overrides keys (same rules as baseline.ts).
const BUILTIN_DEFINITIONS = {
  http_req_duration_ms_avg: {
    metric: "http_req_duration",
    stat: "avg",
    kind: "ratio",
    direction: "lower_is_better",
  },
  http_req_duration_ms_p95: {
    metric: "http_req_duration",
    stat: "p(95)",
    kind: "ratio",
    direction: "lower_is_better",
  },
  transcription_latency_seconds_avg: {
    metric: "transcription_latency_seconds",
    stat: "avg",
    kind: "ratio",
    direction: "lower_is_better",
  },
  transcription_latency_seconds_p95: {
    metric: "transcription_latency_seconds",
    stat: "p(95)",
    kind: "ratio",
    direction: "lower_is_better",
  },
  transcription_success_rate: {
    metric: "transcription_success_rate",
    stat: "rate",
    kind: "floor",
    direction: "higher_is_better",
  },
};

/**
 * The thresholds of `scenario`'s baseline keys (a key's definition names its
 * `scenario`, native when it doesn't), plus the two that always apply:
 * every planned iteration must start, and HTTP must not fail.
 *
 * @param {() => string} read returns the baseline file's content
 * @param {string} path the baseline's path, for messages
 * @param {string} scenario `native` or `openai`
 * @param {string} [workload] the run's workload (`--workload`): a key's
 *   definition names its `workload`, `sample` when it doesn't
 * @returns {Record<string, string[]>}
 */
export function baselineThresholds(read, path, scenario, workload = "sample") {
  let baseline;
  try {
    baseline = JSON.parse(read());
  } catch (e) {
    throw new Error(`BASELINE: cannot read "${path}" as JSON: ${e}`);
  }
  const metrics = baseline.metrics || {};
  const tolerances = baseline.tolerances || {};
  const definitions = Object.assign(
    {},
    BUILTIN_DEFINITIONS,
    baseline.definitions || {},
  );
  const out = {};
  for (const key of Object.keys(metrics)) {
    const def = definitions[key];
    const value = metrics[key];
    const tol = tolerances[key];
    if (!def) throw new Error(`${path}: metrics.${key} has no definition`);
    if ((def.scenario || "native") !== scenario) continue;
    if ((def.workload || "sample") !== workload) continue;
    if (typeof value !== "number" || typeof tol !== "number") {
      throw new Error(
        `${path}: metrics.${key} and tolerances.${key} must be numbers`,
      );
    }
    const higher = def.direction === "higher_is_better";
    const allowed = def.kind === "ratio" ? value * tol : tol;
    // Inclusive on both sides, like the assert.
    const expr = `${def.stat}${higher ? ">=" : "<="}${allowed}`;
    (out[def.metric] = out[def.metric] || []).push(expr);
  }
  out.dropped_iterations = (out.dropped_iterations || []).concat("count<1");
  out.http_req_failed = (out.http_req_failed || []).concat("rate<0.02");
  return out;
}

/**
 * The run's k6 thresholds: `build()`'s unless `THRESHOLDS=none` (profiles
 * other than load judge the run themselves, src/perf/profiles/).
 *
 * @param {() => Record<string, string[]>} build
 */
export function runThresholds(build) {
  const mode = __ENV.THRESHOLDS || "baseline";
  if (mode === "none") return {};
  if (mode !== "baseline") {
    throw new Error(`THRESHOLDS must be baseline or none, got "${mode}"`);
  }
  return build();
}
