/**
 * k6 scenario `submit_and_poll`: users arrive at a constant rate, upload the
 * committed one-second sample with the chunked upload protocol, then poll
 * their job until it has a transcript.
 *
 * Run: `k6 run --summary-export perf/results/latest.json perf/transcription_scenario.js`
 *
 * Environment (all optional):
 * - BASE_URL           service base URL                 (default http://localhost:8001)
 * - ARRIVAL_RATE       iterations started per time unit (default 3, a positive integer)
 * - ARRIVAL_TIME_UNIT  the time unit of ARRIVAL_RATE, k6 syntax (default 1s;
 *                      e.g. ARRIVAL_RATE=25 ARRIVAL_TIME_UNIT=2s is 12.5/s)
 * - DURATION           scenario duration, k6 syntax     (default 2m; e.g. 90s, 1m30s)
 * - PRE_ALLOCATED_VUS  VUs allocated up front           (default 4)
 * - MAX_VUS            most VUs k6 may use              (default 12)
 * - WHISPER_MODEL      model_name sent with each upload (default tiny.en)
 * - POLL_INTERVAL      seconds between polls            (default 1)
 * - MAX_POLLS          polls before giving up           (default 40)
 * - UPLOAD_USER_ID     X-User-ID header                 (default perf-tester)
 * - LONG_POLL          1: poll with `?wait=` and no sleep (default 0)
 * - BASELINE           baseline.json the thresholds come from; relative paths
 *                      resolve against this script's folder (default ../baseline.json)
 *
 * The thresholds are derived from the baseline exactly as `deno task assert`
 * evaluates it (src/perf/baseline.ts), so k6's verdict and the assert agree.
 */
import http from "k6/http";
import { check, sleep } from "k6";
import { b64decode } from "k6/encoding";
import { Rate, Trend } from "k6/metrics";

// ---------------------------------------------------------------- config

/** Reads an env var as a finite number >= min; throws naming the variable. */
function numberEnv(name, fallback, { min = 0, integer = false } = {}) {
  const raw = __ENV[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (
    !/^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(raw) || !Number.isFinite(n) ||
    n < min || (integer && !Number.isInteger(n))
  ) {
    throw new Error(
      `${name} must be ${
        integer ? "an integer" : "a number"
      } >= ${min}, got "${raw}"`,
    );
  }
  return n;
}

/** Parses a k6 duration ("2m", "90s", "1m30s", "500ms", "1h"); returns seconds. */
function durationSeconds(name, raw) {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  const compact = raw.trim();
  let total = 0;
  let consumed = 0;
  for (const m of compact.matchAll(re)) {
    if (m.index !== consumed) break;
    consumed += m[0].length;
    const v = Number(m[1]);
    total += m[2] === "h"
      ? v * 3600
      : m[2] === "m"
      ? v * 60
      : m[2] === "s"
      ? v
      : v / 1000;
  }
  if (compact === "" || consumed !== compact.length || !(total > 0)) {
    throw new Error(
      `${name} must be a k6 duration such as "2m", "90s" or "1m30s", got "${raw}"`,
    );
  }
  return total;
}

const BASE_URL = (__ENV.BASE_URL || "http://localhost:8001").replace(
  /\/+$/,
  "",
);
const ARRIVAL_RATE = numberEnv("ARRIVAL_RATE", 3, { min: 1, integer: true });
const ARRIVAL_TIME_UNIT = __ENV.ARRIVAL_TIME_UNIT || "1s";
durationSeconds("ARRIVAL_TIME_UNIT", ARRIVAL_TIME_UNIT);
const DURATION = __ENV.DURATION || "2m";
durationSeconds("DURATION", DURATION); // validates; k6 parses it again
const PRE_ALLOCATED_VUS = numberEnv("PRE_ALLOCATED_VUS", 4, {
  min: 1,
  integer: true,
});
const MAX_VUS = numberEnv("MAX_VUS", 12, { min: 1, integer: true });
const WHISPER_MODEL = __ENV.WHISPER_MODEL || "tiny.en-q8_0";
const POLL_INTERVAL = numberEnv("POLL_INTERVAL", 1, { min: 0 });
const MAX_POLLS = numberEnv("MAX_POLLS", 40, { min: 1, integer: true });
const USER_ID = __ENV.UPLOAD_USER_ID || "perf-tester";
if (![undefined, "", "0", "1"].includes(__ENV.LONG_POLL)) {
  throw new Error(`LONG_POLL must be 0 or 1, got "${__ENV.LONG_POLL}"`);
}
const LONG_POLL = __ENV.LONG_POLL === "1";
const BASELINE_PATH = __ENV.BASELINE || "../baseline.json";
if (MAX_VUS < PRE_ALLOCATED_VUS) {
  throw new Error(
    `MAX_VUS (${MAX_VUS}) must be >= PRE_ALLOCATED_VUS (${PRE_ALLOCATED_VUS})`,
  );
}
// The server caps `?wait=` at 30 s.
const LONG_POLL_WAIT_S = Math.max(1, Math.min(30, Math.ceil(POLL_INTERVAL)));

// ---------------------------------------------------------------- data

// Binary data can't live in a SharedArray, so every VU decodes its own copy
// (the sample is ~33 KB).
const SAMPLE = b64decode(
  open("../assets/sample.wav.b64").replace(/\s+/g, ""),
  "std",
);
const EXPECTED_WORDS = words(open("../assets/sample.txt"));

/** Lower-case words without punctuation. */
function words(text) {
  return String(text || "").toLowerCase().replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/).filter((w) => w.length > 0);
}

// ---------------------------------------------------------------- thresholds

// Built-in definitions of the Python toolkit's baseline keys; a baseline's
// `definitions` map adds or overrides keys (same rules as src/perf/baseline.ts).
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

/** k6 thresholds derived from the baseline file. */
function baselineThresholds(path) {
  let baseline;
  try {
    baseline = JSON.parse(open(path));
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
  return out;
}

const thresholds = baselineThresholds(BASELINE_PATH);
// Always on: every planned iteration must start, and HTTP must not fail.
thresholds.dropped_iterations = (thresholds.dropped_iterations || []).concat(
  "count<1",
);
thresholds.http_req_failed = (thresholds.http_req_failed || []).concat(
  "rate<0.02",
);

// ---------------------------------------------------------------- metrics

/**
 * Seconds from the upload's first request (the user pressing "submit") until
 * the poll that sees the job completed.
 */
const transcriptionLatency = new Trend("transcription_latency_seconds");
/** One outcome per iteration: 1 when the job completed. */
const transcriptionSuccess = new Rate("transcription_success_rate");
/** One outcome per iteration: 1 when the iteration did not get a transcript. */
const transcriptionFailure = new Rate("transcription_failure_rate");
/** Completed jobs whose transcript has every expected word. */
const transcriptionAccuracy = new Rate("transcription_accuracy");
/** The server's queue wait and processing time from the job record, ms. */
const serverQueueWait = new Trend("server_queue_wait_ms", true);
const serverProcessing = new Trend("server_processing_ms", true);
/** Wall time of the whole chunked upload (initialize → finalize), ms. */
const uploadDuration = new Trend("upload_duration_ms", true);

export const options = {
  scenarios: {
    submit_and_poll: {
      executor: "constant-arrival-rate",
      rate: ARRIVAL_RATE,
      timeUnit: ARRIVAL_TIME_UNIT,
      duration: DURATION,
      preAllocatedVUs: PRE_ALLOCATED_VUS,
      maxVUs: MAX_VUS,
      // Let iterations started near the end finish their polling, so the
      // summary isn't skewed by interrupted iterations.
      gracefulStop: `${
        Math.ceil(MAX_POLLS * (LONG_POLL ? LONG_POLL_WAIT_S : POLL_INTERVAL)) +
        30
      }s`,
    },
  },
  thresholds,
  summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)"],
};

// ---------------------------------------------------------------- iteration

const HEADERS = { "X-User-ID": USER_ID };

/** Records one iteration's outcome in both rates. */
function outcome(ok) {
  transcriptionSuccess.add(ok);
  transcriptionFailure.add(!ok);
}

/** Chunked upload of the sample; returns the job id or null. */
function upload() {
  const started = Date.now();
  const init = http.post(
    `${BASE_URL}/uploads/initialize`,
    JSON.stringify({
      filename: "sample.wav",
      file_size: SAMPLE.byteLength,
      model_name: WHISPER_MODEL,
    }),
    {
      headers: Object.assign({ "Content-Type": "application/json" }, HEADERS),
      tags: { name: "initialize" },
    },
  );
  if (!check(init, { "initialize is 200": (r) => r.status === 200 })) {
    return null;
  }
  const session = init.json();
  for (let n = 0; n < session.total_chunks; n++) {
    const bytes = SAMPLE.slice(
      n * session.chunk_size,
      (n + 1) * session.chunk_size,
    );
    const res = http.post(
      `${BASE_URL}/uploads/${session.session_id}/chunks/${n}`,
      {
        chunk_data: http.file(bytes, "chunk", "application/octet-stream"),
      },
      { headers: HEADERS, tags: { name: "chunk" } },
    );
    if (!check(res, { "chunk is 200": (r) => r.status === 200 })) return null;
  }
  const fin = http.post(
    `${BASE_URL}/uploads/${session.session_id}/finalize`,
    null,
    { headers: HEADERS, tags: { name: "finalize" } },
  );
  if (
    !check(fin, {
      "finalize is 200 with a job": (r) =>
        r.status === 200 && typeof r.json("job_id") === "string",
    })
  ) return null;
  uploadDuration.add(Date.now() - started);
  return { jobId: fin.json("job_id"), started };
}

export default function () {
  const up = upload();
  if (!up) {
    outcome(false);
    return;
  }
  const url = `${BASE_URL}/jobs/${up.jobId}${
    LONG_POLL ? `?wait=${LONG_POLL_WAIT_S}` : ""
  }`;
  for (let poll = 0; poll < MAX_POLLS; poll++) {
    if (!LONG_POLL && poll > 0) sleep(POLL_INTERVAL);
    const res = http.get(url, {
      headers: HEADERS,
      tags: { name: "poll" },
      timeout: `${LONG_POLL_WAIT_S + 30}s`,
    });
    if (!check(res, { "poll is 200": (r) => r.status === 200 })) {
      if (LONG_POLL) sleep(POLL_INTERVAL);
      continue;
    }
    const job = res.json();
    if (job.status === "completed") {
      transcriptionLatency.add((Date.now() - up.started) / 1000);
      if (typeof job.queue_wait_ms === "number") {
        serverQueueWait.add(job.queue_wait_ms);
      }
      if (typeof job.processing_ms === "number") {
        serverProcessing.add(job.processing_ms);
      }
      const got = words(job.transcript);
      const accurate = EXPECTED_WORDS.every((w) => got.includes(w));
      transcriptionAccuracy.add(accurate);
      check(job, { "transcript has the expected words": () => accurate });
      outcome(true);
      return;
    }
    if (job.status === "failed") {
      check(job, { "job completed": () => false });
      outcome(false);
      return;
    }
  }
  check(null, { "job completed within MAX_POLLS": () => false });
  outcome(false);
}
