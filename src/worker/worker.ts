/**
 * The transcription worker: loads each model once, takes job ids from the
 * BullMQ queue, decodes the audio, runs whisper.cpp and stores the result
 * exactly once. Publishes a heartbeat for readiness; `close()` finishes the
 * jobs in hand, then stops.
 */
import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq";
import { memTotal, type WorkerConfig } from "../config/mod.ts";
import {
  AppError,
  InvalidAudioError,
  StorageFullError,
  TimeLimitError,
} from "../errors/mod.ts";
import {
  clearHeartbeat,
  connectRedis,
  keys,
  pieceAudioBytes,
  PIECES_QUEUE_NAME,
  PieceStore,
  publishHeartbeat,
  QUEUE_NAME,
  StorageBudget,
  Store,
  type TranscribeJobData,
  TranscribeQueue,
  waitConnected,
} from "../queue/mod.ts";
import { decodeAudio } from "../audio/mod.ts";
import {
  type ClipJob,
  type PieceContext,
  processPiece,
  splitJob,
} from "./pieces.ts";
import { recordSegments } from "./segments.ts";
import { engineSettings } from "./engine_settings.ts";

/** A job record's decoding fields when the record is gone. */
const DEFAULT_CLIP_JOB: ClipJob = { language: "en", options: {} };
import {
  audioCtxFor,
  free,
  type ModelHandle,
  openModel,
  transcribe,
  type TranscribeOptions,
  type TranscribeTimings,
} from "../engine/mod.ts";
import { readGgmlLayout, verifyInstalledModel } from "../models/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";

/**
 * A long recording's split that finds the storage budget full waits this
 * long in its slot (a large write is counted twice for a moment), then
 * gives the slot back: its job is delayed by SPLIT_RETRY_MS, so that the
 * slots transcribe the pieces stored so far, which makes room. Waiting in
 * the slot instead, three long recordings on three workers held every
 * pieces slot and nothing was ever transcribed.
 */
const SPLIT_ROOM_WAIT_MS = 1_000;
const SPLIT_RETRY_MS = 5_000;
/**
 * A long recording still without room this long after it was queued fails
 * with `storage_full` (an hour of pieces is transcribed in ~90 s on 2
 * cores, so this means Redis is held by something else).
 */
const SPLIT_ROOM_GIVE_UP_MS = 30 * 60_000;

/** A running worker. */
export interface RunningWorker {
  id: string;
  /** Models loaded and ready. */
  models: string[];
  /** Why the worker is not ready; null when ready. */
  notReadyReason: string | null;
  /** Finishes the jobs in hand, then stops. Safe to call twice. */
  close(): Promise<void>;
}

/** Options beyond the environment configuration. */
export interface WorkerOptions {
  log?: Logger;
  /** Resolves a model name to a verified local file. @default verifyInstalledModel */
  resolveModel?: (name: string) => Promise<string>;
}

/** Starts a worker; resolves once its models are loaded (or failed to load). */
export async function startWorker(
  config: WorkerConfig,
  options: WorkerOptions = {},
): Promise<RunningWorker> {
  const id = config.WORKER_ID ??
    `w-${Deno.pid}-${crypto.randomUUID().slice(0, 6)}`;
  const log = options.log ?? createLogger(`worker ${id}`, config.LOG_LEVEL);
  // Nothing reaches the native loader unverified: size and SHA-1 against the
  // sidecar, then every tensor of the layout present (a sidecar made to match
  // a header-only stub can't vouch for it).
  const resolveModel = options.resolveModel ??
    (async (name: string) => {
      const { path } = await verifyInstalledModel(name, { checksum: true });
      await readGgmlLayout(path);
      return path;
    });
  const redis = connectRedis(config.REDIS_URL, {
    name: `worker-${id}`,
    forBullmq: true,
  });
  redis.on(
    "error",
    (e: Error) => log({ level: "warn", msg: "redis error", error: e.message }),
  );
  await waitConnected(redis, 10_000);
  const store = new Store(redis, config.REDIS_PREFIX);
  const pieceStore = new PieceStore(redis, config.REDIS_PREFIX);
  const queue = new TranscribeQueue(redis, config.REDIS_PREFIX, {
    attempts: config.JOB_ATTEMPTS,
  });

  const wanted = (config.WORKER_MODELS ?? config.DEFAULT_MODEL)
    .split(",").map((s) => s.trim()).filter(Boolean);
  const handles = new Map<string, ModelHandle>();
  const failures: string[] = [];
  for (const name of wanted) {
    try {
      const path = await resolveModel(name);
      const handle = await openModel(path);
      let warmup: TranscribeTimings | undefined;
      if (config.WARMUP) {
        // One short inference so the first real job doesn't pay for cold
        // caches. The sized pass only: on silence the confidence gate would
        // redo it at full context, which took 2.1 s instead of 0.1 s and
        // raised the worker's peak RSS from 147 to 270 MiB (q8_0).
        ({ timings: warmup } = await transcribe(
          handle,
          new Float32Array(16_000),
          {
            threads: config.WHISPER_THREADS,
            audioCtx: audioCtxFor(1, {
              floor: config.AUDIO_CTX_FLOOR,
              margin: config.AUDIO_CTX_MARGIN_S,
            }),
            guard: false,
            minAvgLogprob: -Infinity,
          },
        ));
      }
      handles.set(name, handle);
      log({
        msg: "model loaded",
        model: name,
        path,
        load_ms: Math.round(handle.loadMs),
        warmup_ms: warmup && Math.round(warmup.total_ms),
      });
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
      log({
        level: "error",
        msg: "model not loaded",
        model: name,
        error: String(error),
      });
    }
  }
  const notReadyReason = handles.size === 0
    ? `no model could be loaded (${failures.join("; ")})`
    : null;

  let busy = 0;
  /** CPU the engine's calls used since the worker started (heartbeat). */
  let engineCpuMs = 0;
  const beat = () =>
    publishHeartbeat(redis, config.REDIS_PREFIX, {
      worker_id: id,
      pid: Deno.pid,
      ready: notReadyReason === null,
      reason: notReadyReason,
      models: [...handles.keys()],
      busy,
      concurrency: config.WORKER_CONCURRENCY,
      threads: config.WHISPER_THREADS,
      engine_cpu_ms: Math.round(engineCpuMs * 1000) / 1000,
      at: Date.now(),
    }, config.HEARTBEAT_MS * 3).catch((e) =>
      log({ level: "warn", msg: "heartbeat failed", error: String(e) })
    );

  /** The time limit of transcribing `durationS` of audio, ms. */
  const timeLimitMs = (durationS: number) =>
    (config.JOB_TIME_LIMIT_FLOOR_S + config.JOB_TIME_LIMIT_FACTOR * durationS) *
    1000;
  /** What the FAULT_LEAK_KIB_PER_JOB fault keeps (never read, never freed). */
  const leaked: Uint8Array[] = [];
  let hangsLeft = config.FAULT_PROCESSING_HANG;
  /**
   * Transcribes within the clip's time limit: whisper stops itself at the
   * deadline (TimeLimitError); the race is the backstop for a hang outside
   * it (and the FAULT_PROCESSING_HANG fault, test-only).
   */
  const transcribeLimited = (
    handle: ModelHandle,
    samples: Float32Array,
    options: TranscribeOptions,
  ) => {
    const limit = options.timeLimitMs!;
    const work = hangsLeft > 0
      ? (hangsLeft--, new Promise<never>(() => {}))
      : transcribe(handle, samples, options).then((r) => {
        engineCpuMs += r.timings?.cpu_ms ?? 0;
        return r;
      });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TimeLimitError(
              `transcription stopped at its time limit of ${
                Math.round(limit)
              } ms`,
            ),
          ),
        limit + 1000,
      );
    });
    return Promise.race([work, backstop]).finally(() => clearTimeout(timer));
  };

  /**
   * The engine options for a clip of `durationS` of job `job` (a `piece` of
   * a long recording, or a whole job).
   */
  const clipOptions = (
    durationS: number,
    job: ClipJob,
    piece = false,
  ): TranscribeOptions => ({
    ...engineSettings(config, durationS, piece),
    timeLimitMs: timeLimitMs(durationS),
    language: job.language === "auto" ? "auto" : job.language,
    prompt: job.options.prompt,
    temperature: job.options.temperature,
    detail: job.options.detail !== undefined,
    wordTimestamps: job.options.detail === "word",
  });

  const storage = new StorageBudget(redis, {
    budgetBytes: config.STORAGE_BUDGET_BYTES,
    memTotalBytes: memTotal(),
  });
  // What the API admits, and a second more for decoders that disagree.
  const maxDurationS = config.MAX_AUDIO_DURATION_S + 1;
  const pieceCtx: PieceContext = {
    workerId: id,
    store,
    pieces: pieceStore,
    queue,
    log,
    pieceMaxS: config.PIECE_MAX_S,
    ttlS: config.JOB_TTL_S,
    decode: (bytes) => decodeAudio(bytes, { maxDurationS }),
    piecesLimit: () => storage.limit("pieces"),
    roomWaitMs: SPLIT_ROOM_WAIT_MS,
    transcribeClip: async (model, samples, job) => {
      const handle = handles.get(model);
      if (!handle) {
        throw new UnrecoverableError(
          `model "${model}" is not loaded by this worker`,
        );
      }
      const r = await transcribeLimited(
        handle,
        samples,
        clipOptions(samples.length / 16_000, job, true),
      );
      return { text: r.text, segments: r.segments };
    },
    busy: (delta) => {
      busy += delta;
    },
  };

  // Whether the pieces' share of the storage budget has a quarter free (at
  // least a piece): a split paused for room resumes only then, rather than
  // decoding again for a piece or two each time one is transcribed.
  const pieceBytes = pieceAudioBytes(config.PIECE_MAX_S);
  const roomToResume = async () => {
    const limit = await storage.limit("pieces");
    return (await storage.usage()).usedBytes +
        Math.max(pieceBytes, limit / 4) <= limit;
  };
  /**
   * Gives a long recording's slot back when its pieces have no room: the
   * job is delayed (not an attempt) and split again later, keeping what is
   * stored; past SPLIT_ROOM_GIVE_UP_MS it fails with `storage_full`.
   */
  const splitLater = async (
    job: Job<TranscribeJobData>,
    token: string | undefined,
  ): Promise<never> => {
    if (Date.now() - job.timestamp > SPLIT_ROOM_GIVE_UP_MS) {
      throw new StorageFullError(
        `the service's storage had no room for this recording's pieces within ${
          SPLIT_ROOM_GIVE_UP_MS / 60_000
        } min of its upload`,
      );
    }
    await store.releaseAttempt(job.id!);
    await job.moveToDelayed(Date.now() + SPLIT_RETRY_MS, token);
    throw new DelayedError();
  };

  const process = async (
    job: Job<TranscribeJobData>,
    token?: string,
  ): Promise<string> => {
    if (job.data.piece) {
      return await processPiece(
        pieceCtx,
        job,
        job.data.piece,
        config.FAULT_PROCESSING_DELAY_MS,
      );
    }
    const jobId = job.id!;
    const tTake = performance.now();
    // One round trip: the job moved to processing, its record and audio.
    const { before, job: record, audio: bytes } = await store.takeJob(
      jobId,
      id,
    );
    if (before === null) return "gone"; // cancelled or deleted
    if (before === "completed" || before === "failed") return "already-final";
    busy++;
    try {
      const modelName = record?.model_name ?? job.data.model;
      const handle = handles.get(modelName);
      if (!handle) {
        await store.failJob(jobId, {
          code: "model_not_installed",
          message:
            `model "${modelName}" is not loaded by this worker (loaded: ${
              [...handles.keys()].join(", ") || "none"
            })`,
        });
        throw new UnrecoverableError(`model ${modelName} not loaded`);
      }
      if (!bytes) {
        await store.failJob(jobId, {
          code: "audio_missing",
          message: "the job's audio expired",
        });
        throw new UnrecoverableError("audio missing");
      }
      // Put off for room (splitLater): until a quarter of the pieces' share
      // is free, nothing to do, not even decoding (2 s of CPU for an hour
      // of MP3).
      const planned = record !== null && record.pieces_total !== null;
      if (planned && !(await roomToResume())) {
        return await splitLater(job, token);
      }
      const t0 = performance.now();
      const audio = await decodeAudio(bytes, { maxDurationS });
      if (record && audio.durationS > config.PIECE_THRESHOLD_S) {
        log({
          level: "debug",
          msg: "job decoded",
          job_id: jobId,
          take_ms: Math.round(t0 - tTake),
          decode_ms: Math.round(performance.now() - t0),
        });
        const split = await splitJob(pieceCtx, record, modelName, audio);
        if (split !== "no-room") return split;
        return await splitLater(job, token);
      }
      const result = await transcribeLimited(
        handle,
        audio.samples,
        clipOptions(audio.durationS, record ?? DEFAULT_CLIP_JOB),
      );
      if (config.FAULT_PROCESSING_DELAY_MS > 0) {
        // Fault injection (FAULT_INJECTION=test-only): measures the perf verdict.
        await new Promise((r) =>
          setTimeout(r, config.FAULT_PROCESSING_DELAY_MS)
        );
      }
      const processingMs = performance.now() - t0;
      // Stored once, with the processing histogram, the audio dropped and
      // the long polls woken, in one script.
      const stored = await store.completeJob(jobId, {
        transcript: result.text,
        segments: recordSegments(result.segments),
        processing_ms: processingMs,
        audio_duration_s: Math.round(audio.durationS * 1000) / 1000,
        model_name: modelName,
      }, { recordProcessing: true });
      if (config.FAULT_LEAK_KIB_PER_JOB > 0) {
        // Fault injection (FAULT_INJECTION=test-only): a leak for the soak.
        leaked.push(
          new Uint8Array(config.FAULT_LEAK_KIB_PER_JOB * 1024).fill(1),
        );
      }
      log({
        level: "debug",
        msg: "job done",
        job_id: jobId,
        processing_ms: Math.round(processingMs),
        audio_ctx: result.timings?.audio_ctx,
        avg_logprob: result.timings?.avg_logprob,
        retry_reason: result.timings?.retry_reason,
        stored,
      });
      return stored ? "completed" : "already-final";
    } catch (error) {
      if (
        error instanceof UnrecoverableError || error instanceof DelayedError
      ) throw error;
      // Bad audio, or audio that ran past its time limit: the same again.
      if (
        error instanceof InvalidAudioError || error instanceof TimeLimitError ||
        error instanceof StorageFullError
      ) {
        await store.failJob(jobId, {
          code: error.code,
          message: error.message,
        });
        throw new UnrecoverableError(error.message);
      }
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        const code = error instanceof AppError
          ? error.code
          : "transcription_failed";
        await store.failJob(jobId, {
          code,
          message: (error as Error).message ?? String(error),
        });
      }
      log({
        level: "warn",
        msg: "job attempt failed",
        job_id: jobId,
        error: String(error),
      });
      throw error;
    } finally {
      busy--;
    }
  };

  // Two queues, each with its own slots: whole jobs, and long recordings'
  // pieces. A short job never waits for a piece in hand to finish.
  const bulls: Worker<TranscribeJobData>[] = [];
  if (notReadyReason === null) {
    for (
      const [name, concurrency] of [
        [QUEUE_NAME, config.WORKER_CONCURRENCY],
        [PIECES_QUEUE_NAME, config.PIECE_CONCURRENCY],
      ] as const
    ) {
      if (concurrency === 0) continue;
      const bull = new Worker<TranscribeJobData>(name, process, {
        connection: redis,
        prefix: keys(config.REDIS_PREFIX).bullPrefix,
        concurrency,
        lockDuration: config.LOCK_MS,
        stalledInterval: config.STALLED_INTERVAL_MS,
        maxStalledCount: 2,
        autorun: true,
      });
      bull.on(
        "error",
        (e) => log({ level: "warn", msg: "queue error", error: String(e) }),
      );
      bulls.push(bull);
    }
    await Promise.all(bulls.map((b) => b.waitUntilReady()));
  }
  await beat();
  const timer = setInterval(beat, config.HEARTBEAT_MS);

  let closing: Promise<void> | null = null;
  return {
    id,
    models: [...handles.keys()],
    notReadyReason,
    close: () =>
      closing ??= (async () => {
        clearInterval(timer);
        await Promise.all(bulls.map((b) => b.close()));
        await queue.close();
        await clearHeartbeat(redis, config.REDIS_PREFIX, id).catch(() =>
          undefined
        );
        for (const h of handles.values()) await free(h);
        redis.disconnect();
      })(),
  };
}
