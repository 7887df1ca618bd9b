/**
 * The API's job logic, shared by its routes: who owns a session or job,
 * which model and language a request gets, admission and submission of a
 * new job, the job as clients see it, and cancelling.
 */
import type { Context } from "hono";
import {
  type AppError,
  ConflictError,
  GoneError,
  NotFoundError,
  OverloadedError,
  QuotaError,
  TooLargeError,
  UnknownModelError,
  ValidationError,
} from "../errors/mod.ts";
import type { ApiConfig } from "../config/mod.ts";
import {
  type Admission,
  type DecodeOptions,
  type JobEvents,
  type JobRecord,
  pieceAudioBytes,
  PieceStore,
  type SessionRecord,
  stitchPieces,
  type StorageBudget,
  type StorageUse,
  type Store,
  type TranscribeQueue,
} from "../queue/mod.ts";
import { findCatalogEntry } from "../models/mod.ts";
import { type Env, RESOURCE_ID, shown } from "./http.ts";
import { ANONYMOUS } from "./identity.ts";
import { jobView } from "./schemas.ts";
import { ffmpegConcurrency, FfmpegTurns } from "./ffmpeg_turns.ts";
import type { FfmpegTurn } from "../audio/mod.ts";

/** What the API learns from a cheap audio check before queuing a job. */
export interface AudioCheck {
  durationS: number | null;
  format: string;
}

/** What {@linkcode JobService} needs. */
export interface JobServiceDeps {
  config: ApiConfig;
  store: Store;
  queue: TranscribeQueue;
  /**
   * Validates uploaded bytes as audio (throws InvalidAudioError), decoding
   * them with ffmpeg, when it must, in the turn `ffmpegTurn` gives.
   */
  checkAudio: (
    bytes: Uint8Array,
    ffmpegTurn: FfmpegTurn,
  ) => Promise<AudioCheck>;
  /** Models jobs may name: installed locally or loaded by a live worker. */
  installedModels: () => Promise<string[]>;
  /** Admission control; without it only a fixed MAX_BACKLOG applies. */
  admission?: Admission;
  /** The storage budget; without it no byte limit applies beyond Redis's. */
  storage?: StorageBudget;
}

/** A new job's fields, as a route has them. */
export interface Submission {
  jobId: string;
  owner: string;
  model: string;
  language: string;
  filename: string;
  bytes: Uint8Array;
  hash: string;
  /** Decoding options (prompt, temperature, detail); none by default. */
  options?: DecodeOptions;
  /** The model name asked for, when it differs from `model`. */
  requestedModel?: string | null;
}

/** True for a job that will not change any more. */
export function isFinal(job: JobRecord): boolean {
  return job.status === "completed" || job.status === "failed";
}

/** The job logic the routes call. */
export class JobService {
  readonly #d: JobServiceDeps;
  readonly #pieces: PieceStore;
  /** Turns at decoding compressed uploads (ffmpeg_turns.ts). */
  readonly ffmpegTurns: FfmpegTurns;

  constructor(deps: JobServiceDeps) {
    this.#d = deps;
    this.#pieces = new PieceStore(deps.store.redis, deps.config.REDIS_PREFIX);
    this.ffmpegTurns = new FfmpegTurns(
      ffmpegConcurrency(
        deps.config.AUDIO_CHECK_CONCURRENCY,
        navigator.hardwareConcurrency || 1,
      ),
    );
  }

  /** The caller's identity (the anonymous one when it has none). */
  ownerOf(c: Context<Env>): string {
    return c.get("caller").id ?? ANONYMOUS;
  }

  /** Refuses a new job when the backlog is full (before reading a body). */
  async admit(): Promise<void> {
    await this.#d.admission?.check();
  }

  /**
   * Refuses `bytes` more in Redis (429 `storage_full`) when the storage
   * budget can't hold them (for `staging`, an unfinalized upload, its
   * staging share); `what` names them in the message.
   */
  async admitBytes(
    bytes: number,
    what: string,
    use: StorageUse = "job",
  ): Promise<void> {
    await this.#d.storage?.admit(bytes, what, use);
  }

  /**
   * The model a request gets — the one named (or its alias's model,
   * `MODEL_ALIASES`), if installed, or the default — and the name asked
   * for when it differs from the model used, for the job record.
   */
  async resolveModelRequest(
    requested?: string,
    aliases: Record<string, string> = this.#d.config.MODEL_ALIASES,
  ): Promise<{ model: string; requested: string | null }> {
    const name = requested ?? this.#d.config.DEFAULT_MODEL;
    const model = Object.hasOwn(aliases, name) ? aliases[name]! : name;
    const installed = await this.#d.installedModels();
    if (!installed.includes(model)) {
      throw new UnknownModelError(
        model,
        installed,
        model === name ? undefined : name,
      );
    }
    return { model, requested: model === name ? null : name };
  }

  /** The language for `model`: "en" for English-only models, else as asked. */
  resolveLanguage(model: string, language?: string): string {
    // English-only per the catalog (tiny.en, tiny.en-q8_0, …), else by name.
    const englishOnly = findCatalogEntry(model)?.multilingual === false ||
      /\.en(-|$)/.test(model);
    if (englishOnly) {
      if (language && language !== "en") {
        throw new ValidationError(
          "unsupported_language",
          `model ${model} is English-only; language "${language}" is not supported`,
        );
      }
      return "en";
    }
    return language ?? "auto";
  }

  /** 410 for a session that existed and expired, else 404. */
  async sessionGone(id: string): Promise<AppError> {
    return (await this.#d.store.expiredSessionOwner(id)) !== null
      ? new GoneError(
        "session_expired",
        `upload session ${shown(id)} has expired`,
      )
      : new NotFoundError(
        "session_not_found",
        `upload session ${shown(id)} not found`,
      );
  }

  /** The caller's session `id` (404 for others', 410 for its own expired one). */
  async ownedSession(c: Context<Env>, id: string): Promise<SessionRecord> {
    const store = this.#d.store;
    // Ids that can't be ours never reach Redis: a crafted id such as
    // "<uuid>:seen" would otherwise address another key.
    const s = RESOURCE_ID.test(id) ? await store.getSession(id) : null;
    const caller = this.ownerOf(c);
    if (!s) {
      const owner = RESOURCE_ID.test(id)
        ? await store.expiredSessionOwner(id)
        : null;
      if (owner !== null && owner === caller) {
        throw new GoneError(
          "session_expired",
          `upload session ${shown(id)} has expired`,
        );
      }
      throw new NotFoundError(
        "session_not_found",
        `upload session ${shown(id)} not found`,
      );
    }
    if (s.owner !== caller) {
      throw new NotFoundError(
        "session_not_found",
        `upload session ${shown(id)} not found`,
      );
    }
    return s;
  }

  /** A job the caller may read: its own, or any job by id in open mode without identity. */
  async readableJob(c: Context<Env>, id: string): Promise<JobRecord> {
    const job = RESOURCE_ID.test(id) ? await this.#d.store.getJob(id) : null;
    const caller = c.get("caller").id;
    const anonymousRead = caller === null &&
      this.#d.config.AUTH_MODE === "open";
    if (!job || (!anonymousRead && job.owner !== caller)) {
      throw new NotFoundError("job_not_found", `job ${shown(id)} not found`);
    }
    return job;
  }

  /** The caller's own job `id` (404 otherwise). */
  async ownedJob(c: Context<Env>, id: string): Promise<JobRecord> {
    const job = RESOURCE_ID.test(id) ? await this.#d.store.getJob(id) : null;
    if (!job || job.owner !== this.ownerOf(c)) {
      throw new NotFoundError("job_not_found", `job ${shown(id)} not found`);
    }
    return job;
  }

  /** The job as clients see it, with its pieces when it was split. */
  async view(job: JobRecord): Promise<ReturnType<typeof jobView>> {
    if (job.pieces_total === null) return jobView(job, null);
    return jobView(job, await this.#pieces.results(job.job_id));
  }

  /**
   * Checks the audio (duration limit), admits the job, stores it with its
   * audio once and queues it (long recordings on the pieces queue).
   * Returns the job id.
   */
  async submit(j: Submission): Promise<string> {
    // A compressed upload is decoded in its identity's turn, which lasts
    // until its job is stored, and not at all once that identity's quota
    // is already full (ffmpeg_turns.ts).
    let turn: Disposable | undefined;
    try {
      return await this.#submit(j, async (decode) => {
        turn = await this.ffmpegTurns.take(
          j.owner,
          () => this.#quotaRoom(j.owner),
        );
        return this.ffmpegTurns.decode(decode);
      });
    } finally {
      turn?.[Symbol.dispose]();
    }
  }

  /** {@linkcode submit}, with the compressed upload's decoding turn. */
  async #submit(j: Submission, ffmpegTurn: FfmpegTurn): Promise<string> {
    const { config, store, queue } = this.#d;
    const audio = await this.#d.checkAudio(j.bytes, ffmpegTurn);
    if (
      audio.durationS !== null && audio.durationS > config.MAX_AUDIO_DURATION_S
    ) {
      throw new TooLargeError(
        "audio_too_long",
        `audio is ${
          audio.durationS.toFixed(1)
        } s long; the maximum is ${config.MAX_AUDIO_DURATION_S} s`,
      );
    }
    const long = (audio.durationS ?? 0) > config.PIECE_THRESHOLD_S;
    if (long && this.#d.storage) {
      // Its pieces are PCM16 (32 KB a second), often more than was
      // uploaded. Admitted with room for a quarter of what long recordings
      // may fill, a worker can start storing them; the rest it stores as
      // pieces are transcribed (src/worker/pieces.ts).
      const limit = await this.#d.storage.limit("pieces");
      await this.#d.storage.admit(
        Math.min(pieceAudioBytes(audio.durationS!), limit / 4),
        `a ${Math.round(audio.durationS!)} s recording`,
        "pieces",
      );
    }
    if (this.#d.admission) await this.#d.admission.check(audio.durationS);
    else if (config.MAX_BACKLOG > 0) {
      const backlog = await queue.backlog();
      if (backlog >= config.MAX_BACKLOG) {
        throw new OverloadedError(
          `the queue holds ${backlog} jobs (limit ${config.MAX_BACKLOG})`,
          2,
        );
      }
    }
    const result = await store.createJob(
      {
        job_id: j.jobId,
        owner: j.owner,
        model_name: j.model,
        language: j.language,
        filename: j.filename,
        file_hash: j.hash,
        file_size: j.bytes.byteLength,
        audio_duration_s: audio.durationS ?? 0,
        options: j.options,
        requested_model: j.requestedModel ?? null,
      },
      j.bytes,
      config.JOB_TTL_S,
      { jobs: config.QUOTA_JOBS, audioS: config.QUOTA_AUDIO_S },
    );
    if (result.kind === "over_jobs") throw this.#overJobs(j.owner, result.jobs);
    if (result.kind === "over_audio") {
      const thisS = audio.durationS ?? 0;
      throw new QuotaError(
        "QUOTA_AUDIO_S",
        thisS > config.QUOTA_AUDIO_S
          ? `this recording is ${
            thisS.toFixed(0)
          } s long, more than ${j.owner}'s quota of ${config.QUOTA_AUDIO_S} s of audio in flight (QUOTA_AUDIO_S)`
          : `${j.owner} has ${
            result.audioS.toFixed(0)
          } s of audio not yet transcribed; with this ${
            thisS.toFixed(0)
          } s it would pass its quota of ${config.QUOTA_AUDIO_S} s (QUOTA_AUDIO_S)`,
        10,
      );
    }
    const created = result.kind === "created";
    if (created && long) {
      await this.#pieces.trackLong(j.jobId, audio.durationS!);
    }
    const rec = created ? null : await store.getJob(j.jobId);
    if (created || rec?.status === "queued") {
      await queue.enqueue(j.jobId, j.model, long);
    }
    return j.jobId;
  }

  /** 429 for `owner`, who has `jobs` jobs not yet finished. */
  #overJobs(owner: string, jobs: number): QuotaError {
    return new QuotaError(
      "QUOTA_JOBS",
      `${owner} has ${jobs} jobs not yet finished; its quota is ${this.#d.config.QUOTA_JOBS} (QUOTA_JOBS)`,
      5,
    );
  }

  /**
   * Refuses `owner` (429) when its quotas have no room left for any job:
   * checked before its upload is decoded, so a full quota costs no ffmpeg.
   */
  async #quotaRoom(owner: string): Promise<void> {
    const { config, store } = this.#d;
    if (config.QUOTA_JOBS <= 0 && config.QUOTA_AUDIO_S <= 0) return;
    const usage = await store.activeUsage(owner);
    if (config.QUOTA_JOBS > 0 && usage.jobs >= config.QUOTA_JOBS) {
      throw this.#overJobs(owner, usage.jobs);
    }
    if (config.QUOTA_AUDIO_S > 0 && usage.audioS >= config.QUOTA_AUDIO_S) {
      throw new QuotaError(
        "QUOTA_AUDIO_S",
        `${owner} has ${
          usage.audioS.toFixed(0)
        } s of audio not yet transcribed, its whole quota of ${config.QUOTA_AUDIO_S} s (QUOTA_AUDIO_S)`,
        10,
      );
    }
  }

  /**
   * Cancels or deletes `job`: a long recording in pieces loses the pieces
   * not yet started; a queued job is taken off the queue; a finished one is
   * deleted. 409 while a whole job is being transcribed.
   */
  async remove(job: JobRecord): Promise<Record<string, unknown>> {
    const { store, queue } = this.#d;
    if (job.pieces_total !== null && !isFinal(job)) {
      // Running pieces finish and find the job gone.
      const cancelled = await queue.cancelPieces(job.job_id, job.pieces_total);
      await this.#pieces.abandon(job.job_id, job.owner, job.pieces_total);
      await store.deleteJob(job);
      await store.notify(job.job_id);
      return {
        job_id: job.job_id,
        status: "cancelled",
        pieces_cancelled: cancelled,
        pieces_done: job.pieces_done,
        pieces_total: job.pieces_total,
      };
    }
    if (job.status === "processing") {
      throw new ConflictError(
        "job_in_progress",
        "the job is being transcribed; try again later",
      );
    }
    if (job.status === "queued") {
      if (!(await queue.cancel(job.job_id))) {
        throw new ConflictError(
          "job_in_progress",
          "the job was just picked up by a worker",
        );
      }
      await store.deleteJob(job);
      return { job_id: job.job_id, status: "cancelled" };
    }
    await store.deleteJob(job);
    return { job_id: job.job_id, status: "deleted" };
  }

  /**
   * Waits until job `id` is final, `timeoutMs` has passed or `signal`
   * aborts (the client went away: a job still queued is then cancelled, so
   * no worker transcribes for nobody). Returns the job as it last was, or
   * null once it is gone. With `onProgress`, calls it with the job each time
   * it wakes before the end (a piece finished, or `tickMs` passed).
   */
  async awaitFinal(
    events: JobEvents,
    id: string,
    timeoutMs: number,
    signal: AbortSignal,
    progress: {
      onProgress?: (job: JobRecord) => Promise<void>;
      tickMs?: number;
    } = {},
  ): Promise<JobRecord | null> {
    const deadline = Date.now() + timeoutMs;
    const stop = new AbortController();
    const wake = AbortSignal.any([stop.signal, signal]);
    const tickMs = progress.tickMs ?? Infinity;
    try {
      while (true) {
        // Subscribe before reading, so a finish in between still wakes us.
        const woken = events.waitFor(
          id,
          Math.min(tickMs, Math.max(0, deadline - Date.now())),
          wake,
        );
        const job = await this.#d.store.getJob(id);
        if (job === null || isFinal(job) || Date.now() >= deadline) {
          return job;
        }
        if (signal.aborted) {
          if (job.status === "queued" && job.pieces_total === null) {
            await this.remove(job).catch(() => undefined);
          }
          return job;
        }
        await progress.onProgress?.(job);
        await woken;
      }
    } finally {
      stop.abort();
    }
  }

  /**
   * The text of a split job's first pieces that are all done (its
   * `partial_transcript`); "" for a job not split, or none done yet.
   */
  async textSoFar(job: JobRecord): Promise<string> {
    if (job.pieces_total === null || job.pieces_done === 0) return "";
    const pieces = await this.#pieces.results(job.job_id);
    return stitchPieces(pieces, { prefixOnly: true }).transcript;
  }

  /** Audio seconds of long recordings not yet transcribed (metrics). */
  queuedLongAudioS(): Promise<number> {
    return this.#pieces.queuedLongAudioS();
  }
}
