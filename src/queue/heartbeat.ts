/**
 * Worker heartbeats: each worker refreshes a key with a short TTL holding its
 * state, so readiness checks and the stack see live workers only.
 */
import type { Redis } from "ioredis";
import { z } from "zod";
import { keys } from "./keys.ts";

/** What a worker publishes about itself. */
export const Heartbeat = z.object({
  worker_id: z.string(),
  pid: z.number(),
  ready: z.boolean(),
  reason: z.string().nullable(),
  models: z.array(z.string()),
  busy: z.number(),
  concurrency: z.number(),
  threads: z.number(),
  /**
   * CPU the engine's calls used since the worker started, ms, as measured
   * by the engine (0 from a worker that doesn't report it).
   */
  engine_cpu_ms: z.number().default(0),
  at: z.number(),
});
/** A worker heartbeat. */
export type Heartbeat = z.infer<typeof Heartbeat>;

/** Writes `beat` with a TTL of `ttlMs`. */
export async function publishHeartbeat(
  redis: Redis,
  prefix: string,
  beat: z.input<typeof Heartbeat>,
  ttlMs: number,
): Promise<void> {
  await redis.set(
    keys(prefix).worker(beat.worker_id),
    JSON.stringify(beat),
    "PX",
    ttlMs,
  );
}

/** Removes a worker's heartbeat (on clean shutdown). */
export async function clearHeartbeat(
  redis: Redis,
  prefix: string,
  id: string,
): Promise<void> {
  await redis.del(keys(prefix).worker(id));
}

/** Reads every live worker's heartbeat. */
export async function liveWorkers(
  redis: Redis,
  prefix: string,
): Promise<Heartbeat[]> {
  const names: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(
      cursor,
      "MATCH",
      keys(prefix).workersPattern,
      "COUNT",
      200,
    );
    cursor = next;
    names.push(...batch);
  } while (cursor !== "0");
  if (names.length === 0) return [];
  const values = await redis.mget(...names);
  const beats: Heartbeat[] = [];
  for (const v of values) {
    if (!v) continue;
    const parsed = Heartbeat.safeParse(JSON.parse(v));
    if (parsed.success) beats.push(parsed.data);
  }
  return beats;
}
