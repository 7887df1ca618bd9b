/**
 * The embedded stack: a private Redis (unless a URL is given), the API and N
 * workers as subprocesses. Ready only when the API answers and every worker
 * has said it is ready; a worker that dies is restarted with backoff; a Redis
 * or API death ends the stack. `stop()` stops everything it started.
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
  /** Folder for every component's log. @default a new temporary folder */
  logDir?: string;
  /** Extra environment for every component. */
  env?: Record<string, string>;
  /** Extra environment for workers only. */
  workerEnv?: Record<string, string>;
  /** Restart a worker that dies. @default true */
  restartWorkers?: boolean;
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
  baseUrl: string;
  redisUrl: string;
  logDir: string;
  /** Resolves when the API or Redis dies (never when stopped on purpose). */
  died: Promise<ComponentDeath>;
  /** The processes running now (api, workers, redis). */
  processes(): ManagedProcess[];
  /** Worker restarts so far. */
  restarts(): number;
  /** Stops every process started; safe to call twice. */
  stop(): Promise<void>;
}

const DENO_ARGS = ["run", "-A", "--quiet"];

/** Starts the stack; on any start-up failure stops what it started and throws. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const say = options.onEvent ?? (() => undefined);
  const logDir = options.logDir ??
    await Deno.makeTempDir({ prefix: "wt-stack-" });
  await Deno.mkdir(logDir, { recursive: true });
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

  try {
    let redisUrl = options.redisUrl;
    if (!redisUrl) {
      say("starting redis-server");
      redis = await startRedisServer({ dir: logDir, durable: options.durable });
      redisUrl = redis.url;
      say(`redis ready at ${redisUrl}`);
      const r = redis;
      r.process.exited.then((exit) => {
        if (!stopping) deathSignal.resolve(death("redis", r.process, exit));
      });
    }
    const env: Record<string, string> = {
      ...Deno.env.toObject(),
      REDIS_URL: redisUrl,
      ...(options.model ? { DEFAULT_MODEL: options.model } : {}),
      ...options.env,
    };

    say("starting api");
    const apiUrl = Promise.withResolvers<string>();
    const apiProc = api = spawnManaged({
      name: "api",
      cmd: Deno.execPath(),
      args: [...DENO_ARGS, join(PROJECT_ROOT, "src/api/main.ts")],
      env: { ...env, PORT: String(options.port ?? 0), HOST: "127.0.0.1" },
      logPath: join(logDir, "api.log"),
      onLine: (line) => {
        const m = /^listening: (\S+)/.exec(line);
        if (m) apiUrl.resolve(m[1]!);
      },
    });
    const apiDied = apiProc.exited.then((exit) => {
      if (!stopping) deathSignal.resolve(death("api", apiProc, exit));
      throw new Error(startFailure("api", apiProc, exit));
    });
    apiDied.catch(() => undefined);
    const baseUrl = await withTimeout(
      Promise.race([apiUrl.promise, apiDied]),
      timeoutMs,
      "api to listen",
    );
    await waitUntil("api /health", async () => {
      const r = await fetch(`${baseUrl}/health`);
      await r.body?.cancel();
      return r.ok;
    }, { timeoutMs, abort: apiDied as Promise<never> });
    say(`api ready at ${baseUrl}`);

    const spawnWorker = (
      i: number,
    ): { proc: ManagedProcess; ready: Promise<void> } => {
      const name = `worker-${i + 1}`;
      const ready = Promise.withResolvers<void>();
      const proc = spawnManaged({
        name,
        cmd: Deno.execPath(),
        args: [...DENO_ARGS, join(PROJECT_ROOT, "src/worker/main.ts")],
        env: {
          ...env,
          ...options.workerEnv,
          WORKER_ID: `${name}-${Date.now().toString(36)}`,
        },
        logPath: join(logDir, `${name}.log`),
        onLine: (line) => {
          if (line.startsWith("ready: worker")) ready.resolve();
          else if (line.startsWith("not ready: worker")) {
            ready.reject(new Error(`${name} ${line}`));
          }
        },
      });
      workers[i] = proc;
      const startedAt = Date.now();
      proc.exited.then((exit) => {
        ready.reject(new Error(startFailure(name, proc, exit)));
        if (stopping || options.restartWorkers === false) return;
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
    await withTimeout(
      Promise.race([
        Promise.all(started.map(async (s, i) => {
          await s.ready;
          say(`worker-${i + 1} ready`);
        })),
        apiDied,
      ]),
      timeoutMs,
      "workers to load their models",
    );
    await waitUntil("api /health/ready", async () => {
      const r = await fetch(`${baseUrl}/health/ready`);
      await r.body?.cancel();
      return r.ok;
    }, { timeoutMs: 30_000, abort: apiDied as Promise<never> });

    return {
      baseUrl,
      redisUrl,
      logDir,
      died: deathSignal.promise,
      processes: () =>
        [api, ...workers, redis?.process].filter((p): p is ManagedProcess =>
          p !== null && p !== undefined
        ),
      restarts: () => restarts,
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
