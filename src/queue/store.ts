/**
 * The Redis store for upload sessions, chunks, audio and job records.
 *
 * Everything lives in Redis with TTLs, so the API and workers can run on
 * different machines that share only Redis, and an API restart loses nothing.
 * Each state change that must happen once (a chunk stored, a job created, a
 * transcript stored) is a single Lua script, so concurrent or repeated calls
 * can't double it.
 */
import { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import { type Keys, keys } from "./keys.ts";
import { runScript, runScriptBuffer } from "./lua.ts";
import {
  CLOSE_SESSION,
  CREATE_JOB,
  CREATE_SESSION,
  FINISH_JOB,
  PUT_CHUNK,
  START_JOB,
  TAKE_JOB,
} from "./store_scripts.ts";
import type { HistogramSeries } from "../metrics/mod.ts";
import {
  DecodeOptions,
  isoNow,
  type JobErrorInfo,
  jobFromHash,
  type JobRecord,
  type Segment,
  sessionFromHash,
  type SessionRecord,
} from "./records.ts";

/** Result of storing one chunk. */
export type PutChunkResult =
  | { kind: "stored" | "identical"; uploaded: number }
  | { kind: "conflict" }
  | { kind: "missing" }
  | { kind: "over_quota"; held: number };

/** An identity's quotas on jobs (0: none). */
export interface JobQuotas {
  /** Most jobs not yet final. */
  jobs: number;
  /** Most audio seconds in jobs not yet final. */
  audioS: number;
}

/** Result of {@linkcode Store.createJob}. */
export type CreateJobResult =
  | { kind: "created" | "exists" }
  | { kind: "over_jobs"; jobs: number }
  | { kind: "over_audio"; audioS: number };

/** Fields of a new job. */
export interface NewJob {
  job_id: string;
  owner: string;
  model_name: string;
  language: string;
  filename: string;
  file_hash: string;
  file_size: number;
  audio_duration_s: number;
  /** Decoding options; omitted or empty for the defaults. */
  options?: DecodeOptions;
  /** The name the client asked for, when it differs from model_name. */
  requested_model?: string | null;
}

/** A finished transcription as the worker stores it. */
export interface JobResult {
  transcript: string;
  segments: Segment[];
  processing_ms: number;
  audio_duration_s: number;
  model_name: string;
}

/** One page of a user's jobs, newest first. */
export interface JobPage {
  jobs: JobRecord[];
  next_cursor: string | null;
}

/** Typed access to everything the service keeps in Redis. */
export class Store {
  readonly keys: Keys;

  constructor(readonly redis: Redis, prefix: string) {
    this.keys = keys(prefix);
  }

  /**
   * Creates an upload session with its TTL, in one script with the count of
   * its owner's open sessions: with `maxOpen` or more open (0: no limit),
   * nothing is created and their count returned; else null.
   */
  async createSession(
    s: SessionRecord,
    ttlS: number,
    maxOpen = 0,
  ): Promise<number | null> {
    const open = await runScript(
      this.redis,
      CREATE_SESSION,
      3,
      this.keys.session(s.session_id),
      this.keys.sessionTombstone(s.session_id),
      this.keys.userSessions(s.owner),
      String(Date.now()),
      String(ttlS),
      String(maxOpen),
      s.session_id,
      s.owner,
      "owner",
      s.owner,
      "filename",
      s.filename,
      "file_size",
      String(s.file_size),
      "chunk_size",
      String(s.chunk_size),
      "total_chunks",
      String(s.total_chunks),
      "model_name",
      s.model_name,
      "requested_model",
      s.requested_model ?? "",
      "language",
      s.language,
      "created_at",
      s.created_at,
      "expires_at",
      s.expires_at,
      "job_id",
      s.job_id,
      "finalized",
      "0",
    ) as number;
    return open < 0 ? null : open;
  }

  /** Reads a session; null when unknown or expired. */
  async getSession(id: string): Promise<SessionRecord | null> {
    const h = await this.redis.hgetall(this.keys.session(id));
    return sessionFromHash(id, h);
  }

  /** The owner of a session that existed and has expired; null if never seen. */
  async expiredSessionOwner(id: string): Promise<string | null> {
    return await this.redis.get(this.keys.sessionTombstone(id));
  }

  /**
   * Stores chunk `n` of `owner`'s session unless it's already there with
   * other bytes, or the owner's open sessions would then hold more than
   * `quotaBytes` (0: no quota; `over_quota` with the bytes they hold).
   */
  async putChunk(
    sessionId: string,
    owner: string,
    n: number,
    bytes: Uint8Array,
    ttlMs: number,
    quotaBytes = 0,
  ): Promise<PutChunkResult> {
    const [code, count] = await runScript(
      this.redis,
      PUT_CHUNK,
      3,
      this.keys.chunks(sessionId),
      this.keys.session(sessionId),
      this.keys.userSessions(owner),
      String(n),
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      String(Math.max(1, ttlMs)),
      String(quotaBytes),
      this.keys.sessionPrefix,
    ) as [number, number];
    if (code === -3) return { kind: "over_quota", held: count };
    if (code === -2) return { kind: "missing" };
    if (code === -1) return { kind: "conflict" };
    return { kind: code === 1 ? "identical" : "stored", uploaded: count };
  }

  /** Seconds until `owner`'s oldest open session expires (at least 1). */
  async secondsUntilASessionExpires(
    owner: string,
    ttlS: number,
  ): Promise<number> {
    const [, created] = await this.redis.zrange(
      this.keys.userSessions(owner),
      0,
      0,
      "WITHSCORES",
    );
    if (created === undefined) return 1;
    return Math.max(
      1,
      Math.ceil((Number(created) + ttlS * 1000 - Date.now()) / 1000),
    );
  }

  /** Bytes `owner`'s open (unfinalized, unexpired) sessions hold. */
  async sessionBytes(owner: string): Promise<number> {
    const ids = await this.redis.zrange(this.keys.userSessions(owner), 0, -1);
    if (ids.length === 0) return 0;
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.keys.session(id), "received");
    const got = await pipe.exec();
    return (got ?? []).reduce((sum, [, v]) => sum + Number(v ?? 0), 0);
  }

  /** `owner`'s jobs not yet final: how many, and their audio seconds. */
  async activeUsage(owner: string): Promise<{ jobs: number; audioS: number }> {
    const flat = await this.redis.zrange(
      this.keys.userActive(owner),
      0,
      -1,
      "WITHSCORES",
    );
    const pipe = this.redis.pipeline();
    for (let i = 0; i < flat.length; i += 2) {
      pipe.exists(this.keys.job(flat[i]!));
    }
    const exists = flat.length > 0 ? await pipe.exec() : [];
    let jobs = 0;
    let audioMs = 0;
    (exists ?? []).forEach(([, found], k) => {
      if (found) {
        jobs++;
        audioMs += Number(flat[2 * k + 1]);
      }
    });
    return { jobs, audioS: audioMs / 1000 };
  }

  /** Indexes of the chunks stored for a session, ascending. */
  async chunkIndexes(sessionId: string): Promise<number[]> {
    const names = await this.redis.hkeys(this.keys.chunks(sessionId));
    return names.map(Number).sort((a, b) => a - b);
  }

  /**
   * The chunks `0..total-1` concatenated, or the indexes of those missing.
   * One read for a single chunk; for more, the indexes first, so a session
   * with chunks missing costs no bytes.
   */
  async assemble(
    sessionId: string,
    total: number,
  ): Promise<{ bytes: Uint8Array } | { missing: number[] }> {
    const key = this.keys.chunks(sessionId);
    if (total > 1) {
      const have = new Set(await this.chunkIndexes(sessionId));
      const missing: number[] = [];
      for (let i = 0; i < total; i++) if (!have.has(i)) missing.push(i);
      if (missing.length > 0) return { missing };
    }
    const fields = Array.from({ length: total }, (_, i) => String(i));
    const got = await this.redis.hmgetBuffer(key, ...fields);
    const missing: number[] = [];
    got.forEach((p, i) => {
      if (!p) missing.push(i);
    });
    if (missing.length > 0) return { missing };
    const parts = got as Buffer[];
    const size = parts.reduce((n, p) => n + p.byteLength, 0);
    if (parts.length === 1) {
      const p = parts[0]!;
      return { bytes: new Uint8Array(p.buffer, p.byteOffset, p.byteLength) };
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return { bytes: out };
  }

  /** Marks a session finalized and drops its chunks (the audio now lives with the job). */
  async closeSession(s: SessionRecord, fileHash: string): Promise<void> {
    await runScript(
      this.redis,
      CLOSE_SESSION,
      3,
      this.keys.session(s.session_id),
      this.keys.chunks(s.session_id),
      this.keys.userSessions(s.owner),
      s.session_id,
      fileHash,
    );
  }

  /**
   * Creates the job record and stores its audio, once: `exists` when a
   * record with this id is already there (a repeated or concurrent
   * finalize). Refused (nothing stored) when the owner's jobs not yet final
   * would exceed `quotas`. One script: the record and the audio are stored
   * together or not at all.
   */
  async createJob(
    job: NewJob,
    audio: Uint8Array,
    ttlS: number,
    quotas: JobQuotas = { jobs: 0, audioS: 0 },
  ): Promise<CreateJobResult> {
    const now = Date.now();
    const fields: Record<string, string> = {
      owner: job.owner,
      status: "queued",
      model_name: job.model_name,
      language: job.language,
      filename: job.filename,
      file_hash: job.file_hash,
      file_size: String(job.file_size),
      audio_duration_s: String(job.audio_duration_s),
      created_at: isoNow(now),
      created_ms: String(now),
      attempts: "0",
    };
    if (job.options && Object.keys(job.options).length > 0) {
      fields.options = JSON.stringify(DecodeOptions.parse(job.options));
    }
    if (job.requested_model) fields.requested_model = job.requested_model;
    const [code, held] = await runScript(
      this.redis,
      CREATE_JOB,
      4,
      this.keys.job(job.job_id),
      this.keys.userJobs(job.owner),
      this.keys.userActive(job.owner),
      this.keys.audio(job.job_id),
      String(now),
      job.job_id,
      String(ttlS),
      String(Math.round(job.audio_duration_s * 1000)),
      String(quotas.jobs),
      String(Math.round(quotas.audioS * 1000)),
      this.keys.jobPrefix,
      Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength),
      ...Object.entries(fields).flat(),
    ) as [number, number?];
    if (code === -1) return { kind: "over_jobs", jobs: held ?? 0 };
    if (code === -2) return { kind: "over_audio", audioS: (held ?? 0) / 1000 };
    if (code === 0) return { kind: "exists" };
    return { kind: "created" };
  }

  /** Reads a job record; null when unknown, deleted or expired. */
  async getJob(id: string): Promise<JobRecord | null> {
    const h = await this.redis.hgetall(this.keys.job(id));
    return jobFromHash(id, h);
  }

  /** The audio bytes of a job; null once deleted or expired. */
  async getAudio(id: string): Promise<Uint8Array | null> {
    const b = await this.redis.getBuffer(this.keys.audio(id));
    return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
  }

  /** A page of `owner`'s jobs, newest first. `cursor` is the last score seen. */
  async listJobs(
    owner: string,
    limit: number,
    cursor?: string,
  ): Promise<JobPage> {
    const key = this.keys.userJobs(owner);
    const max = cursor ? `(${cursor}` : "+inf";
    const raw = await this.redis.zrevrangebyscore(
      key,
      max,
      "-inf",
      "WITHSCORES",
      "LIMIT",
      0,
      limit + 1,
    );
    const ids: { id: string; score: string }[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      ids.push({ id: raw[i]!, score: raw[i + 1]! });
    }
    const page = ids.slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const { id } of page) pipeline.hgetall(this.keys.job(id));
    const results = (await pipeline.exec()) ?? [];
    const jobs: JobRecord[] = [];
    const gone: string[] = [];
    results.forEach(([, h], i) => {
      const id = page[i]!.id;
      const rec = jobFromHash(id, (h ?? {}) as Record<string, string>);
      if (rec) jobs.push(rec);
      else gone.push(id);
    });
    if (gone.length) await this.redis.zrem(key, ...gone);
    const more = ids.length > limit;
    return { jobs, next_cursor: more ? page[page.length - 1]!.score : null };
  }

  /** Deletes a job record and its audio. */
  async deleteJob(job: JobRecord): Promise<void> {
    await this.redis.multi()
      .del(this.keys.job(job.job_id))
      .del(this.keys.audio(job.job_id))
      .del(this.keys.pieces(job.job_id))
      .del(this.keys.pieceAttempts(job.job_id))
      .zrem(this.keys.userJobs(job.owner), job.job_id)
      .zrem(this.keys.userActive(job.owner), job.job_id)
      .zrem(this.keys.longQueued, job.job_id)
      .exec();
  }

  /**
   * Moves a job to processing for `workerId`. Returns the status it had, or
   * null when the record is gone (deleted or expired).
   */
  async startJob(id: string, workerId: string): Promise<string | null> {
    const now = Date.now();
    const before = await runScript(
      this.redis,
      START_JOB,
      1,
      this.keys.job(id),
      workerId,
      isoNow(now),
      String(now),
    ) as string;
    return before === "" ? null : before;
  }

  /** Timing fields of a job: when it was created and started (ms). */
  async jobTimes(id: string): Promise<{ created: number; started: number }> {
    const [c, s] = await this.redis.hmget(
      this.keys.job(id),
      "created_ms",
      "started_ms",
    );
    return { created: Number(c ?? 0), started: Number(s ?? 0) };
  }

  /**
   * {@linkcode Store.startJob} and, for a job it moved to processing, the
   * record and audio as they are then — one round trip. `before` is null
   * when the record is gone; `job` and `audio` are null unless the job was
   * moved (the audio also once it expired).
   */
  /**
   * Takes back the attempt `takeJob` counted, for a job put off without
   * being tried (a long recording waiting for room for its pieces).
   */
  async releaseAttempt(id: string): Promise<void> {
    await runScript(
      this.redis,
      "if redis.call('EXISTS', KEYS[1]) == 1 then " +
        "redis.call('HINCRBY', KEYS[1], 'attempts', -1) end",
      1,
      this.keys.job(id),
    );
  }

  async takeJob(id: string, workerId: string): Promise<{
    before: string | null;
    job: JobRecord | null;
    audio: Uint8Array | null;
  }> {
    const now = Date.now();
    const reply = await runScriptBuffer(
      this.redis,
      TAKE_JOB,
      2,
      this.keys.job(id),
      this.keys.audio(id),
      workerId,
      isoNow(now),
      String(now),
    ) as Buffer | [Buffer, Buffer[], Buffer | null];
    if (!Array.isArray(reply)) {
      const before = reply.toString();
      return { before: before === "" ? null : before, job: null, audio: null };
    }
    const [before, flat, audio] = reply;
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      h[flat[i]!.toString()] = flat[i + 1]!.toString();
    }
    return {
      before: before.toString(),
      job: jobFromHash(id, h),
      audio: audio
        ? new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength)
        : null,
    };
  }

  /**
   * Stores a transcript once; returns false when the job was already final
   * or gone. With `recordProcessing`, the job's processing time also goes
   * into the shared histogram ({@linkcode Store.processingHistogram}) and
   * the recent jobs' mean ({@linkcode Store.recentProcessingMean}) in the
   * same script.
   */
  async completeJob(
    id: string,
    r: JobResult,
    options: { recordProcessing?: boolean } = {},
  ): Promise<boolean> {
    const fields = {
      transcript: r.transcript,
      segments: JSON.stringify(r.segments),
      processing_ms: String(Math.round(r.processing_ms * 10) / 10),
      audio_duration_s: String(r.audio_duration_s),
      model_name: r.model_name,
      completed_at: isoNow(),
      error: "",
    };
    return await this.finish(id, "completed", fields, {
      wait: "always",
      processingS: options.recordProcessing ? r.processing_ms / 1000 : null,
    });
  }

  /** Records a permanent failure once; returns false when already final or gone. */
  async failJob(id: string, error: JobErrorInfo): Promise<boolean> {
    const fields = {
      error: JSON.stringify(error),
      completed_at: isoNow(),
    };
    return await this.finish(id, "failed", fields, {
      wait: "started",
      errorCode: error.code,
    });
  }

  private async finish(
    id: string,
    status: "completed" | "failed",
    fields: Record<string, string>,
    o: {
      wait: "always" | "started";
      errorCode?: string;
      processingS?: number | null;
    },
  ): Promise<boolean> {
    const seconds = o.processingS ?? null;
    const first = seconds === null
      ? PROCESSING_BUCKETS.length
      : PROCESSING_BUCKETS.findIndex((b) => seconds <= b);
    const stored = await runScript(
      this.redis,
      FINISH_JOB,
      6,
      this.keys.job(id),
      this.keys.stats,
      this.keys.longQueued,
      this.keys.audio(id),
      this.keys.processingHistogram,
      this.keys.recentJobs,
      id,
      status,
      this.keys.userPrefix,
      o.errorCode ?? "",
      this.keys.jobEvents,
      o.wait,
      seconds === null ? "" : String(seconds),
      seconds === null ? "" : seconds.toFixed(4),
      String(first < 0 ? PROCESSING_BUCKETS.length : first),
      String(PROCESSING_BUCKETS.length),
      String(RECENT_JOBS),
      ...Object.entries(fields).flat(),
    );
    return stored === 1;
  }

  /** Wakes the long polls of job `id` (it progressed or finished). */
  async notify(id: string): Promise<void> {
    await this.redis.publish(this.keys.jobEvents, id);
  }

  /** Failed jobs since the keyspace was created, by error code. */
  async failedByCode(): Promise<Record<string, number>> {
    const all = await this.redis.hgetall(this.keys.stats);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(all)) {
      if (k.startsWith("failed:")) out[k.slice(7)] = Number(v);
    }
    return out;
  }

  /** Jobs finished since the keyspace was created, by final status. */
  async finishedCounts(): Promise<{ completed: number; failed: number }> {
    const [c, f] = await this.redis.hmget(
      this.keys.stats,
      "completed",
      "failed",
    );
    return { completed: Number(c ?? 0), failed: Number(f ?? 0) };
  }

  /**
   * Mean processing seconds of the last {@linkcode RECENT_JOBS} jobs; null
   * before any job has finished.
   */
  async recentProcessingMean(): Promise<number | null> {
    return meanOf(await this.redis.lrange(this.keys.recentJobs, 0, -1));
  }

  /**
   * Records one piece's real-time factor (processing seconds per audio
   * second), the figure admission uses for long recordings.
   */
  async recordPiece(processingS: number, audioS: number): Promise<void> {
    if (!(audioS > 0)) return;
    const key = this.keys.recentPieces;
    await this.redis.multi()
      .lpush(key, (processingS / audioS).toFixed(5))
      .ltrim(key, 0, RECENT_JOBS - 1)
      .exec();
  }

  /**
   * Mean real-time factor of the last {@linkcode RECENT_JOBS} pieces; null
   * before any piece has finished.
   */
  async recentPieceRtf(): Promise<number | null> {
    return meanOf(
      await this.redis.lrange(this.keys.recentPieces, 0, -1),
    );
  }

  /** The shared job processing-seconds histogram. */
  async processingHistogram(): Promise<HistogramSeries> {
    const h = await this.redis.hgetall(this.keys.processingHistogram);
    return {
      buckets: PROCESSING_BUCKETS.map((_, i) => Number(h[`b${i}`] ?? 0)),
      sum: Number(h.sum ?? 0),
      count: Number(h.count ?? 0),
    };
  }
}

/** Mean of the positive numbers in `raw`; null when there are none. */
function meanOf(raw: string[]): number | null {
  const values = raw.map(Number).filter((v) => Number.isFinite(v) && v > 0);
  if (values.length === 0) return null;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** How many recent processing times feed {@linkcode Store.recentProcessingMean}. */
export const RECENT_JOBS = 50;

/** Buckets of the job processing-seconds histogram. */
export const PROCESSING_BUCKETS = [
  0.025,
  0.05,
  0.1,
  0.15,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];
