/**
 * The API process is SIGKILLed in the middle of a chunked upload; a new API
 * on the same Redis (and port) picks the session up: `GET /uploads/{id}`
 * lists exactly the missing chunks, the client sends them, finalizes and
 * gets its transcript.
 */
import { assertEquals } from "../src/testing/assert.ts";
import { startStack } from "../src/stack/mod.ts";
import { sample, waitForJob, words } from "./_client.ts";
import {
  removeLogs,
  round,
  type Timed,
  timedFetch,
  writeReport,
} from "./chaos_helpers.ts";

const CHUNK = 4096;

Deno.test("chaos api: a restart mid-upload keeps the session; the client resumes and gets its transcript", async () => {
  const figures: Record<string, unknown> = {};
  let summary = "";
  let failure: unknown;
  const stack = await startStack({
    workers: 1,
    env: { CHUNK_SIZE: String(CHUNK) },
  });
  try {
    const { wav, text } = await sample();
    const headers = { "x-user-id": "uma" };
    const init = await timedFetch(`${stack.baseUrl}/uploads/initialize`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ filename: "s.wav", file_size: wav.length }),
    });
    assertEquals(init.status, 200, JSON.stringify(init.body));
    const { session_id: sid, total_chunks: total } = init.body;
    const sendChunk = (n: number): Promise<Timed> => {
      const form = new FormData();
      form.append(
        "chunk_data",
        new Blob([wav.slice(n * CHUNK, (n + 1) * CHUNK) as BlobPart]),
        "chunk",
      );
      return timedFetch(`${stack.baseUrl}/uploads/${sid}/chunks/${n}`, {
        method: "POST",
        headers,
        body: form,
      });
    };
    const half = Math.floor(total / 2);
    for (let n = 0; n < half; n++) {
      assertEquals((await sendChunk(n)).status, 200);
    }

    const oldPid = stack.processes().find((p) => p.name === "api")!.pid;
    const t0 = performance.now();
    await stack.restartApi("SIGKILL");
    const restartMs = performance.now() - t0;
    const newPid = stack.processes().find((p) => p.name === "api")!.pid;
    assertEquals(newPid !== oldPid, true, "a new API process");

    const status = await timedFetch(`${stack.baseUrl}/uploads/${sid}`, {
      headers,
    });
    assertEquals(status.status, 200);
    const missing = Array.from({ length: total - half }, (_, i) => half + i);
    assertEquals(status.body.missing_chunks, missing);
    assertEquals(
      status.body.present_chunks,
      Array.from({ length: half }, (_, i) => i),
    );
    assertEquals(status.body.finalized, false);

    // An identical re-send of a chunk sent before the crash is harmless.
    const resend = await sendChunk(0);
    assertEquals(resend.status, 200);
    for (const n of status.body.missing_chunks as number[]) {
      assertEquals((await sendChunk(n)).status, 200);
    }
    const fin = await timedFetch(`${stack.baseUrl}/uploads/${sid}/finalize`, {
      method: "POST",
      headers,
    });
    assertEquals(fin.status, 200, JSON.stringify(fin.body));
    const job = await waitForJob(stack.baseUrl, fin.body.job_id, "uma");
    assertEquals(job.status, "completed", JSON.stringify(job.error));
    assertEquals(words(job.transcript), words(text));
    assertEquals(stack.restarts(), 0);

    Object.assign(figures, {
      total_chunks: total,
      chunks_before_kill: half,
      missing_reported: status.body.missing_chunks.length,
      api_restart_ms: round(restartMs),
      transcript_ok: true,
    });
    summary =
      `API SIGKILLed after ${half}/${total} chunks, back in ${
        Math.round(restartMs)
      } ms; ` +
      `GET /uploads listed the ${missing.length} missing chunks; resumed upload transcribed correctly`;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await stack.stop();
    await removeLogs(stack, failure);
    await writeReport(
      { suite: "chaos_api_restart", summary, figures },
      failure,
    );
  }
});
