/**
 * k6 scenario `workload_mix`: users arrive at a constant rate; iteration n
 * uploads the audio of class `cycle[n % cycle.length]` (classes by weight,
 * perf/lib/workload.js) with the chunked upload protocol, polls its job
 * until it has a transcript, and measures the transcript's word error rate
 * against the class's known text. Every metric sample carries the tag
 * `class`, and per-class thresholds that always hold make k6 export each
 * class's submetrics (`transcription_latency_seconds{class:2min}`).
 *
 * `deno task perf --workload mixed|SPEC.json|DIR` builds the audio and the
 * manifest first (src/perf/workload/) and runs this script; the default
 * workload (`sample`) runs perf/transcription_scenario.js unchanged.
 *
 * Environment: the variables of lib/env.js and of
 * transcription_scenario.js (POLL_INTERVAL, MAX_POLLS, LONG_POLL), and
 * - WORKLOAD  the manifest (workload.json) to run (required)
 * A class's polling budget grows with its audio (lib/workload.js pollBudget).
 */
import exec from "k6/execution";
import { check } from "k6";
import { Trend } from "k6/metrics";
import {
  arrival,
  arrivalEnv,
  numberEnv,
  SUMMARY_TREND_STATS,
} from "./lib/env.js";
import { baselineThresholds, runThresholds } from "./lib/thresholds.js";
import { nativeMetrics, submitAndPoll } from "./lib/jobs.js";
import {
  classThresholds,
  mergeThresholds,
  pollBudget,
  weightedCycle,
  wordErrorRate,
} from "./lib/workload.js";

// ---------------------------------------------------------------- config

const ENV = arrivalEnv();
const BASE_URL = ENV.baseUrl;
const POLL_INTERVAL = numberEnv("POLL_INTERVAL", 1, { min: 0 });
const MAX_POLLS = numberEnv("MAX_POLLS", 40, { min: 1, integer: true });
if (![undefined, "", "0", "1"].includes(__ENV.LONG_POLL)) {
  throw new Error(`LONG_POLL must be 0 or 1, got "${__ENV.LONG_POLL}"`);
}
const LONG_POLL = __ENV.LONG_POLL === "1";
// The server caps `?wait=` at 30 s.
const LONG_POLL_WAIT_S = Math.max(1, Math.min(30, Math.ceil(POLL_INTERVAL)));
const POLL_SECONDS = LONG_POLL ? LONG_POLL_WAIT_S : POLL_INTERVAL;

if (!__ENV.WORKLOAD) {
  throw new Error("WORKLOAD must name a workload manifest (workload.json)");
}
const MANIFEST = JSON.parse(open(__ENV.WORKLOAD));
const CLASSES = MANIFEST.classes.map((c) =>
  Object.assign({}, c, {
    maxPolls: pollBudget(MAX_POLLS, POLL_SECONDS, c.duration_s),
  })
);
const CYCLE = weightedCycle(CLASSES.map((c) => c.weight));
// Every VU holds each class's bytes (binary data can't be shared).
const AUDIO = CLASSES.map((c) => open(c.audio, "b"));

// ---------------------------------------------------------------- metrics

// As in transcription_scenario.js, each sample tagged with its class;
// accurate = a word error rate at most the class's max_wer.
const METRICS = nativeMetrics();
/** Word error rate of each completed job with a known text (0..1+). */
const wordErrors = new Trend("transcription_word_error_rate");

export const options = {
  scenarios: {
    workload_mix: arrival(
      ENV,
      `${
        Math.ceil(
          Math.max(...CLASSES.map((c) => c.maxPolls)) * POLL_SECONDS,
        ) + 30
      }s`,
    ),
  },
  thresholds: mergeThresholds(
    runThresholds(() =>
      baselineThresholds(
        () => open(ENV.baselinePath),
        ENV.baselinePath,
        "native",
        MANIFEST.id,
      )
    ),
    classThresholds(CLASSES.map((c) => c.name)),
  ),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// ---------------------------------------------------------------- iteration

const HEADERS = { "X-User-ID": ENV.userId };

export default function () {
  const index = CYCLE[exec.scenario.iterationInTest % CYCLE.length];
  const c = CLASSES[index];
  const tags = { class: c.name };
  const job = submitAndPoll(BASE_URL, HEADERS, METRICS, {
    filename: c.filename,
    bytes: AUDIO[index],
    model: ENV.model,
  }, {
    longPoll: LONG_POLL,
    waitS: LONG_POLL_WAIT_S,
    interval: POLL_INTERVAL,
    maxPolls: c.maxPolls,
    budgetCheck: "job completed within its polling budget",
  }, tags);
  if (!job || c.text === null) return;
  const wer = wordErrorRate(c.text, job.transcript);
  wordErrors.add(wer, tags);
  const accurate = wer <= c.max_wer;
  METRICS.transcriptionAccuracy.add(accurate, tags);
  check(job, { "transcript within max_wer": () => accurate }, tags);
}
