/**
 * Component configuration read from the environment and validated with zod.
 * A bad value stops start-up with a message naming the variable.
 */
import { z } from "zod";
import { ConfigError } from "../errors/mod.ts";

const intFrom = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);
const bool = z.enum(["0", "1", "true", "false"]).transform((v) =>
  v === "1" || v === "true"
);
/** `redis://host:port` (or `rediss://`), or the absolute path of Redis's Unix socket. */
/** A mean token log-probability threshold: -30..0, or `off` (-Infinity). */
const minLogprob = z.union([
  z.literal("off").transform(() => -Infinity),
  z.coerce.number().min(-30).max(0),
], { error: "expected a number in -30..0, or off" });
const redisUrl = z.string().regex(
  /^(rediss?:\/\/[^\s]+|\/[^\s]+)$/,
  "must look like redis://host:port or be the absolute path of Redis's Unix socket",
);

/** Settings shared by the API and the workers. */
const common = {
  REDIS_URL: redisUrl.default("redis://127.0.0.1:6379"),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/).default("wt"),
  DEFAULT_MODEL: z.string().min(1).default("tiny.en-q8_0"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /**
   * Fault injection for benchmarking the perf verdict (see perf/README.md).
   * Delays are ignored unless this is exactly `test-only`, and `test-only`
   * is refused when `DEPLOYMENT_ENV=production`.
   */
  FAULT_INJECTION: z.enum(["off", "test-only"]).default("off"),
  DEPLOYMENT_ENV: z.string().default("development"),
  /**
   * Audio longer than this, seconds, is split at pauses into pieces that
   * any worker takes (and admitted by audio seconds).
   */
  PIECE_THRESHOLD_S: z.coerce.number().min(1).max(3600).default(30),
  /**
   * The longest audio, seconds: the API refuses longer uploads (413), a
   * worker refuses to decode more (a second of slack for decoders that
   * disagree). Two hours, the same as an identity's default audio quota
   * (QUOTA_AUDIO_S), so an hour-long podcast fits.
   */
  MAX_AUDIO_DURATION_S: z.coerce.number().positive().default(7200),
  /**
   * Bytes the service lets Redis hold before new sessions, chunks and jobs
   * get 429 `storage_full`, and before a worker stops storing a long
   * recording's pieces until others' are transcribed; 0 derives it: 90 % of
   * Redis's maxmemory, or a quarter of this machine's memory when Redis has
   * none.
   */
  STORAGE_BUDGET_BYTES: intFrom(0).default(0),
};

/**
 * Refuses fault delays without the explicit test-only switch, and the switch
 * in a production deployment: a slowdown can't be enabled by accident.
 */
function checkFaults(
  c:
    & { FAULT_INJECTION: string; DEPLOYMENT_ENV: string }
    & Record<string, unknown>,
  ctx: z.RefinementCtx,
  ...faultKeys: string[]
): void {
  for (const key of faultKeys) {
    // A delay in ms, or a switch: on when it is a positive number or true.
    if (Number(c[key] ?? 0) > 0 && c.FAULT_INJECTION !== "test-only") {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: "fault injection needs FAULT_INJECTION=test-only as well",
      });
    }
  }
  if (c.FAULT_INJECTION === "test-only" && c.DEPLOYMENT_ENV === "production") {
    ctx.addIssue({
      code: "custom",
      path: ["FAULT_INJECTION"],
      message: "fault injection is refused when DEPLOYMENT_ENV=production",
    });
  }
}

/** API configuration schema (see README "Configuration"). */
export const ApiConfigSchema = z.object({
  ...common,
  PORT: intFrom(0, 65535).default(8001),
  HOST: z.string().min(1).default("127.0.0.1"),
  CHUNK_SIZE: intFrom(1024, 64 * 1024 * 1024).default(1024 * 1024),
  MAX_UPLOAD_BYTES: intFrom(1).default(100 * 1024 * 1024),
  SESSION_TTL_S: intFrom(1).default(3600),
  JOB_TTL_S: intFrom(60).default(86400),
  MAX_SESSIONS_PER_USER: intFrom(1).default(100),
  /**
   * Per identity: bytes its open (unfinalized) upload sessions may hold,
   * jobs it may have not yet final, and audio seconds in those jobs (by
   * duration, so compressed uploads can't amplify). 0: no quota.
   */
  QUOTA_SESSION_BYTES: intFrom(0).default(256 * 1024 * 1024),
  /**
   * Bytes of upload bodies the API reads at once (it holds ~6.5× that while
   * parsing); past it 429 `overloaded`. 0 derives it: an eighth of a quarter
   * of this machine's memory, at least one upload of MAX_UPLOAD_BYTES.
   */
  UPLOAD_MEMORY_BYTES: intFrom(0).default(0),
  /**
   * Compressed uploads the API decodes with ffmpeg at once (to measure them
   * before queuing; one at a time per identity). 0: half the cores, at
   * least 1.
   */
  AUDIO_CHECK_CONCURRENCY: intFrom(0).default(0),
  QUOTA_JOBS: intFrom(0).default(200),
  QUOTA_AUDIO_S: intFrom(0).default(7200),
  AUTH_MODE: z.enum(["open", "required", "api_key"]).default("open"),
  /**
   * Other names for installed models, `alias=model,...` (e.g.
   * `tiny=tiny.en-q8_0` for clients of the original toolkit): a job that
   * names an alias runs on its model, and its record says both.
   */
  MODEL_ALIASES: z.string().default("").transform((spec, ctx) => {
    const map: Record<string, string> = {};
    for (const entry of spec.split(",").map((x) => x.trim()).filter(Boolean)) {
      const m = /^([A-Za-z0-9._-]{1,64})=([A-Za-z0-9._-]{1,64})$/.exec(entry);
      if (!m || m[1] === m[2]) {
        ctx.addIssue({
          code: "custom",
          message: `entry "${
            entry.slice(0, 40)
          }" must be alias=model (two different names)`,
        });
        return z.NEVER;
      }
      map[m[1]!] = m[2]!;
    }
    return map;
  }),
  /** `name=sha256hex,...`: identities and the SHA-256 of their keys. */
  API_KEYS: z.string().default(""),
  /**
   * Queued jobs beyond which new jobs get 429. 0 derives it: what the ready
   * workers finish within POLL_BUDGET_S (see src/queue/admission.ts).
   */
  MAX_BACKLOG: intFrom(0).default(0),
  /** Seconds a client is expected to wait for a job (admission control). */
  POLL_BUDGET_S: intFrom(1, 3600).default(30),
  /**
   * Seconds a long recording is expected to wait at most: long jobs are
   * refused once the queued long audio would take the workers longer.
   */
  LONG_BUDGET_S: intFrom(1, 86400).default(1800),
  /**
   * Connection limits (the API's connection guard): a request head must
   * arrive within REQUEST_HEAD_TIMEOUT_MS of the connection's start (or of
   * the request's first byte on a kept-alive connection), its body within
   * REQUEST_BODY_TIMEOUT_MS of the head's end; a connection idle between
   * requests for KEEPALIVE_IDLE_TIMEOUT_MS is closed. Past a limit: 408
   * (where no response has begun) and the connection is closed.
   */
  REQUEST_HEAD_TIMEOUT_MS: intFrom(100, 3_600_000).default(10_000),
  REQUEST_BODY_TIMEOUT_MS: intFrom(100, 3_600_000).default(60_000),
  KEEPALIVE_IDLE_TIMEOUT_MS: intFrom(100, 3_600_000).default(30_000),
  /**
   * Long polls (`?wait=`) waiting at once in one API process, in total and
   * per identity; a poll past either is answered at once with the job as
   * it is.
   */
  LONG_POLL_MAX: intFrom(1, 1_000_000).default(1000),
  LONG_POLL_MAX_PER_IDENTITY: intFrom(1, 1_000_000).default(100),
  /**
   * Seconds `POST /v1/audio/transcriptions` waits for its job before
   * answering 504 `transcription_timeout` (the job carries on; its id is in
   * the answer). The OpenAI SDKs' own default timeout is 600 s.
   */
  TRANSCRIPTION_TIMEOUT_S: intFrom(1, 86400).default(600),
  /**
   * A streamed transcription (`stream=true`) writes a comment line once
   * this many seconds have passed without an event, so proxies with idle
   * timeouts don't cut a long wait.
   */
  STREAM_KEEP_ALIVE_S: intFrom(1, 300).default(15),
  /** Extra latency added to every request (fault injection, test-only). */
  FAULT_API_DELAY_MS: intFrom(0, 60_000).default(0),
}).superRefine((c, ctx) => checkFaults(c, ctx, "FAULT_API_DELAY_MS"));
/** Validated API configuration. */
export type ApiConfig = z.infer<typeof ApiConfigSchema>;

/** Worker configuration schema. */
export const WorkerConfigSchema = z.object({
  ...common,
  WORKER_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  /** Jobs this worker runs at once (each on its own whisper state). */
  WORKER_CONCURRENCY: intFrom(1, 64).default(1),
  /** whisper.cpp threads per job. */
  WHISPER_THREADS: intFrom(1, 64).default(1),
  /** Comma-separated models to load at start-up (default: DEFAULT_MODEL). */
  WORKER_MODELS: z.string().optional(),
  /** Size whisper's audio context to the clip (`auto`) or use 1500 (`full`). */
  AUDIO_CTX: z.enum(["auto", "full"]).default("auto"),
  /** Smallest context; unset: the engine's `DEFAULT_AUDIO_CTX_FLOOR` (96). */
  AUDIO_CTX_FLOOR: intFrom(16, 1500).optional(),
  /**
   * Seconds of audio added to the clip when sizing the context; unset: the
   * engine's `DEFAULT_AUDIO_CTX_MARGIN_S` (1).
   */
  AUDIO_CTX_MARGIN_S: z.coerce.number().min(0).max(30).optional(),
  /**
   * Flash attention: `off`, `full-context` (only the passes at the full
   * context, where it saves ~86 MiB of peak memory at ~25 % more time), or
   * `on` (every pass; slower at short contexts too).
   */
  FLASH_ATTN: z.enum(["off", "full-context", "on"]).default("off"),
  /**
   * Confidence gate of the sized context: a transcript whose text tokens
   * average a log-probability below this is redone at full context. A
   * number in -30..0, or `off`; unset: the engine's default
   * (`DEFAULT_MIN_AVG_LOGPROB`, -0.6). Whole jobs only; pieces of long
   * recordings follow PIECE_MIN_LOGPROB.
   */
  AUDIO_CTX_MIN_LOGPROB: minLogprob.optional(),
  /**
   * The confidence gate for pieces of long recordings, as
   * AUDIO_CTX_MIN_LOGPROB; off by default: a piece's sized context is
   * already a large part of the full one, and averaged over four cut
   * positions of both long recordings the gate's full-context redos cost 5–30
   * % more time for at most 1.0 point of word error rate (docs/performance.md).
   */
  PIECE_MIN_LOGPROB: minLogprob.default(-Infinity),
  /**
   * Temperature fallback for pieces of long recordings, as faster-whisper
   * does by default: a piece whose decode averages a log-probability under
   * -1 or repeats itself is decoded again at temperature 0.2, 0.4, … 1.0
   * until one passes. It costs only when it fires; over ten long
   * recordings (both texts in two cut layouts and in three other espeak-ng
   * voices) it took the pieces' word error rate from 19.31 to 18.78 % for
   * under 1 % more time (docs/performance.md). Whole jobs don't use it.
   */
  PIECE_FALLBACK: bool.default(true),
  /**
   * Pieces of long recordings this worker runs at once, besides its
   * WORKER_CONCURRENCY whole jobs (0: this worker takes no pieces).
   */
  PIECE_CONCURRENCY: intFrom(0, 64).default(1),
  /**
   * Longest piece of a split recording, seconds (whisper's window is 30).
   * 15: the encoder's cost grows faster than the piece, and without the
   * gate 15 s pieces took 7–8 % less time than 20 s ones at a like word
   * error rate (docs/performance.md).
   */
  PIECE_MAX_S: z.coerce.number().min(2).max(30).default(15),
  JOB_ATTEMPTS: intFrom(1, 20).default(3),
  /**
   * A transcription (a whole job, or one piece of a long recording) is
   * stopped after JOB_TIME_LIMIT_FLOOR_S + JOB_TIME_LIMIT_FACTOR × its audio
   * seconds and fails with `time_limit_exceeded`, not retried. Normal runs
   * take 0.02–0.1 × the audio here.
   */
  JOB_TIME_LIMIT_FACTOR: z.coerce.number().min(0.01).max(100).default(2),
  JOB_TIME_LIMIT_FLOOR_S: z.coerce.number().min(1).max(86400).default(30),
  HEARTBEAT_MS: intFrom(100, 60_000).default(1000),
  LOCK_MS: intFrom(1000).default(10_000),
  STALLED_INTERVAL_MS: intFrom(500).default(5000),
  WARMUP: bool.default(true),
  JOB_TTL_S: intFrom(60).default(86400),
  /** Extra time added to each job's processing (fault injection, test-only). */
  FAULT_PROCESSING_DELAY_MS: intFrom(0, 600_000).default(0),
  /**
   * The worker's first N transcriptions hang until their time limit stops
   * them (fault injection, test-only): proves the limit frees the worker.
   */
  FAULT_PROCESSING_HANG: intFrom(0, 1000).default(0),
  /**
   * KiB the worker keeps for good after every job it completes (fault
   * injection, test-only): a deliberate leak the soak profile must catch.
   */
  FAULT_LEAK_KIB_PER_JOB: intFrom(0, 1 << 20).default(0),
}).superRefine((c, ctx) =>
  checkFaults(
    c,
    ctx,
    "FAULT_PROCESSING_DELAY_MS",
    "FAULT_PROCESSING_HANG",
    "FAULT_LEAK_KIB_PER_JOB",
  )
);
/** Validated worker configuration. */
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

/**
 * Parses `env` with `schema`, turning every issue into one {@linkcode ConfigError}
 * whose message names each variable and the expectation.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): z.infer<S> {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join(".");
    return `  ${key}=${JSON.stringify(cleaned[key] ?? null)}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}
