import { assertEquals } from "../testing/assert.ts";
import { Redis } from "ioredis";
import { testPrefix, testRedis } from "../testing/redis.ts";
import { keys, QUEUE_NAME } from "../queue/mod.ts";
import { resetServiceState } from "./reset_state.ts";

Deno.test("resetServiceState deletes per-run state and keeps BullMQ meta and heartbeats", async () => {
  const server = await testRedis();
  const redis = new Redis(server.url);
  try {
    const prefix = testPrefix("reset");
    const other = testPrefix("other");
    const k = keys(prefix);
    const q = `${k.bullPrefix}:${QUEUE_NAME}`;
    await redis.hset(k.session("s1"), "a", "1");
    await redis.hset(k.chunks("s1"), "0", "x");
    await redis.set(k.sessionTombstone("s1"), "1");
    await redis.zadd(k.userSessions("u"), 1, "s1");
    await redis.hset(k.job("j1"), "status", "completed");
    await redis.set(k.audio("j1"), "bytes");
    await redis.zadd(k.userJobs("u"), 1, "j1");
    await redis.hset(k.stats, "completed", "3");
    await redis.lpush(`${k.stats}:recent`, "1.0");
    await redis.zadd(`${q}:completed`, 1, "j1");
    await redis.hset(`${q}:j1`, "data", "{}");
    await redis.zadd(`${q}:failed`, 1, "j2");
    await redis.hset(`${q}:j2`, "data", "{}");
    // Kept: BullMQ meta, its id counter, worker heartbeats, other prefixes.
    await redis.hset(`${q}:meta`, "opts.maxLenEvents", "10000");
    await redis.set(`${q}:id`, "7");
    await redis.set(k.worker("w1"), "alive");
    await redis.hset(keys(other).job("j1"), "status", "queued");

    const report = await resetServiceState(server.url, {
      prefix,
      drainTimeoutMs: 1000,
    });
    assertEquals(report.finishedJobs, 2);
    assertEquals(report.busy, 0);
    assertEquals(report.serviceKeys, 9);
    const left = (await redis.keys("*")).sort();
    assertEquals(
      left,
      [
        `${q}:id`,
        `${q}:meta`,
        keys(other).job("j1"),
        k.worker("w1"),
      ].sort(),
    );
  } finally {
    redis.disconnect();
    await server.stop();
  }
});
