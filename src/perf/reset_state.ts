/**
 * Fresh service state between the runs of a `--repeat` group: deletes the
 * service's keys (sessions, chunks, jobs, audio, user indexes, stats) and the
 * BullMQ completed/failed sets with their job hashes, keeping BullMQ's meta
 * and the workers' heartbeats so the running stack carries on.
 */
import { Redis } from "ioredis";
import { keys, QUEUE_NAME } from "../queue/mod.ts";

/** What {@linkcode resetServiceState} removed. */
export interface ResetReport {
  /** Service keys deleted (sessions, jobs, audio, user indexes, stats). */
  serviceKeys: number;
  /** BullMQ finished jobs removed (completed + failed). */
  finishedJobs: number;
  /** Jobs still waiting or active when the wait for an idle queue gave up. */
  busy: number;
}

/** Options of {@linkcode resetServiceState}. */
export interface ResetOptions {
  /** The service's key prefix. @default `REDIS_PREFIX` or `wt` */
  prefix?: string;
  /** Longest wait for the queue to drain before deleting, ms. @default 60000 */
  drainTimeoutMs?: number;
}

async function scanDelete(redis: Redis, pattern: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, found] = await redis.scan(
      cursor,
      "MATCH",
      pattern,
      "COUNT",
      500,
    );
    cursor = next;
    if (found.length) deleted += await redis.unlink(...found);
  } while (cursor !== "0");
  return deleted;
}

/**
 * Waits until no job is waiting or active (the previous run's stragglers),
 * then deletes the per-run state. Safe on an empty Redis.
 */
export async function resetServiceState(
  redisUrl: string,
  options: ResetOptions = {},
): Promise<ResetReport> {
  const prefix = options.prefix ?? Deno.env.get("REDIS_PREFIX") ?? "wt";
  const k = keys(prefix);
  const q = `${k.bullPrefix}:${QUEUE_NAME}`;
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: 2,
    connectTimeout: 2000,
    lazyConnect: false,
  });
  try {
    const busy = async () =>
      (await redis.llen(`${q}:wait`)) + (await redis.llen(`${q}:active`)) +
      (await redis.zcard(`${q}:prioritized`)) +
      (await redis.zcard(`${q}:delayed`));
    const deadline = Date.now() + (options.drainTimeoutMs ?? 60_000);
    let pending = await busy();
    while (pending > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      pending = await busy();
    }

    let finishedJobs = 0;
    for (const set of ["completed", "failed"]) {
      const ids = await redis.zrange(`${q}:${set}`, 0, -1);
      for (let i = 0; i < ids.length; i += 500) {
        const batch = ids.slice(i, i + 500).flatMap((id) => [
          `${q}:${id}`,
          `${q}:${id}:logs`,
        ]);
        await redis.unlink(...batch);
      }
      finishedJobs += ids.length;
      await redis.unlink(`${q}:${set}`);
    }

    let serviceKeys = 0;
    // Built from keys() so a renamed key family is followed here.
    const patterns = [
      k.session("*"),
      k.job("*"),
      k.audio("*"),
      k.userJobs("*").replace(/:jobs$/, ":*"),
      `${k.stats}:*`,
    ];
    for (const pattern of patterns) {
      serviceKeys += await scanDelete(redis, pattern);
    }
    serviceKeys += await redis.unlink(k.stats);
    return { serviceKeys, finishedJobs, busy: pending };
  } finally {
    redis.disconnect();
  }
}
