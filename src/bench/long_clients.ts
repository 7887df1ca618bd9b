/**
 * How `deno task bench:long` asks the stack for a transcript, as a user's
 * client would: the native protocol (one `POST /jobs`, long-polled to the
 * end) or the OpenAI-compatible route (SubRip), each timed at the client.
 *
 * @module
 */
import { parseSrt } from "../subtitles/mod.ts";

/** The identity bench:long submits its jobs as. */
export const BENCH_LONG_USER = "bench-long";

// deno-lint-ignore no-explicit-any
type JobRecord = any;

/**
 * POSTs `wav` to /jobs and long-polls it to the end (each poll wakes when a
 * piece finishes); the job, the wall time, and when a poll first showed
 * text (`partial_transcript`, or the transcript of a job not split): when
 * a client could show the first words.
 */
export async function transcribeThroughStack(
  baseUrl: string,
  wav: Uint8Array,
  filename: string,
  timeoutMs: number,
): Promise<{ wall_s: number; first_text_s: number | null; job: JobRecord }> {
  const headers = { "x-user-id": BENCH_LONG_USER };
  const form = new FormData();
  form.append("file", new Blob([wav as BlobPart]), filename);
  const t0 = performance.now();
  const r = await fetch(`${baseUrl}/jobs`, {
    method: "POST",
    headers,
    body: form,
  });
  if (r.status !== 202) {
    throw new Error(`POST /jobs: ${r.status} ${await r.text()}`);
  }
  const id = (await r.json()).job_id as string;
  const deadline = t0 + timeoutMs;
  let firstText: number | null = null;
  while (true) {
    const g = await fetch(`${baseUrl}/jobs/${id}?wait=30`, { headers });
    if (g.status !== 200) {
      throw new Error(`GET /jobs/${id}: ${g.status} ${await g.text()}`);
    }
    const job = await g.json();
    const seconds = (performance.now() - t0) / 1000;
    if (firstText === null && (job.partial_transcript || job.transcript)) {
      firstText = seconds;
    }
    if (job.status === "completed") {
      return { wall_s: seconds, first_text_s: firstText, job };
    }
    if (job.status === "failed") {
      throw new Error(`job ${id} failed: ${JSON.stringify(job.error)}`);
    }
    if (performance.now() > deadline) {
      throw new Error(
        `job ${id} still ${job.status} after ${timeoutMs / 1000} s`,
      );
    }
  }
}

/**
 * POSTs `wav` to `/v1/audio/transcriptions` for SubRip, waits for the
 * answer (the request ends with the job), then reads the job back for its
 * pieces; the job, the wall time of the request and the number of cues.
 */
export async function transcribeThroughOpenAi(
  baseUrl: string,
  wav: Uint8Array,
  filename: string,
): Promise<{ wall_s: number; job: JobRecord; cues: number }> {
  const headers = { authorization: `Bearer ${BENCH_LONG_USER}` };
  const form = new FormData();
  form.append("file", new Blob([wav as BlobPart]), filename);
  form.append("model", "whisper-1");
  form.append("response_format", "srt");
  const t0 = performance.now();
  const r = await fetch(`${baseUrl}/v1/audio/transcriptions`, {
    method: "POST",
    headers,
    body: form,
  });
  const srt = await r.text();
  const wall_s = (performance.now() - t0) / 1000;
  if (r.status !== 200) {
    throw new Error(`POST /v1/audio/transcriptions: ${r.status} ${srt}`);
  }
  const cues = parseSrt(srt).length;
  const id = r.headers.get("x-job-id");
  const g = await fetch(`${baseUrl}/jobs/${id}`, { headers });
  if (g.status !== 200) {
    throw new Error(`GET /jobs/${id}: ${g.status} ${await g.text()}`);
  }
  return { wall_s, job: await g.json(), cues };
}
