import { Buffer } from "node:buffer";
import { assertEquals, assertMatch, rejectsWith } from "../testing/assert.ts";
import { testRedis } from "../testing/redis.ts";
import { connectRedis, waitConnected } from "./redis.ts";
import { runScript, runScriptBuffer, scriptSha } from "./lua.ts";

const ECHO = "redis.call('SET', KEYS[1], ARGV[1]); return {ARGV[1], #ARGV[2]}";

Deno.test("runScript: by SHA1 once Redis knows the script, the body only after NOSCRIPT, binary replies kept", async () => {
  const server = await testRedis();
  const redis = connectRedis(server.url);
  const probe = connectRedis(server.url);
  try {
    await Promise.all([waitConnected(redis), waitConnected(probe)]);
    const sha = scriptSha(ECHO);
    assertEquals(sha.length, 40);
    assertEquals(await probe.script("EXISTS", sha), [0]);
    const stats = async () => {
      const info = await probe.info("commandstats");
      const calls = (name: string) =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return { eval: calls("eval"), evalsha: calls("evalsha") };
    };
    // Unknown to Redis: EVALSHA answers NOSCRIPT, the body goes once.
    assertEquals(await runScript(redis, ECHO, 1, "k", "v", "abc"), ["v", 3]);
    assertEquals(await probe.script("EXISTS", sha), [1]);
    assertEquals(await stats(), { eval: 1, evalsha: 1 });
    // Known: by SHA1 alone.
    for (let i = 0; i < 3; i++) {
      assertEquals(await runScript(redis, ECHO, 1, "k", `v${i}`, "ab"), [
        `v${i}`,
        2,
      ]);
    }
    assertEquals(await stats(), { eval: 1, evalsha: 4 });
    assertEquals(await probe.get("k"), "v2");
    // Forgotten (a restarted Redis): the body again, once.
    await probe.script("FLUSH");
    const bytes = Buffer.from([0, 255, 1, 254]);
    const [got, len] = await runScriptBuffer(
      redis,
      ECHO,
      1,
      "b",
      bytes,
      "xy",
    ) as [
      Buffer,
      number,
    ];
    assertEquals([...got], [0, 255, 1, 254]);
    assertEquals(len, 2);
    assertEquals(await stats(), { eval: 2, evalsha: 5 });
    // Script errors are not mistaken for NOSCRIPT.
    const failed = await rejectsWith(
      () => runScript(redis, "return redis.call('NOPE')", 0),
      Error,
    );
    assertMatch(failed.message, /Unknown Redis command/i);
    assertEquals((await stats()).eval, 3);
  } finally {
    redis.disconnect();
    probe.disconnect();
    await server.stop();
  }
});
