/**
 * Runs the store's Lua scripts by their SHA1 (EVALSHA), so a call sends the
 * script's name rather than its body and Redis doesn't hash the body on
 * every call; a Redis that doesn't know the script yet (first call, or
 * after a restart) answers NOSCRIPT and gets the body once (EVAL, which
 * also caches it).
 */
import { createHash } from "node:crypto";
import type { Buffer } from "node:buffer";
import type { Redis } from "ioredis";

/** An argument of a script call. */
export type ScriptArg = string | number | Buffer;

const shas = new Map<string, string>();

/** The SHA1 Redis knows `source` by. */
export function scriptSha(source: string): string {
  let sha = shas.get(source);
  if (sha === undefined) {
    sha = createHash("sha1").update(source).digest("hex");
    shas.set(source, sha);
  }
  return sha;
}

/**
 * Runs Lua `source` with `numKeys` keys first among `args`: by SHA1, and
 * with the body only when Redis answers NOSCRIPT. Strings in the reply.
 */
export function runScript(
  redis: Redis,
  source: string,
  numKeys: number,
  ...args: ScriptArg[]
): Promise<unknown> {
  return run(redis, false, source, numKeys, args);
}

/** {@linkcode runScript} with Buffers in the reply (for binary values). */
export function runScriptBuffer(
  redis: Redis,
  source: string,
  numKeys: number,
  ...args: ScriptArg[]
): Promise<unknown> {
  return run(redis, true, source, numKeys, args);
}

async function run(
  redis: Redis,
  buffers: boolean,
  source: string,
  numKeys: number,
  args: ScriptArg[],
): Promise<unknown> {
  try {
    return buffers
      ? await redis.callBuffer("EVALSHA", scriptSha(source), numKeys, ...args)
      : await redis.evalsha(scriptSha(source), numKeys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) {
      throw error;
    }
    return buffers
      ? await redis.callBuffer("EVAL", source, numKeys, ...args)
      : await redis.eval(source, numKeys, ...args);
  }
}
