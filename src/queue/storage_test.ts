import { Buffer } from "node:buffer";
import { assert, assertEquals, rejectsWith } from "../testing/assert.ts";
import { StorageFullError } from "../errors/mod.ts";
import { testRedis } from "../testing/redis.ts";
import { connectRedis, isRedisOom, waitConnected } from "./redis.ts";
import { deriveBudget, parseInfoMemory, StorageBudget } from "./storage.ts";

Deno.test("parseInfoMemory reads used_memory and maxmemory", () => {
  const info =
    "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n" +
    "maxmemory:67108864\r\nmaxmemory_human:64.00M\r\n";
  assertEquals(parseInfoMemory(info), { used: 1048576, maxmemory: 67108864 });
  assertEquals(parseInfoMemory(""), { used: 0, maxmemory: 0 });
});

Deno.test("deriveBudget: configured, else 90 % of maxmemory, else a quarter of RAM", () => {
  assertEquals(deriveBudget(5000, 100_000, 1_000_000), 5000);
  assertEquals(deriveBudget(0, 100_000, 1_000_000), 90_000);
  assertEquals(deriveBudget(0, 0, 1_000_000), 250_000);
});

Deno.test("StorageBudget refuses past the budget, counting bytes admitted between readings, and recovers when space frees", async () => {
  const server = await testRedis({ maxmemory: 64 * 1024 * 1024 });
  const redis = connectRedis(server.url);
  try {
    await waitConnected(redis);
    const probe = new StorageBudget(redis, { budgetBytes: 0 });
    const start = await probe.usage();
    assertEquals(start.maxmemoryBytes, 64 * 1024 * 1024);
    assertEquals(start.budgetBytes, Math.floor(64 * 1024 * 1024 * 0.9));
    const budget = new StorageBudget(redis, {
      budgetBytes: start.usedBytes + 3_000_000,
      refreshMs: 60_000, // one reading: only the admitted bytes move
      retryAfterS: 7,
    });
    await budget.admit(1_000_000, "chunk 0", "job");
    await budget.admit(1_000_000, "chunk 1", "job");
    const refused = await rejectsWith(
      () => budget.admit(1_500_000, "chunk 2", "job"),
      StorageFullError,
    );
    assertEquals(refused.status, 429);
    assertEquals(refused.code, "storage_full");
    assertEquals(refused.retryAfterS, 7);
    assert(/chunk 2 refused/.test(refused.message), refused.message);
    assertEquals(budget.refusals, 1);
    // Unfinalized uploads may fill only 75 % of it: 2 MB admitted of 3 MB.
    await rejectsWith(
      () => budget.admit(300_000, "chunk 3", "staging"),
      StorageFullError,
    );
    await budget.admit(300_000, "a small job", "job");

    // Real bytes in Redis count at the next reading; deleting them frees.
    const fresh = new StorageBudget(redis, {
      budgetBytes: start.usedBytes + 3_000_000,
      refreshMs: 0,
    });
    await redis.set("big", Buffer.alloc(2_500_000, 1));
    await rejectsWith(
      () => fresh.admit(1_000_000, "chunk", "job"),
      StorageFullError,
    );
    await redis.del("big");
    // Redis also counts the client's input buffer, which it shrinks once
    // the client is idle: recovery comes within seconds, by itself.
    let admitted = false;
    for (let i = 0; i < 100 && !admitted; i++) {
      admitted = await fresh.admit(1_000_000, "chunk", "job").then(
        () => true,
        () => false,
      );
      if (!admitted) await new Promise((r) => setTimeout(r, 100));
    }
    assert(admitted, "still refused 10 s after the space was freed");
  } finally {
    redis.disconnect();
    await server.stop();
  }
});

Deno.test("Redis at its maxmemory refuses writes with an OOM error isRedisOom knows", async () => {
  const server = await testRedis({ maxmemory: 4 * 1024 * 1024 });
  const redis = connectRedis(server.url);
  try {
    await waitConnected(redis);
    let error: unknown = null;
    for (let i = 0; i < 20 && error === null; i++) {
      await redis.set(`k${i}`, Buffer.alloc(512 * 1024, i)).catch((e) => {
        error = e;
      });
    }
    assert(isRedisOom(error), `expected OOM, got ${error}`);
    // Reads still work, and nothing stored was evicted (noeviction).
    assertEquals((await redis.get("k0"))?.length, 512 * 1024);
  } finally {
    redis.disconnect();
    await server.stop();
  }
});

Deno.test("StorageBudget.limit: the budget for jobs, 75 % for unfinalized uploads, 90 % for long recordings", async () => {
  const server = await testRedis();
  const redis = connectRedis(server.url);
  try {
    await waitConnected(redis);
    const budget = new StorageBudget(redis, { budgetBytes: 1_000_000 });
    assertEquals(await budget.limit("job"), 1_000_000);
    assertEquals(await budget.limit("staging"), 750_000);
    assertEquals(await budget.limit("pieces"), 900_000);
  } finally {
    redis.disconnect();
    await server.stop();
  }
});
