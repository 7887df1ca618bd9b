/**
 * Job time limits against a real stack: a transcription that hangs
 * (FAULT_PROCESSING_HANG, test-only) is stopped at JOB_TIME_LIMIT_FLOOR_S +
 * JOB_TIME_LIMIT_FACTOR × its audio seconds, fails once with
 * `time_limit_exceeded` (never retried), and the same worker process takes
 * the next job. Writes `tests/reports/time_limit.json`. (That whisper
 * itself stops at the deadline is proven in src/engine/engine_test.ts.)
 */
import { assert, assertEquals } from "../src/testing/assert.ts";
import { startStack } from "../src/stack/mod.ts";
import { sample, waitForJob, words } from "./_client.ts";
import { writeReport } from "./_corpus_http.ts";
import { removeLogs } from "./chaos_helpers.ts";

const FLOOR_S = 2;
const FACTOR = 1;

async function submit(base: string, wav: Uint8Array, user: string) {
  const form = new FormData();
  form.append("file", new Blob([wav as BlobPart]), "sample.wav");
  const r = await fetch(`${base}/jobs`, {
    method: "POST",
    headers: { "x-user-id": user },
    body: form,
  });
  assertEquals(r.status, 202);
  return (await r.json()).job_id as string;
}

Deno.test("time limit: a hung transcription fails once at its limit and the worker goes on", async () => {
  const stack = await startStack({
    workers: 1,
    workerEnv: {
      FAULT_INJECTION: "test-only",
      FAULT_PROCESSING_HANG: "1",
      JOB_TIME_LIMIT_FLOOR_S: String(FLOOR_S),
      JOB_TIME_LIMIT_FACTOR: String(FACTOR),
    },
  });
  let failure: unknown;
  try {
    const { wav, text } = await sample();
    const pid = stack.processes().find((p) => p.name.startsWith("worker"))!
      .pid;
    const t0 = performance.now();
    const hung = await submit(stack.baseUrl, wav, "hang");
    const job = await waitForJob(stack.baseUrl, hung, "hang", 30_000);
    const failedAfterS = (performance.now() - t0) / 1000;
    assertEquals(job.status, "failed");
    assertEquals(job.error.code, "time_limit_exceeded");
    assertEquals(job.attempts, 1, "a job past its limit is not retried");
    const limitS = FLOOR_S + FACTOR * job.audio_duration_s;
    assert(
      failedAfterS >= limitS && failedAfterS < limitS + 6,
      `failed after ${failedAfterS.toFixed(1)} s; limit ${limitS.toFixed(1)} s`,
    );

    const t1 = performance.now();
    const next = await submit(stack.baseUrl, wav, "next");
    const done = await waitForJob(stack.baseUrl, next, "next", 30_000);
    const nextS = (performance.now() - t1) / 1000;
    assertEquals(done.status, "completed");
    assertEquals(words(done.transcript), words(text));
    // The same worker process, not a restarted one.
    assertEquals(stack.restarts(), 0);
    assertEquals(
      stack.processes().find((p) => p.name.startsWith("worker"))!.pid,
      pid,
    );
    await writeReport("time_limit", {
      suite: "tests/time_limit_test.ts",
      limit:
        `JOB_TIME_LIMIT_FLOOR_S ${FLOOR_S} + JOB_TIME_LIMIT_FACTOR ${FACTOR} × audio s`,
      limit_s: Math.round(limitS * 100) / 100,
      hung_job_failed_after_s: Math.round(failedAfterS * 100) / 100,
      error_code: job.error.code,
      attempts: job.attempts,
      next_job_completed_after_s: Math.round(nextS * 100) / 100,
      worker_restarts: stack.restarts(),
      summary:
        `a hung transcription (FAULT_PROCESSING_HANG) with a limit of ${
          limitS.toFixed(1)
        } s ` +
        `(JOB_TIME_LIMIT_FLOOR_S ${FLOOR_S} + ${FACTOR} × audio): failed time_limit_exceeded after ${
          failedAfterS.toFixed(1)
        } s, attempts ${job.attempts}; the same worker (0 restarts) completed the next job in ${
          nextS.toFixed(1)
        } s`,
    });
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    await stack.stop();
    await removeLogs(stack, failure);
  }
});
