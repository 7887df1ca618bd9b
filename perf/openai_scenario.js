/**
 * k6 scenario `openai_transcribe` (`deno task perf --api openai`): users
 * arrive at a constant rate and transcribe the committed one-second sample
 * with one synchronous request to the OpenAI-compatible route,
 * `POST /v1/audio/transcriptions` (multipart `file`, `model`,
 * `response_format=json`; identity `Authorization: Bearer <UPLOAD_USER_ID>`).
 *
 * Run: `k6 run --summary-export perf/results/latest.json perf/openai_scenario.js`
 *
 * Environment: the variables of lib/env.js (BASE_URL, ARRIVAL_RATE,
 * ARRIVAL_TIME_UNIT, DURATION, PRE_ALLOCATED_VUS, MAX_VUS, WHISPER_MODEL,
 * UPLOAD_USER_ID, BASELINE), and
 * - REQUEST_TIMEOUT    seconds a request may take       (default 60)
 * - MODEL_ALIASES      the service's aliases (alias=model,...), so an aliased
 *                      WHISPER_MODEL expects its model in X-Model (default none)
 *
 * Metrics, all per request (one per iteration):
 * - openai_request_duration_ms   the request's duration (k6 timings.duration)
 * - openai_server_processing_ms  `X-Processing-Ms`
 * - openai_server_queue_wait_ms  `X-Queue-Wait-Ms`
 * - openai_overhead_ms           duration − processing − queue wait
 * - openai_success_rate          a 200 with a transcript from the model asked for
 * - openai_accuracy              the transcript has the sample's words (successes only)
 *
 * The thresholds come from the baseline's `openai` keys only, exactly as
 * `deno task assert` judges an openai run.
 */
import http from "k6/http";
import { check } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";
import {
  arrival,
  arrivalEnv,
  numberEnv,
  SUMMARY_TREND_STATS,
} from "./lib/env.js";
import { EXPECTED_WORDS, SAMPLE } from "./lib/sample.js";
import { hasExpectedWords } from "./lib/words.js";
import { baselineThresholds, runThresholds } from "./lib/thresholds.js";
import { parseAliases, readTranscription } from "./lib/openai_response.js";

const ENV = arrivalEnv();
const REQUEST_TIMEOUT_S = numberEnv("REQUEST_TIMEOUT", 60, { min: 1 });
const ASKED = { model: ENV.model, aliases: parseAliases(__ENV.MODEL_ALIASES) };

const requestDuration = new Trend("openai_request_duration_ms", true);
const serverProcessing = new Trend("openai_server_processing_ms", true);
const serverQueueWait = new Trend("openai_server_queue_wait_ms", true);
const overhead = new Trend("openai_overhead_ms", true);
const success = new Rate("openai_success_rate");
const accuracy = new Rate("openai_accuracy");
/** Requests the service refused with 429 (overloaded, quota, storage). */
const refused = new Counter("jobs_refused");

export const options = {
  scenarios: {
    openai_transcribe: arrival(ENV, `${REQUEST_TIMEOUT_S + 30}s`),
  },
  thresholds: runThresholds(() =>
    baselineThresholds(
      () => open(ENV.baselinePath),
      ENV.baselinePath,
      "openai",
    )
  ),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

const TRANSCRIPTIONS = `${ENV.baseUrl}/v1/audio/transcriptions`;
const PARAMS = {
  headers: { Authorization: `Bearer ${ENV.userId}` },
  tags: { name: "POST /v1/audio/transcriptions" },
  timeout: `${REQUEST_TIMEOUT_S}s`,
};
let warned = false;

export default function () {
  const res = http.post(TRANSCRIPTIONS, {
    file: http.file(SAMPLE, "sample.wav", "audio/wav"),
    model: ENV.model,
    response_format: "json",
  }, PARAMS);
  const answer = readTranscription({
    status: res.status,
    headers: res.headers,
    body: typeof res.body === "string" ? res.body : undefined,
    durationMs: res.timings.duration,
  }, ASKED);
  success.add(answer.ok);
  if (res.status === 429) refused.add(1);
  check(answer, {
    "status is 200": (a) => a.status === 200,
    "a transcript from the model asked for": (a) => a.ok,
  });
  if (!answer.ok) {
    // One line per VU, so a failing run says why without flooding the log.
    if (!warned) console.warn(`openai: ${answer.problems.join("; ")}`);
    warned = true;
    return;
  }
  requestDuration.add(res.timings.duration);
  check(answer, {
    "X-Processing-Ms and X-Queue-Wait-Ms are numbers": (a) =>
      a.overheadMs !== undefined,
  });
  if (answer.processingMs !== undefined) {
    serverProcessing.add(answer.processingMs);
  }
  if (answer.queueWaitMs !== undefined) serverQueueWait.add(answer.queueWaitMs);
  if (answer.overheadMs !== undefined) overhead.add(answer.overheadMs);
  const accurate = hasExpectedWords(EXPECTED_WORDS, answer.text);
  accuracy.add(accurate);
  check(answer, { "transcript has the expected words": () => accurate });
}
