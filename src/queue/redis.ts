/**
 * Redis connections. Request-path connections give up after one reconnect
 * attempt while Redis is down (so the API can answer 503 quickly); BullMQ
 * connections wait and retry.
 */
import { Redis } from "ioredis";
import { UnavailableError } from "../errors/mod.ts";

/** The longest a fail-fast (request-path) Redis command may take, ms. */
export const COMMAND_TIMEOUT_MS = 3000;

/** Options for {@linkcode connectRedis}. */
export interface ConnectOptions {
  /** BullMQ needs `maxRetriesPerRequest: null`; the API wants fail-fast. */
  forBullmq?: boolean;
  /** Connection name shown by CLIENT LIST. */
  name?: string;
  /**
   * Queue commands while disconnected. `false` makes every command fail at
   * once while Redis is down (BullMQ's advice for producers in a request
   * path). @default true
   */
  offlineQueue?: boolean;
}

/** Opens an ioredis connection to `url`. */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  const failFast = !options.forBullmq || options.offlineQueue === false;
  return new Redis(url, {
    connectionName: options.name,
    maxRetriesPerRequest: options.forBullmq ? null : 1,
    connectTimeout: 2000,
    // Bounds every request-path command, queued ones included (ioredis starts
    // the timer when the command is issued, not when it is written).
    commandTimeout: failFast ? COMMAND_TIMEOUT_MS : undefined,
    // Reconnect quickly: the API must recover within seconds of Redis returning.
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: false,
    enableOfflineQueue: options.offlineQueue ?? true,
  });
}

/** Resolves once `redis` is connected, or rejects after `timeoutMs`. */
export function waitConnected(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new UnavailableError(`Redis not reachable within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
    };
    redis.on("ready", onReady);
  });
}

/**
 * True when Redis refused a write at its `maxmemory` (`OOM command not
 * allowed when used memory > 'maxmemory'`).
 */
export function isRedisOom(error: unknown): boolean {
  return error instanceof Error && /^OOM /.test(error.message);
}

/** True when `error` comes from a lost or refused Redis connection. */
export function isRedisDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const m = error.message;
  return /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|connect ENOENT|enableOfflineQueue|Reached the max retries|Command timed out|EPIPE|connect ETIMEDOUT|LOADING/i
    .test(m);
}
