/**
 * A small client of the service's HTTP protocol for process-level tests:
 * chunked upload, finalize, poll.
 */
import { readBase64File } from "../src/audio/mod.ts";

/** The committed one-second sample and its expected words. */
export async function sample(): Promise<{ wav: Uint8Array; text: string }> {
  const root = new URL("../assets/", import.meta.url);
  return {
    wav: await readBase64File(new URL("sample.wav.b64", root)),
    text: (await Deno.readTextFile(new URL("sample.txt", root))).trim(),
  };
}

/** Lower-case words without punctuation (the accuracy tooling's normalisation). */
export { normalizeWords as words } from "../src/accuracy/mod.ts";

/** Uploads `bytes` with the chunked protocol; returns the job id. */
export async function uploadChunked(
  baseUrl: string,
  bytes: Uint8Array,
  user: string,
  filename = "sample.wav",
): Promise<string> {
  const headers = { "x-user-id": user };
  const init = await fetch(`${baseUrl}/uploads/initialize`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ filename, file_size: bytes.length }),
  });
  if (init.status !== 200) {
    throw new Error(`initialize: ${init.status} ${await init.text()}`);
  }
  const s = await init.json();
  for (let i = 0; i < s.total_chunks; i++) {
    const form = new FormData();
    form.append(
      "chunk_data",
      new Blob([
        bytes.slice(i * s.chunk_size, (i + 1) * s.chunk_size) as BlobPart,
      ]),
      "chunk",
    );
    const r = await fetch(`${baseUrl}/uploads/${s.session_id}/chunks/${i}`, {
      method: "POST",
      headers,
      body: form,
    });
    if (r.status !== 200) {
      throw new Error(`chunk ${i}: ${r.status} ${await r.text()}`);
    }
    await r.body?.cancel();
  }
  const fin = await fetch(`${baseUrl}/uploads/${s.session_id}/finalize`, {
    method: "POST",
    headers,
  });
  if (fin.status !== 200) {
    throw new Error(`finalize: ${fin.status} ${await fin.text()}`);
  }
  return (await fin.json()).job_id;
}

/** Long-polls a job until it is completed or failed (or `timeoutMs` passes). */
export async function waitForJob(
  baseUrl: string,
  jobId: string,
  user: string,
  timeoutMs = 60_000,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await fetch(`${baseUrl}/jobs/${jobId}?wait=5`, {
      headers: { "x-user-id": user },
    });
    const job = await r.json();
    if (r.status !== 200) {
      throw new Error(`poll: ${r.status} ${JSON.stringify(job)}`);
    }
    if (job.status === "completed" || job.status === "failed") return job;
  }
  throw new Error(`job ${jobId} not finished after ${timeoutMs} ms`);
}

/** True when a process with `pid` still exists. */
export function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export async function portOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
