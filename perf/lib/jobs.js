/**
 * The native protocol as a k6 user drives it: a chunked upload
 * (initialize → chunks → finalize) and polling the job until it ends. Both
 * scenarios of the native protocol (the sample, workload mixes) use these,
 * so they make the same requests with the same names and checks.
 */
import http from "k6/http";
import { check, sleep } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";

/**
 * The metrics of a native-protocol scenario (call in the init stage). The
 * workload scenario tags each sample with its class.
 */
export function nativeMetrics() {
  return {
    /**
     * Seconds from the upload's first request (the user pressing "submit")
     * until the poll that sees the job completed.
     */
    transcriptionLatency: new Trend("transcription_latency_seconds"),
    /** One outcome per iteration: 1 when the job completed. */
    transcriptionSuccess: new Rate("transcription_success_rate"),
    /** One outcome per iteration: 1 when it did not get a transcript. */
    transcriptionFailure: new Rate("transcription_failure_rate"),
    /** Completed jobs whose transcript is accurate (the scenario says how). */
    transcriptionAccuracy: new Rate("transcription_accuracy"),
    /** The server's queue wait and processing time from the job record, ms. */
    serverQueueWait: new Trend("server_queue_wait_ms", true),
    serverProcessing: new Trend("server_processing_ms", true),
    /** Wall time of the whole chunked upload (initialize → finalize), ms. */
    uploadDuration: new Trend("upload_duration_ms", true),
    /** Uploads the service refused with 429 (overloaded, quota, storage). */
    jobsRefused: new Counter("jobs_refused"),
  };
}

/**
 * Uploads `bytes` as `filename` for `model`; returns `{ jobId, started }`
 * (started: ms, the first request) or null after a failed check (a 429 is
 * counted in `o.refused` too). Every request, check and the upload's
 * duration carry `tags`.
 */
export function chunkedUpload(baseUrl, headers, o) {
  const tags = o.tags ?? {};
  const refusedIf = (res) => {
    if (res.status === 429 && o.refused) o.refused.add(1, tags);
  };
  const started = Date.now();
  const init = http.post(
    `${baseUrl}/uploads/initialize`,
    JSON.stringify({
      filename: o.filename,
      file_size: o.bytes.byteLength,
      model_name: o.model,
    }),
    {
      headers: Object.assign({ "Content-Type": "application/json" }, headers),
      tags: Object.assign({ name: "initialize" }, tags),
    },
  );
  if (!check(init, { "initialize is 200": (r) => r.status === 200 }, tags)) {
    refusedIf(init);
    return null;
  }
  const session = init.json();
  for (let n = 0; n < session.total_chunks; n++) {
    const chunk = o.bytes.slice(
      n * session.chunk_size,
      (n + 1) * session.chunk_size,
    );
    const res = http.post(
      `${baseUrl}/uploads/${session.session_id}/chunks/${n}`,
      { chunk_data: http.file(chunk, "chunk", "application/octet-stream") },
      { headers, tags: Object.assign({ name: "chunk" }, tags) },
    );
    if (!check(res, { "chunk is 200": (r) => r.status === 200 }, tags)) {
      refusedIf(res);
      return null;
    }
  }
  const fin = http.post(
    `${baseUrl}/uploads/${session.session_id}/finalize`,
    null,
    { headers, tags: Object.assign({ name: "finalize" }, tags) },
  );
  if (
    !check(fin, {
      "finalize is 200 with a job": (r) =>
        r.status === 200 && typeof r.json("job_id") === "string",
    }, tags)
  ) {
    refusedIf(fin);
    return null;
  }
  o.uploadDuration.add(Date.now() - started, tags);
  return { jobId: fin.json("job_id"), started };
}

/**
 * Polls job `jobId` (long polls of `waitS` when `longPoll`, else every
 * `interval` s) at most `maxPolls` times: the job once completed, or null
 * when it failed or didn't end (the check named `budgetCheck` fails then).
 */
export function pollJob(baseUrl, headers, jobId, o) {
  const tags = o.tags ?? {};
  const url = `${baseUrl}/jobs/${jobId}${o.longPoll ? `?wait=${o.waitS}` : ""}`;
  for (let poll = 0; poll < o.maxPolls; poll++) {
    if (!o.longPoll && poll > 0) sleep(o.interval);
    const res = http.get(url, {
      headers,
      tags: Object.assign({ name: "poll" }, tags),
      timeout: `${o.waitS + 30}s`,
    });
    if (!check(res, { "poll is 200": (r) => r.status === 200 }, tags)) {
      if (o.longPoll) sleep(o.interval);
      continue;
    }
    const job = res.json();
    if (job.status === "completed") return job;
    if (job.status === "failed") {
      check(job, { "job completed": () => false }, tags);
      return null;
    }
  }
  check(null, { [o.budgetCheck]: () => false }, tags);
  return null;
}

/**
 * One iteration of a native-protocol scenario: the upload (`upload`: the
 * options of {@linkcode chunkedUpload} but its metrics), polling (`poll`:
 * those of {@linkcode pollJob}), and the iteration's outcome, latency and
 * the server's queue wait and processing recorded in `m` (from
 * {@linkcode nativeMetrics}), all with `tags`. Returns the completed job —
 * its transcript is the caller's to judge — or null when it has none.
 */
export function submitAndPoll(baseUrl, headers, m, upload, poll, tags = {}) {
  const outcome = (ok) => {
    m.transcriptionSuccess.add(ok, tags);
    m.transcriptionFailure.add(!ok, tags);
  };
  const up = chunkedUpload(
    baseUrl,
    headers,
    Object.assign(
      { tags, uploadDuration: m.uploadDuration, refused: m.jobsRefused },
      upload,
    ),
  );
  if (!up) {
    outcome(false);
    return null;
  }
  const job = pollJob(
    baseUrl,
    headers,
    up.jobId,
    Object.assign({ tags }, poll),
  );
  if (!job) {
    outcome(false);
    return null;
  }
  m.transcriptionLatency.add((Date.now() - up.started) / 1000, tags);
  if (typeof job.queue_wait_ms === "number") {
    m.serverQueueWait.add(job.queue_wait_ms, tags);
  }
  if (typeof job.processing_ms === "number") {
    m.serverProcessing.add(job.processing_ms, tags);
  }
  outcome(true);
  return job;
}
