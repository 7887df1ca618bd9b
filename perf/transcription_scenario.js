/**
 * k6 scenario `submit_and_poll`: users arrive at a constant rate, upload the
 * committed one-second sample with the chunked upload protocol, then poll
 * their job until it has a transcript.
 *
 * Run: `k6 run --summary-export perf/results/latest.json perf/transcription_scenario.js`
 *
 * Environment (all optional): the variables of lib/env.js (BASE_URL,
 * ARRIVAL_RATE, ARRIVAL_TIME_UNIT, DURATION, PRE_ALLOCATED_VUS, MAX_VUS,
 * WHISPER_MODEL — sent as `model_name` —, UPLOAD_USER_ID — the `X-User-ID`
 * header —, BASELINE), and
 * - POLL_INTERVAL      seconds between polls            (default 1)
 * - MAX_POLLS          polls before giving up           (default 40)
 * - LONG_POLL          1: poll with `?wait=` and no sleep (default 0)
 *
 * The thresholds are derived from the baseline's native keys exactly as
 * `deno task assert` evaluates them (src/perf/baseline/), so k6's verdict
 * and the assert agree. perf/openai_scenario.js is the same load through the
 * OpenAI-compatible route.
 */
import { check } from "k6";
import {
  arrival,
  arrivalEnv,
  numberEnv,
  SUMMARY_TREND_STATS,
} from "./lib/env.js";
import { EXPECTED_WORDS, SAMPLE } from "./lib/sample.js";
import { hasExpectedWords } from "./lib/words.js";
import { baselineThresholds, runThresholds } from "./lib/thresholds.js";
import { nativeMetrics, submitAndPoll } from "./lib/jobs.js";

// ---------------------------------------------------------------- config

const ENV = arrivalEnv();
const BASE_URL = ENV.baseUrl;
const WHISPER_MODEL = ENV.model;
const POLL_INTERVAL = numberEnv("POLL_INTERVAL", 1, { min: 0 });
const MAX_POLLS = numberEnv("MAX_POLLS", 40, { min: 1, integer: true });
const USER_ID = ENV.userId;
if (![undefined, "", "0", "1"].includes(__ENV.LONG_POLL)) {
  throw new Error(`LONG_POLL must be 0 or 1, got "${__ENV.LONG_POLL}"`);
}
const LONG_POLL = __ENV.LONG_POLL === "1";
// The server caps `?wait=` at 30 s.
const LONG_POLL_WAIT_S = Math.max(1, Math.min(30, Math.ceil(POLL_INTERVAL)));

// ---------------------------------------------------------------- metrics

// transcriptionAccuracy: every expected word in the transcript.
const METRICS = nativeMetrics();

export const options = {
  scenarios: {
    submit_and_poll: arrival(
      ENV,
      `${
        Math.ceil(MAX_POLLS * (LONG_POLL ? LONG_POLL_WAIT_S : POLL_INTERVAL)) +
        30
      }s`,
    ),
  },
  thresholds: runThresholds(() =>
    baselineThresholds(
      () => open(ENV.baselinePath),
      ENV.baselinePath,
      "native",
    )
  ),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// ---------------------------------------------------------------- iteration

const HEADERS = { "X-User-ID": USER_ID };

export default function () {
  const job = submitAndPoll(BASE_URL, HEADERS, METRICS, {
    filename: "sample.wav",
    bytes: SAMPLE,
    model: WHISPER_MODEL,
  }, {
    longPoll: LONG_POLL,
    waitS: LONG_POLL_WAIT_S,
    interval: POLL_INTERVAL,
    maxPolls: MAX_POLLS,
    budgetCheck: "job completed within MAX_POLLS",
  });
  if (!job) return;
  const accurate = hasExpectedWords(EXPECTED_WORDS, job.transcript);
  METRICS.transcriptionAccuracy.add(accurate);
  check(job, { "transcript has the expected words": () => accurate });
}
