/**
 * Starts a private `redis-server` on a free loopback port in a temporary
 * directory, ready when it answers PING. It listens on a Unix socket in
 * that directory too: the stack's own processes, on the same host, talk to
 * it there — a command costs both sides less CPU than over loopback TCP.
 */
import { connectRedis, waitConnected } from "../queue/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { memTotal } from "../config/mod.ts";
import {
  freePort,
  type ManagedProcess,
  spawnManaged,
  waitUntil,
} from "./process.ts";

/** Options for {@linkcode startRedisServer}. */
export interface RedisServerOptions {
  /** Folder for the log (and, in durable mode, the data). */
  dir: string;
  /** Append-only file with fsync every second. @default false */
  durable?: boolean;
  /** Port to use (a free one by default). */
  port?: number;
  /** `redis-server` executable. @default "redis-server" */
  bin?: string;
  /**
   * Redis's `maxmemory`, bytes, with `noeviction` (writes past it are
   * refused, nothing stored is evicted); 0: no limit.
   * @default defaultRedisMaxmemory()
   */
  maxmemory?: number;
}

/**
 * The embedded Redis's memory limit: a quarter of this machine's memory,
 * at most 1 GiB (at least 64 MiB) — room for hundreds of queued
 * recordings, never enough to bring the host down.
 */
export function defaultRedisMaxmemory(memTotalBytes = memTotal()): number {
  const quarter = Math.floor(memTotalBytes / 4);
  return Math.max(64 * 1024 * 1024, Math.min(1024 * 1024 * 1024, quarter));
}

/** A running private Redis. */
export interface RedisServer {
  url: string;
  /**
   * Its Unix socket (owner only), or null when the directory's path is too
   * long for one.
   */
  socketPath: string | null;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Longest Unix socket path Linux takes (`sun_path`, 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/** Locates `redis-server` on PATH; null when absent. */
export async function findRedisServer(
  bin = "redis-server",
): Promise<string | null> {
  try {
    const out = await new Deno.Command(bin, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** Starts redis-server and waits until it answers PING. */
export async function startRedisServer(
  options: RedisServerOptions,
): Promise<RedisServer> {
  const bin = options.bin ?? "redis-server";
  if (!(await findRedisServer(bin))) {
    throw new ConfigError(
      `redis-server not found: run "deno task setup" or install the Debian package redis-server`,
    );
  }
  const socket = `${options.dir}/redis.sock`;
  const socketPath = new TextEncoder().encode(socket).length <= MAX_SOCKET_PATH
    ? socket
    : null;
  // A port found free can be taken before redis binds it: retry a few times.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? freePort();
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      options.dir,
      "--save",
      "",
      "--daemonize",
      "no",
      "--protected-mode",
      "yes",
      "--loglevel",
      "notice",
      "--maxmemory",
      String(options.maxmemory ?? defaultRedisMaxmemory()),
      "--maxmemory-policy",
      "noeviction",
      ...(socketPath
        ? ["--unixsocket", socketPath, "--unixsocketperm", "700"]
        : []),
    ];
    if (options.durable) {
      args.push("--appendonly", "yes", "--appendfsync", "everysec");
    } else args.push("--appendonly", "no");
    const proc = spawnManaged({
      name: "redis",
      cmd: bin,
      args,
      logPath: `${options.dir}/redis.log`,
    });
    const url = `redis://127.0.0.1:${port}`;
    const died = proc.exited.then((e) => {
      throw new Error(
        `redis-server exited with code ${e.code}: ${proc.tail(5).join(" | ")}`,
      );
    });
    died.catch(() => undefined);
    try {
      await waitUntil("redis PING", () => ping(url), {
        timeoutMs: 10_000,
        abort: died,
      });
      return {
        url,
        socketPath,
        port,
        process: proc,
        stop: async () => {
          await proc.stop(5000);
        },
      };
    } catch (error) {
      lastError = error;
      await proc.stop(2000);
    }
  }
  throw new Error(`could not start redis-server: ${lastError}`, {
    cause: lastError,
  });
}

async function ping(url: string): Promise<boolean> {
  const client = connectRedis(url, { name: "ping" });
  client.on("error", () => undefined);
  try {
    await waitConnected(client, 1000);
    return (await client.ping()) === "PONG";
  } finally {
    client.disconnect();
  }
}
