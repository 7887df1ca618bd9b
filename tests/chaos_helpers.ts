/**
 * Shared pieces of the chaos suites (`tests/chaos_*`): the report each suite
 * writes to `tests/reports/<suite>.json` (the README's "Reliability" section
 * is generated from them), timed requests, percentiles, RSS from /proc, a
 * long speech clip, and direct reads of the stack's Redis.
 */
import { join } from "node:path";
import { readBase64File } from "../src/audio/mod.ts";
import { connectRedis, keys, waitConnected } from "../src/queue/mod.ts";
import type { Redis } from "ioredis";
import { type Stack, type StackOptions, startStack } from "../src/stack/mod.ts";

/** What every chaos report holds. */
export interface ChaosReport {
  /** Suite name, also the file name: `tests/reports/<suite>.json`. */
  suite: string;
  /** One line for humans (also printed). */
  summary: string;
  passed: boolean;
  /** Measured figures, units in the key names (`_ms`, `_s`, `_mb`). */
  figures: Record<string, unknown>;
  /** The failure, when `passed` is false. */
  error?: string;
}

const REPORTS = new URL("./reports/", import.meta.url);

/** Writes `tests/reports/<suite>.json` and prints the one-line summary. */
export async function writeReport(
  report: Omit<ChaosReport, "passed" | "error">,
  error?: unknown,
): Promise<void> {
  const full: ChaosReport & { generated_at: string } = {
    suite: report.suite,
    summary: error
      ? `FAILED: ${String((error as Error)?.message ?? error).split("\n")[0]}`
      : report.summary,
    passed: !error,
    figures: report.figures,
    ...(error ? { error: String((error as Error)?.stack ?? error) } : {}),
    generated_at: new Date().toISOString(),
  };
  await Deno.mkdir(REPORTS, { recursive: true });
  await Deno.writeTextFile(
    join(REPORTS.pathname, `${report.suite}.json`),
    JSON.stringify(full, null, 2) + "\n",
  );
  console.log(`${report.suite}: ${full.summary}`);
}

/** Removes a stopped stack's log folder, unless the suite failed (kept to read). */
export async function removeLogs(
  stack: { logDir: string },
  failure: unknown,
): Promise<void> {
  if (failure) {
    console.error(`logs kept in ${stack.logDir}`);
    return;
  }
  await Deno.remove(stack.logDir, { recursive: true }).catch(() => undefined);
}

/**
 * Runs `fn` on a started stack, then stops it; its logs are removed, or
 * kept (and named) when `fn` failed.
 */
export async function withStack<T>(
  options: StackOptions,
  fn: (stack: Stack) => Promise<T>,
): Promise<T> {
  const stack = await startStack(options);
  let failure: unknown;
  try {
    return await fn(stack);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await stack.stop();
    await removeLogs(stack, failure);
  }
}

/** The `p`-th percentile (0..100) of `values`, nearest rank; NaN if empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(p / 100 * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Rounds to `digits` decimals. */
export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Resident memory of `pid` in MiB from /proc; null once it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** A response read whole, with its latency. */
export interface Timed {
  status: number;
  ms: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/**
 * Fetches and reads the body (JSON when it parses), with a client-side
 * timeout so a hanging request is a failure, not a hung test.
 */
export async function timedFetch(
  url: string,
  init: RequestInit = {},
  timeoutMs = 15_000,
): Promise<Timed> {
  const t0 = performance.now();
  const r = await fetch(url, {
    ...init,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return {
    status: r.status,
    ms: performance.now() - t0,
    headers: r.headers,
    body,
  };
}

/** `POST /jobs` with `wav` in one request. */
export function postJob(
  baseUrl: string,
  wav: Uint8Array,
  user: string,
  timeoutMs = 15_000,
): Promise<Timed> {
  const form = new FormData();
  form.append("file", new Blob([wav as BlobPart]), "clip.wav");
  return timedFetch(`${baseUrl}/jobs`, {
    method: "POST",
    headers: { "x-user-id": user },
    body: form,
  }, timeoutMs);
}

/** The twelve committed clips joined into one ~23 s WAV (a job of ~1 s or more). */
export async function longClip(): Promise<Uint8Array> {
  const wavs: Uint8Array[] = [];
  for (let i = 1; i <= 12; i++) {
    wavs.push(
      await readBase64File(
        new URL(
          `../assets/clips/${String(i).padStart(2, "0")}.wav.b64`,
          import.meta.url,
        ),
      ),
    );
  }
  // All clips are 16 kHz mono 16-bit with a 44-byte header.
  const data = wavs.map((w) => w.subarray(44));
  const size = data.reduce((n, d) => n + d.length, 0);
  const out = new Uint8Array(44 + size);
  out.set(wavs[0]!.subarray(0, 44));
  const view = new DataView(out.buffer);
  view.setUint32(4, 36 + size, true);
  view.setUint32(40, size, true);
  let at = 44;
  for (const d of data) {
    out.set(d, at);
    at += d.length;
  }
  return out;
}

/** A direct view of the stack's Redis (default prefix `wt`). */
export class RedisView {
  readonly redis: Redis;
  readonly keys = keys("wt");

  private constructor(redis: Redis) {
    this.redis = redis;
  }

  /** Connects to `url` (fails fast while Redis is down). */
  static async open(url: string): Promise<RedisView> {
    const redis = connectRedis(url, { name: "chaos-test" });
    redis.on("error", () => undefined);
    await waitConnected(redis, 5000);
    return new RedisView(redis);
  }

  /** `status`, `worker_id` and `attempts` of a job. */
  async job(
    id: string,
  ): Promise<
    { status: string | null; worker: string | null; attempts: number }
  > {
    const [status, worker, attempts] = await this.redis.hmget(
      this.keys.job(id),
      "status",
      "worker_id",
      "attempts",
    );
    return {
      status: status ?? null,
      worker: worker ?? null,
      attempts: Number(attempts ?? 0),
    };
  }

  /** Totals of the FINISH_JOB guard: each job counts once when it becomes final. */
  async finished(): Promise<{ completed: number; failed: number }> {
    const [c, f] = await this.redis.hmget(
      this.keys.stats,
      "completed",
      "failed",
    );
    return { completed: Number(c ?? 0), failed: Number(f ?? 0) };
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** `stack-name` of a worker id such as `worker-2-lx3k9` → `worker-2`. */
export function workerName(workerId: string): string {
  return workerId.split("-").slice(0, 2).join("-");
}

/** Polls `check` every `intervalMs` until it returns a value (not undefined). */
export async function pollFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = await Promise.resolve(check()).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
