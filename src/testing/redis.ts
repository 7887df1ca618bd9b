/**
 * Test helpers: a private redis-server per test file, and a unique key prefix
 * per test, so suites never share state.
 */
import { type RedisServer, startRedisServer } from "../stack/redis_server.ts";

/**
 * Starts a private Redis in a fresh temporary folder (with `maxmemory`
 * bytes when given); `stop()` removes it.
 */
export async function testRedis(
  options: { maxmemory?: number } = {},
): Promise<RedisServer & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "wt-redis-" });
  const server = await startRedisServer({ dir, maxmemory: options.maxmemory });
  return {
    ...server,
    dir,
    stop: async () => {
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    },
  };
}

/** A key prefix unique to one test. */
export function testPrefix(name: string): string {
  return `t-${name.replace(/[^A-Za-z0-9]/g, "")}-${
    crypto.randomUUID().slice(0, 8)
  }`;
}
