/**
 * The fairness measurement of `deno task bench:long`: while one identity's
 * long recordings are transcribed, another identity sends 1 s clips at a
 * steady rate; how long do the clips take (server processing and end to
 * end), and is any refused?
 *
 * @module
 */
import { percentile } from "../stats/mod.ts";

/** Identity whose long recordings load the workers. */
export const FAIRNESS_LONG_USER = "bench-long-recordings";
/** Identity of the short clips. */
export const FAIRNESS_SHORT_USER = "bench-long-clips";

/** Options of {@linkcode measureFairness}. */
export interface FairnessOptions {
  baseUrl: string;
  /** The long recording, submitted `recordings` times at once. */
  longWav: Uint8Array;
  /** The short clip (the 1 s sample). */
  clipWav: Uint8Array;
  /** How many long recordings. @default 4 */
  recordings?: number;
  /** Clips per second. @default 1 */
  rateHz?: number;
  /** Give up after this long, ms. @default 900000 */
  timeoutMs?: number;
  say?: (line: string) => void;
}

/** What {@linkcode measureFairness} measured. */
export interface FairnessResult {
  recordings: number;
  rate_hz: number;
  /** Seconds from the first recording's submission to the last one's end. */
  long_wall_s: number;
  clips: number;
  clips_refused: number;
  clips_failed: number;
  clip_processing_ms: { p50: number; p95: number; max: number };
  clip_e2e_ms: { p50: number; p95: number; max: number };
}

// deno-lint-ignore no-explicit-any
type Job = any;

async function post(
  baseUrl: string,
  wav: Uint8Array,
  user: string,
): Promise<{ status: number; id?: string }> {
  const form = new FormData();
  form.append("file", new Blob([wav as BlobPart]), "audio.wav");
  const r = await fetch(`${baseUrl}/jobs`, {
    method: "POST",
    headers: { "x-user-id": user },
    body: form,
  });
  const body = await r.json();
  return { status: r.status, id: body.job_id };
}

async function waitJob(
  baseUrl: string,
  id: string,
  user: string,
  deadline: number,
): Promise<Job> {
  while (Date.now() < deadline) {
    const r = await fetch(`${baseUrl}/jobs/${id}?wait=30`, {
      headers: { "x-user-id": user },
    });
    const job = await r.json();
    if (r.status !== 200) throw new Error(`GET /jobs/${id}: ${r.status}`);
    if (job.status === "completed" || job.status === "failed") return job;
  }
  throw new Error(`job ${id} not finished in time`);
}

const spread = (v: number[]) => ({
  p50: Math.round(percentile(v, 50)),
  p95: Math.round(percentile(v, 95)),
  max: Math.round(Math.max(...v)),
});

/**
 * Submits the long recordings, then clips at `rateHz` until every recording
 * is done (bounded by `timeoutMs`), and reports the clips' figures.
 */
export async function measureFairness(
  o: FairnessOptions,
): Promise<FairnessResult> {
  const n = o.recordings ?? 4;
  const rate = o.rateHz ?? 1;
  const deadline = Date.now() + (o.timeoutMs ?? 900_000);
  const t0 = Date.now();
  const longs: Promise<Job>[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post(o.baseUrl, o.longWav, FAIRNESS_LONG_USER);
    if (r.status !== 202 || !r.id) {
      throw new Error(`long recording ${i + 1} refused: ${r.status}`);
    }
    longs.push(waitJob(o.baseUrl, r.id, FAIRNESS_LONG_USER, deadline));
  }
  let longsDone = false;
  const allLong = Promise.all(longs).finally(() => longsDone = true);
  allLong.catch(() => undefined);

  const clips: Promise<{ status: number; job?: Job; e2e: number }>[] = [];
  for (let i = 0; !longsDone && Date.now() < deadline; i++) {
    const due = t0 + i * 1000 / rate;
    const ahead = due - Date.now();
    if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    if (longsDone) break;
    clips.push((async () => {
      const start = Date.now();
      const r = await post(o.baseUrl, o.clipWav, FAIRNESS_SHORT_USER);
      if (r.status !== 202 || !r.id) return { status: r.status, e2e: 0 };
      const job = await waitJob(
        o.baseUrl,
        r.id,
        FAIRNESS_SHORT_USER,
        deadline,
      );
      return { status: 202, job, e2e: Date.now() - start };
    })());
    if (i % 10 === 9) o.say?.(`bench:long: fairness: ${i + 1} clips sent`);
  }
  const longJobs = await allLong;
  const longWall = (Math.max(
    ...longJobs.map((j) => Date.parse(j.completed_at)),
  ) - t0) / 1000;
  const done = await Promise.all(clips);
  const ok = done.filter((d) => d.job?.status === "completed");
  if (ok.length === 0) throw new Error("fairness: no clip completed");
  return {
    recordings: n,
    rate_hz: rate,
    long_wall_s: Math.round(longWall * 100) / 100,
    clips: done.length,
    clips_refused: done.filter((d) => d.status === 429).length,
    clips_failed:
      done.filter((d) => d.status !== 429 && d.job?.status !== "completed")
        .length,
    clip_processing_ms: spread(ok.map((d) => Number(d.job.processing_ms))),
    clip_e2e_ms: spread(ok.map((d) => d.e2e)),
  };
}
