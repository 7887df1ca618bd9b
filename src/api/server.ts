/**
 * Runs the API: connects to Redis, serves the app, and shuts down cleanly on
 * SIGINT/SIGTERM.
 */
import { type ApiConfig, memTotal } from "../config/mod.ts";
import {
  Admission,
  connectRedis,
  JobEvents,
  liveWorkers,
  PieceStore,
  StorageBudget,
  Store,
  TranscribeQueue,
  waitConnected,
} from "../queue/mod.ts";
import { listInstalledModels } from "../models/mod.ts";
import { measureAudio } from "../audio/mod.ts";
import { createLogger } from "../log/mod.ts";
import { errorBody } from "../errors/mod.ts";
import { createApp } from "./app.ts";
import { type Guard, startGuard } from "./guard/mod.ts";

/** A running API server. */
export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the API with `config`; resolves once it is listening. */
export async function startApi(config: ApiConfig): Promise<ApiServer> {
  const log = createLogger("api", config.LOG_LEVEL);
  const redis = connectRedis(config.REDIS_URL, { name: "api" });
  // The producer fails fast while Redis is down (no offline queue), so a
  // request answers 503 instead of waiting for a reconnection.
  const bull = connectRedis(config.REDIS_URL, {
    name: "api-bull",
    offlineQueue: false,
  });
  const sub = connectRedis(config.REDIS_URL, {
    name: "api-sub",
    forBullmq: true,
  });
  for (const r of [redis, bull, sub]) {
    r.on(
      "error",
      (e: Error) =>
        log({ level: "warn", msg: "redis error", error: e.message }),
    );
  }
  // The subscriber too: a SUBSCRIBE queued before its connection is ready
  // can race ioredis's own ready check ("Connection in subscriber mode"),
  // leaving the API without job events — every long poll then ran to its
  // timeout (seen once in a perf:ab pair: all 60 jobs at 1.009 s).
  await Promise.all([redis, bull, sub].map((r) => waitConnected(r, 10_000)));
  const store = new Store(redis, config.REDIS_PREFIX);
  const queue = new TranscribeQueue(bull, config.REDIS_PREFIX);
  const events = new JobEvents(sub, store.keys.jobEvents);
  await events.ready();

  // Installed models: the local cache plus whatever live workers have loaded.
  let cached: { at: number; models: string[] } | null = null;
  const installedModels = async () => {
    if (cached && Date.now() - cached.at < 2000) return cached.models;
    const local = listInstalledModels();
    const remote = await liveWorkers(redis, config.REDIS_PREFIX)
      .then((ws) => ws.flatMap((w) => w.models))
      .catch(() => [] as string[]);
    cached = {
      at: Date.now(),
      models: [...new Set([...local, ...remote])].sort(),
    };
    return cached.models;
  };

  // The guard starts after the HTTP server behind it: late-bound.
  const guardRef: { current: Guard | null } = { current: null };
  const app = createApp({
    connections: () => guardRef.current?.stats ?? null,
    clientGone: (header) => guardRef.current?.clientGone(header),
    config,
    store,
    queue,
    events,
    installedModels,
    admission: new Admission(store, queue, config.REDIS_PREFIX, {
      maxBacklog: config.MAX_BACKLOG,
      pollBudgetS: config.POLL_BUDGET_S,
      pieceThresholdS: config.PIECE_THRESHOLD_S,
      longBudgetS: config.LONG_BUDGET_S,
      pieces: new PieceStore(redis, config.REDIS_PREFIX),
    }),
    storage: new StorageBudget(redis, {
      budgetBytes: config.STORAGE_BUDGET_BYTES,
      memTotalBytes: memTotal(),
    }),
    // No samples kept: a WAV's header, or ffmpeg to a null sink.
    checkAudio: (bytes, ffmpegTurn) =>
      measureAudio(bytes, { limitS: config.MAX_AUDIO_DURATION_S, ffmpegTurn }),
    log,
  });

  // The HTTP server listens on a private Unix socket behind the connection
  // guard, which holds the public address and the time limits.
  await removeStaleSockets();
  const socketDir = await Deno.makeTempDir({
    prefix: `${SOCKET_PREFIX}${Deno.pid}-`,
  });
  const socketPath = `${socketDir}/http.sock`;
  const inner = Promise.withResolvers<void>();
  const server = Deno.serve({
    path: socketPath,
    onListen: () => inner.resolve(),
    onError: (error) => {
      log({ level: "error", msg: "unhandled", error: String(error) });
      return Response.json(
        errorBody("internal_error", "internal server error"),
        { status: 500 },
      );
    },
  }, app.fetch);
  await inner.promise;
  const removeSocket = () =>
    Deno.remove(socketDir, { recursive: true }).catch(() => undefined);
  let guard: Guard;
  try {
    guard = startGuard({
      hostname: config.HOST,
      port: config.PORT,
      upstream: { path: socketPath },
      headTimeoutMs: config.REQUEST_HEAD_TIMEOUT_MS,
      bodyTimeoutMs: config.REQUEST_BODY_TIMEOUT_MS,
      idleTimeoutMs: config.KEEPALIVE_IDLE_TIMEOUT_MS,
      log,
    });
  } catch (error) {
    await server.shutdown();
    await removeSocket();
    throw error;
  }
  guardRef.current = guard;
  const addr = guard.addr;
  const url = `http://${addr.hostname}:${addr.port}`;
  log({ msg: "listening", url });
  let closing: Promise<void> | null = null;
  return {
    url,
    close: () =>
      closing ??= (async () => {
        guard.close();
        await server.shutdown();
        await removeSocket();
        await events.close();
        await queue.close();
        redis.disconnect();
        bull.disconnect();
        sub.disconnect();
      })(),
  };
}

/** Temporary folders holding an API's private socket: `<prefix><pid>-…`. */
const SOCKET_PREFIX = "whisper-api-";

/**
 * Removes the socket folders of API processes that no longer run (killed
 * before they could remove their own), so none pile up in the temp dir.
 */
async function removeStaleSockets(): Promise<void> {
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  try {
    for await (const e of Deno.readDir(tmp)) {
      const m = new RegExp(`^${SOCKET_PREFIX}(\\d+)-`).exec(e.name);
      if (!m || !e.isDirectory) continue;
      const alive = await Deno.stat(`/proc/${m[1]}`).then(
        () => true,
        () => false,
      );
      if (!alive) {
        await Deno.remove(`${tmp}/${e.name}`, { recursive: true })
          .catch(() => undefined);
      }
    }
  } catch { /* no such folder, or no /proc: nothing to tidy */ }
}
