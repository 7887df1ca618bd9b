/**
 * The workload scenario's pure parts (no k6 imports, so the Deno tests
 * import them too): which class an iteration runs, the polling budget of a
 * class, a transcript's word error rate, and the per-class thresholds that
 * make k6 export every class's submetrics.
 */
import { words } from "./words.js";

/**
 * The order of one cycle of classes, by weight: smooth weighted round
 * robin, so each class appears `weight` times per cycle of sum(weights)
 * iterations, spread evenly (a rare class is not bunched up). Iteration n
 * runs class `cycle[n % cycle.length]`.
 * @param {readonly number[]} weights positive integers
 * @returns {number[]} class indices
 */
export function weightedCycle(weights) {
  if (
    weights.length === 0 ||
    weights.some((w) => !Number.isInteger(w) || w <= 0)
  ) {
    throw new Error(
      `weights must be positive integers, got ${JSON.stringify(weights)}`,
    );
  }
  const total = weights.reduce((s, w) => s + w, 0);
  const current = weights.map(() => 0);
  const out = [];
  for (let n = 0; n < total; n++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    out.push(best);
  }
  return out;
}

/**
 * Polls a class may take before its iteration gives up: the scenario's
 * MAX_POLLS plus one poll per 0.1 s of audio per second of interval, so an
 * 8-minute recording (~15 s of processing on 3 workers, more behind a
 * queue) gets 48 s more than a 1-second one.
 * @param {number} maxPolls
 * @param {number} pollSeconds seconds one poll takes at most
 * @param {number} durationS seconds of audio
 */
export function pollBudget(maxPolls, pollSeconds, durationS) {
  const per = pollSeconds > 0 ? pollSeconds : 1;
  return maxPolls + Math.ceil((0.1 * durationS) / per);
}

/**
 * Word error rate of `hypothesis` against `reference` (lower-case words
 * without punctuation): (substitutions + deletions + insertions) ÷
 * reference words. 0 for an empty reference with an empty hypothesis.
 * @param {unknown} reference
 * @param {unknown} hypothesis
 */
export function wordErrorRate(reference, hypothesis) {
  const ref = words(reference);
  const hyp = words(hypothesis);
  if (ref.length === 0) return hyp.length === 0 ? 0 : 1;
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      row.push(Math.min(
        prev[j] + 1,
        row[j - 1] + 1,
        prev[j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1),
      ));
    }
    prev = row;
  }
  return prev[hyp.length] / ref.length;
}

/** The workload scenario's metrics: Trends, then Rates. */
export const CLASS_TRENDS = [
  "transcription_latency_seconds",
  "server_queue_wait_ms",
  "server_processing_ms",
  "upload_duration_ms",
  "transcription_word_error_rate",
];
export const CLASS_RATES = [
  "transcription_success_rate",
  "transcription_accuracy",
];

/**
 * One threshold per class and metric that always holds (`max>=0`,
 * `rate>=0`): k6 exports a submetric such as
 * `transcription_latency_seconds{class:2min}` only when a threshold names
 * it, and these never fail a run.
 * @param {readonly string[]} names the class names
 * @returns {Record<string, string[]>}
 */
export function classThresholds(names) {
  const out = {};
  for (const name of names) {
    for (const m of CLASS_TRENDS) out[`${m}{class:${name}}`] = ["max>=0"];
    for (const m of CLASS_RATES) out[`${m}{class:${name}}`] = ["rate>=0"];
  }
  return out;
}

/**
 * Adds `extra` thresholds to `base` (a metric in both keeps both lists).
 * @param {Record<string, string[]>} base
 * @param {Record<string, string[]>} extra
 */
export function mergeThresholds(base, extra) {
  const out = Object.assign({}, base);
  for (const [k, v] of Object.entries(extra)) out[k] = (out[k] || []).concat(v);
  return out;
}
