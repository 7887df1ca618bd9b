/**
 * The embedded stack: a private Redis (unless a URL is given), the API and N
 * workers as subprocesses. Ready only when the API answers and every worker
 * has said it is ready; a worker that dies is restarted with backoff (logged,
 * and counted by `restarts()`); a Redis or API death ends the stack.
 * `stop()` stops everything it started. Fault tests can stop and restart
 * Redis (same port and folder) and restart the API (same port).
 */
import { join } from "node:path";
import { ConfigError } from "../errors/mod.ts";
import { PROJECT_ROOT } from "../config/mod.ts";
import {
  type Exit,
  type ManagedProcess,
  spawnManaged,
  waitUntil,
} from "./process.ts";
import { type RedisServer, startRedisServer } from "./redis_server.ts";

/** Options of {@linkcode startStack}. */
export interface StackOptions {
  /** API port; 0 picks a free one. @default 0 */
  port?: number;
  /** Number of worker processes. @default 1 */
  workers?: number;
  /** Model the API defaults to and workers load. */
  model?: string;
  /** Use this Redis instead of starting one. */
  redisUrl?: string;
  /** Redis append-only file with fsync every second. @default false */
  durable?: boolean;
  /**
   * The stack's own Redis's `maxmemory` (bytes, `noeviction`); 0: none.
   * @default defaultRedisMaxmemory() (a quarter of RAM, at most 1 GiB)
   */
  redisMaxmemory?: number;
  /** Folder for every component's log. @default a new temporary folder */
  logDir?: string;
  /** Extra environment for every component. */
  env?: Record<string, string>;
  /** Extra environment for workers only. */
  workerEnv?: Record<string, string>;
  /** Restart a worker that dies. @default true */
  restartWorkers?: boolean;
  /**
   * Wait for every worker to be ready (and the API's `/health/ready`); when
   * false a worker that starts but reports "not ready" is accepted.
   * @default true
   */
  requireReadyWorkers?: boolean;
  /** Progress messages ("starting redis", "worker-1 ready", …). */
  onEvent?: (message: string) => void;
  /** Start-up timeout per component, ms. @default 120000 */
  timeoutMs?: number;
}

/** A component that died, with the end of its log. */
export interface ComponentDeath {
  component: string;
  exit: Exit;
  tail: string[];
  logPath: string;
}

/** A running stack. */
export interface Stack {
  /** The API's URL (the same port across {@linkcode Stack.restartApi}). */
  readonly baseUrl: string;
  redisUrl: string;
  logDir: string;
  /** Resolves when the API or Redis dies (never when stopped on purpose). */
  died: Promise<ComponentDeath>;
  /** The processes running now (api, workers, redis). */
  processes(): ManagedProcess[];
  /** Worker restarts so far. */
  restarts(): number;
  /** Every stack event so far ("worker-1 died …; restarting in 1000 ms"). */
  events(): string[];
  /**
   * Stops the stack's own Redis with `signal` (SIGTERM: a clean shutdown;
   * SIGKILL: a crash) and waits for it to exit. Throws when the stack uses
   * an external Redis.
   */
  stopRedis(signal?: "SIGTERM" | "SIGKILL"): Promise<Exit>;
  /** Starts the stack's Redis again on the same port and folder (its AOF in durable mode). */
  startRedis(): Promise<void>;
  /**
   * Stops the API with `signal` (SIGKILL by default: a crash), starts a new
   * one on the same port, and resolves when it answers `/health`.
   */
  restartApi(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Stops every process started; safe to call twice. */
  stop(): Promise<void>;
}

const DENO_ARGS = ["run", "-A", "--quiet"];

/** Starts the stack; on any start-up failure stops what it started and throws. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const logDir = options.logDir ??
    await Deno.makeTempDir({ prefix: "wt-stack-" });
  await Deno.mkdir(logDir, { recursive: true });
  const eventLog: string[] = [];
  const say = (message: string) => {
    eventLog.push(message);
    try {
      Deno.writeTextFileSync(
        join(logDir, "stack.log"),
        `${new Date().toISOString()} ${message}\n`,
        { append: true },
      );
    } catch {
      // the log folder was removed under us; events() still has it
    }
    options.onEvent?.(message);
  };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const workerCount = options.workers ?? 1;
  if (!Number.isInteger(workerCount) || workerCount < 1 || workerCount > 64) {
    throw new ConfigError(
      `--workers must be an integer in 1..64, got ${workerCount}`,
    );
  }
  let redis: RedisServer | null = null;
  let api: ManagedProcess | null = null;
  const workers: (ManagedProcess | null)[] = [];
  let stopping = false;
  let restarts = 0;
  /** Components stopped on purpose by a fault test (their exit is no death). */
  let redisDown = false;
  let apiRestarting = false;
  /** True once start-up has succeeded (workers are restarted from then on). */
  let up = false;
  /** Workers that started but said "not ready" (e.g. a broken model). */
  const notReady = new Set<string>();
  const deathSignal = Promise.withResolvers<ComponentDeath>();
  const restartTimers = new Set<ReturnType<typeof setTimeout>>();

  const death = (
    component: string,
    p: ManagedProcess,
    exit: Exit,
  ): ComponentDeath => ({
    component,
    exit,
    tail: p.tail(20),
    logPath: p.logPath,
  });

  const stopAll = async () => {
    stopping = true;
    for (const t of restartTimers) clearTimeout(t);
    // Workers first (they finish their jobs), then the API, then Redis.
    await Promise.allSettled(workers.map((w) => w?.stop(15_000)));
    await api?.stop(5000);
    await redis?.stop();
  };

  const watchRedis = (r: RedisServer) => {
    r.process.exited.then((exit) => {
      if (!stopping && !redisDown && redis === r) {
        deathSignal.resolve(death("redis", r.process, exit));
      }
    });
  };

  const spawnApi = (port: number) => {
    const url = Promise.withResolvers<string>();
    const proc = spawnManaged({
      name: "api",
      cmd: Deno.execPath(),
      args: [...DENO_ARGS, join(PROJECT_ROOT, "src/tasks/api.ts")],
      env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
      logPath: join(logDir, "api.log"),
      onLine: (line) => {
        const m = /^listening: (\S+)/.exec(line);
        if (m) url.resolve(m[1]!);
      },
    });
    api = proc;
    const died = proc.exited.then((exit) => {
      if (!stopping && !apiRestarting && api === proc) {
        deathSignal.resolve(death("api", proc, exit));
      }
      throw new Error(startFailure("api", proc, exit));
    });
    died.catch(() => undefined);
    const listening = (async () => {
      const u = await withTimeout(
        Promise.race([url.promise, died]),
        timeoutMs,
        "api to listen",
      );
      await waitUntil("api /health", async () => {
        const r = await fetch(`${u}/health`);
        await r.body?.cancel();
        return r.ok;
      }, { timeoutMs, abort: died as Promise<never> });
      return u;
    })();
    return { proc, died, listening };
  };
  let env: Record<string, string> = {};

  try {
    let redisUrl = options.redisUrl;
    if (!redisUrl) {
      say("starting redis-server");
      redis = await startRedisServer({
        dir: logDir,
        durable: options.durable,
        maxmemory: options.redisMaxmemory,
      });
      redisUrl = redis.url;
      say(
        `redis ready at ${redisUrl}${
          redis.socketPath ? ` and ${redis.socketPath}` : ""
        }`,
      );
      watchRedis(redis);
    }
    env = {
      ...Deno.env.toObject(),
      // The stack's own Redis runs on this host: its processes use the Unix
      // socket (less CPU per command on both sides than loopback TCP).
      REDIS_URL: redis?.socketPath ?? redisUrl,
      ...(options.model ? { DEFAULT_MODEL: options.model } : {}),
      ...options.env,
    };

    say("starting api");
    const first = spawnApi(options.port ?? 0);
    const apiDied = first.died;
    let baseUrl = await first.listening;
    const apiPort = Number(new URL(baseUrl).port);
    say(`api ready at ${baseUrl}`);

    const spawnWorker = (
      i: number,
    ): { proc: ManagedProcess; ready: Promise<void> } => {
      const name = `worker-${i + 1}`;
      const ready = Promise.withResolvers<void>();
      const proc = spawnManaged({
        name,
        cmd: Deno.execPath(),
        args: [...DENO_ARGS, join(PROJECT_ROOT, "src/tasks/worker.ts")],
        env: {
          // One malloc arena: glibc's per-thread arenas otherwise keep the
          // engine's freed buffers, and a worker's RSS swings 290–680 MiB.
          MALLOC_ARENA_MAX: "1",
          ...env,
          ...options.workerEnv,
          WORKER_ID: `${name}-${Date.now().toString(36)}`,
        },
        logPath: join(logDir, `${name}.log`),
        onLine: (line) => {
          if (line.startsWith("ready: worker")) {
            notReady.delete(name);
            ready.resolve();
          } else if (line.startsWith("not ready: worker")) {
            say(`${name} ${line}`);
            notReady.add(name);
            if (options.requireReadyWorkers === false) ready.resolve();
            else ready.reject(new Error(`${name} ${line}`));
          }
        },
      });
      workers[i] = proc;
      const startedAt = Date.now();
      proc.exited.then((exit) => {
        ready.reject(new Error(startFailure(name, proc, exit)));
        // A worker that dies during start-up fails the start instead.
        if (stopping || !up || options.restartWorkers === false) return;
        // Restart with backoff: quick at first, slower if it keeps dying.
        restarts++;
        const healthyFor = Date.now() - startedAt;
        const delay = healthyFor > 60_000
          ? 500
          : Math.min(10_000, 500 * 2 ** Math.min(5, restarts));
        say(
          `${name} died (code ${exit.code}${
            exit.signal ? `, ${exit.signal}` : ""
          }); restarting in ${delay} ms`,
        );
        const t = setTimeout(() => {
          restartTimers.delete(t);
          if (stopping) return;
          const again = spawnWorker(i);
          again.ready.then(() => say(`${name} restarted`), () => undefined);
        }, delay);
        restartTimers.add(t);
      });
      ready.promise.catch(() => undefined);
      return { proc, ready: ready.promise };
    };

    say(`starting ${workerCount} worker(s)`);
    const started = Array.from(
      { length: workerCount },
      (_, i) => spawnWorker(i),
    );
    // Every worker settles (ready, not ready, or dead) before a verdict, so
    // when several fail the lowest-numbered one is named, whatever the timing.
    const settled = await withTimeout(
      Promise.race([
        Promise.allSettled(started.map(async (s, i) => {
          await s.ready;
          if (!notReady.has(`worker-${i + 1}`)) say(`worker-${i + 1} ready`);
        })),
        apiDied,
      ]),
      timeoutMs,
      "workers to load their models",
    );
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    up = true;
    if (options.requireReadyWorkers !== false) {
      await waitUntil("api /health/ready", async () => {
        const r = await fetch(`${baseUrl}/health/ready`);
        await r.body?.cancel();
        return r.ok;
      }, { timeoutMs: 30_000, abort: apiDied as Promise<never> });
    }

    const ownRedis = (): RedisServer => {
      if (!redis) {
        throw new Error("the stack uses an external Redis (--redis-url)");
      }
      return redis;
    };
    return {
      get baseUrl() {
        return baseUrl;
      },
      redisUrl,
      logDir,
      died: deathSignal.promise,
      processes: () =>
        [api, ...workers, redis?.process].filter((p): p is ManagedProcess =>
          p !== null && p !== undefined
        ),
      restarts: () => restarts,
      events: () => [...eventLog],
      stopRedis: async (signal = "SIGTERM") => {
        const r = ownRedis();
        redisDown = true;
        say(`stopping redis (${signal})`);
        r.process.kill(signal);
        const exit = await r.process.exited;
        say(`redis stopped (code ${exit.code})`);
        return exit;
      },
      startRedis: async () => {
        const old = ownRedis();
        if (!redisDown) throw new Error("redis is running");
        say("starting redis again");
        const r = await startRedisServer({
          dir: logDir,
          durable: options.durable,
          maxmemory: options.redisMaxmemory,
          port: old.port,
        });
        redis = r;
        redisDown = false;
        watchRedis(r);
        say(`redis ready again at ${r.url}`);
      },
      restartApi: async (signal = "SIGKILL") => {
        const old = api!;
        apiRestarting = true;
        try {
          say(`stopping api (${signal})`);
          old.kill(signal);
          await old.exited;
          // The port was ours a moment ago; retry while the kernel frees it.
          let lastError: unknown;
          for (let attempt = 0; attempt < 5; attempt++) {
            const next = spawnApi(apiPort);
            try {
              baseUrl = await next.listening;
              say(`api restarted at ${baseUrl}`);
              return;
            } catch (error) {
              lastError = error;
              await next.proc.stop(2000);
            }
          }
          throw new Error(`api did not restart: ${lastError}`, {
            cause: lastError,
          });
        } finally {
          apiRestarting = false;
        }
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function startFailure(name: string, p: ManagedProcess, exit: Exit): string {
  const tail = p.tail(15).join("\n    ");
  return `${name} exited with code ${exit.code}${
    exit.signal ? ` (${exit.signal})` : ""
  }; ` +
    `log ${p.logPath}, last lines:\n    ${tail || "(no output)"}`;
}

async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
