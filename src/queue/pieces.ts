/**
 * Long recordings as pieces: the Redis side of a job whose audio was split
 * into pieces that any worker may take.
 *
 * The worker that takes such a job splits its audio at pauses and calls
 * {@linkcode PieceStore.plan} (once per job, however often it is retried),
 * stores each piece's audio and queues one queue job per piece. Each piece's
 * result is stored once ({@linkcode PieceStore.complete}: a Lua script, so a
 * piece retried after a worker died, or run twice, can't be counted twice);
 * the worker that stores the last one stitches the transcript.
 *
 * Fairness: each identity has a counter of its unfinished pieces. A new
 * job's pieces get the queue priorities `counter + 1 … counter + n`, so an
 * identity with little work queued goes ahead of one with a long backlog,
 * while one identity's jobs keep their order (within a job, recording
 * order but the last pieces longest first: {@linkcode piecePriorities}).
 * Short jobs are not split and carry no priority, which BullMQ serves before
 * any prioritized job.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import { z } from "zod";
import { type Keys, keys } from "./keys.ts";
import { runScript } from "./lua.ts";
import { PieceResult } from "./records.ts";

/** Largest priority BullMQ accepts. */
export const MAX_PRIORITY = 2_097_152;

const PieceSpanSchema = z.object({ start_s: z.number(), end_s: z.number() });
/** One planned piece: where it lies in the recording, in seconds. */
export type PieceSpan = z.infer<typeof PieceSpanSchema>;

/** The outcome of {@linkcode PieceStore.plan}. */
export interface PiecePlan {
  /** False when an earlier attempt had already planned this job. */
  created: boolean;
  /** Pieces of the job. */
  total: number;
  /** Where each piece lies (the first plan's, on a retried split). */
  spans: PieceSpan[];
  /** Queue priority of each piece (1 = first). */
  priorities: number[];
  /** Indexes whose results are already stored (a retried split). */
  done: Set<number>;
}

/** The outcome of {@linkcode PieceStore.complete}. */
export interface PieceCompletion {
  /** True when this call stored the result; false when it was already stored. */
  stored: boolean;
  /** Pieces stored so far and in all. */
  done: number;
  total: number;
}

// KEYS: job hash, identity's pending counter.
// ARGV: total, spans JSON, ttl s.
// Returns {-1} when the job is gone or final, {created 0|1, base}.
const PLAN = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s or s == 'completed' or s == 'failed' then return {-1, 0} end
local base = redis.call('HGET', KEYS[1], 'piece_base')
if base then return {0, tonumber(base)} end
local n = tonumber(ARGV[1])
local b = redis.call('INCRBY', KEYS[2], n) - n
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], 'pieces_total', n, 'pieces_done', 0,
  'piece_spans', ARGV[2], 'piece_base', b)
return {1, b}
`;

// KEYS: job hash, pieces hash, piece audio, identity's pending counter,
// long-jobs zset. ARGV: index, result JSON, piece seconds, job id, ttl s.
// Returns {code, done, total}: code 1 stored, 0 already stored, -1 the job
// is gone or final (cancelled, failed).
const COMPLETE = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s or s == 'completed' or s == 'failed' then return {-1, 0, 0} end
local total = tonumber(redis.call('HGET', KEYS[1], 'pieces_total') or '0')
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'pieces_done') or '0'), total}
end
redis.call('EXPIRE', KEYS[2], ARGV[5])
local done = redis.call('HINCRBY', KEYS[1], 'pieces_done', 1)
redis.call('DEL', KEYS[3])
if redis.call('DECR', KEYS[4]) <= 0 then redis.call('DEL', KEYS[4]) end
if redis.call('ZSCORE', KEYS[5], ARGV[4]) then
  redis.call('ZINCRBY', KEYS[5], -tonumber(ARGV[3]), ARGV[4])
end
return {1, done, total}
`;

// KEYS: job hash, pieces hash, identity's pending counter, long-jobs zset,
// then every piece's audio key. ARGV: job id.
// Gives back the identity's unfinished pieces and drops their audio, once.
/**
 * Bytes `seconds` of a long recording take in Redis as pieces: 16 kHz mono
 * PCM16 WAV (32 KB a second, whatever the upload's format).
 */
export function pieceAudioBytes(seconds: number): number {
  return 44 + 2 * Math.ceil(seconds * 16_000);
}

// KEYS: piece audio. ARGV: WAV bytes, ttl s, the most used_memory may be
// (0: no limit). Returns 1 stored, 0 no room. Atomic across workers, so
// several splitting at once can't together overfill Redis.
const PUT_AUDIO = `
local limit = tonumber(ARGV[3])
if limit > 0 then
  local used = tonumber(string.match(redis.call('INFO', 'memory'),
    'used_memory:(%d+)'))
  if used + string.len(ARGV[1]) > limit then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`;

const ABANDON = `
local total = tonumber(redis.call('HGET', KEYS[1], 'pieces_total') or '0')
if total == 0 or redis.call('HSETNX', KEYS[1], 'pieces_abandoned', 1) == 0 then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return 0
end
local left = total - redis.call('HLEN', KEYS[2])
if left > 0 and redis.call('DECRBY', KEYS[3], left) <= 0 then
  redis.call('DEL', KEYS[3])
end
for i = 5, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('ZREM', KEYS[4], ARGV[1])
return left
`;

/**
 * Pieces at the end of a job run longest first (those before, in recording
 * order): enough for the workers that take the last pieces to finish close
 * together, while the transcript so far still grows from the start.
 */
export const LONGEST_FIRST_TAIL = 8;

/**
 * Queue priorities `base + 1 … base + n` of a job's pieces: in recording
 * order, except the last {@linkcode LONGEST_FIRST_TAIL}, which go longest
 * first (equal lengths in recording order). In recording order throughout,
 * the 8-min corpus file's last long piece ran alone for a median 688 ms
 * while the other workers had nothing left; all longest first, the
 * `partial_transcript` (the first pieces all done) stayed empty until three
 * quarters of the pieces had finished.
 */
export function piecePriorities(
  spans: readonly PieceSpan[],
  base: number,
): number[] {
  const length = (i: number) => spans[i]!.end_s - spans[i]!.start_s;
  const head = Math.max(0, spans.length - LONGEST_FIRST_TAIL);
  const tail = spans.map((_, i) => i).slice(head)
    .sort((a, b) => length(b) - length(a) || a - b);
  const order = [...spans.keys()].slice(0, head).concat(tail);
  const priorities = new Array<number>(spans.length);
  order.forEach((index, rank) => {
    priorities[index] = Math.min(MAX_PRIORITY, base + rank + 1);
  });
  return priorities;
}

/** Typed access to the pieces of split jobs. */
export class PieceStore {
  readonly keys: Keys;

  constructor(readonly redis: Redis, prefix: string) {
    this.keys = keys(prefix);
  }

  /**
   * Counts a long job's audio towards the queued long audio (admission)
   * until it is final.
   */
  async trackLong(jobId: string, audioS: number): Promise<void> {
    await this.redis.zadd(this.keys.longQueued, "NX", audioS, jobId);
  }

  /** Audio seconds of long jobs not yet transcribed. */
  async queuedLongAudioS(): Promise<number> {
    const raw = await this.redis.zrange(
      this.keys.longQueued,
      0,
      -1,
      "WITHSCORES",
    );
    let sum = 0;
    for (let i = 1; i < raw.length; i += 2) sum += Math.max(0, Number(raw[i]));
    return sum;
  }

  /**
   * Records how job `jobId` of `owner` was split (once: a retried split gets
   * the first plan back) and the fair priorities of its pieces.
   * Returns null when the job is gone or already final.
   */
  async plan(
    jobId: string,
    owner: string,
    spans: readonly PieceSpan[],
    ttlS: number,
  ): Promise<PiecePlan | null> {
    const [code, base] = await runScript(
      this.redis,
      PLAN,
      2,
      this.keys.job(jobId),
      this.keys.userPendingPieces(owner),
      String(spans.length),
      JSON.stringify(spans),
      String(ttlS),
    ) as [number, number];
    if (code === -1) return null;
    const planned = code === 1 ? [...spans] : z.array(PieceSpanSchema).parse(
      JSON.parse(
        await this.redis.hget(this.keys.job(jobId), "piece_spans") ?? "[]",
      ),
    );
    const total = planned.length;
    const done = new Set(
      (await this.redis.hkeys(this.keys.pieces(jobId))).map(Number),
    );
    return {
      created: code === 1,
      total,
      spans: planned,
      priorities: piecePriorities(planned, base),
      done,
    };
  }

  /**
   * Stores the audio of piece `index` (PCM16 WAV bytes), unless Redis's
   * `used_memory` would pass `maxUsedBytes` (0: no limit). Returns whether
   * it was stored.
   */
  async putAudio(
    jobId: string,
    index: number,
    wav: Uint8Array,
    ttlS: number,
    maxUsedBytes = 0,
  ): Promise<boolean> {
    const stored = await runScript(
      this.redis,
      PUT_AUDIO,
      1,
      this.keys.pieceAudio(jobId, index),
      Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength),
      String(ttlS),
      String(Math.floor(maxUsedBytes)),
    );
    return stored === 1;
  }

  /** Which of pieces `indexes` have their audio stored now. */
  async withAudio(jobId: string, indexes: number[]): Promise<Set<number>> {
    if (indexes.length === 0) return new Set();
    const p = this.redis.pipeline();
    for (const i of indexes) p.exists(this.keys.pieceAudio(jobId, i));
    const replies = (await p.exec()) ?? [];
    return new Set(indexes.filter((_, k) => replies[k]?.[1] === 1));
  }

  /** The audio of piece `index`; null once stored, cancelled or expired. */
  async audio(jobId: string, index: number): Promise<Uint8Array | null> {
    const b = await this.redis.getBuffer(this.keys.pieceAudio(jobId, index));
    return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
  }

  /** Drops the audio of piece `index` (its job is gone or final). */
  async dropAudio(jobId: string, index: number): Promise<void> {
    await this.redis.del(this.keys.pieceAudio(jobId, index));
  }

  /**
   * Counts a worker starting piece `index`; returns the attempt's number
   * (a piece whose worker died is started again by another).
   */
  async start(jobId: string, index: number, ttlS: number): Promise<number> {
    const key = this.keys.pieceAttempts(jobId);
    const [[, n]] = await this.redis.multi()
      .hincrby(key, String(index), 1)
      .expire(key, ttlS)
      .exec() as [[unknown, number], unknown];
    return n;
  }

  /** Whether piece `index` of `jobId` has its result stored. */
  async isStored(jobId: string, index: number): Promise<boolean> {
    return await this.redis.hexists(this.keys.pieces(jobId), String(index)) ===
      1;
  }

  /**
   * Stores a piece's result once and counts it; returns null when the job
   * is gone or already final (cancelled, failed): the result is dropped.
   */
  async complete(
    jobId: string,
    owner: string,
    result: PieceResult,
    ttlS: number,
  ): Promise<PieceCompletion | null> {
    const [code, done, total] = await runScript(
      this.redis,
      COMPLETE,
      5,
      this.keys.job(jobId),
      this.keys.pieces(jobId),
      this.keys.pieceAudio(jobId, result.index),
      this.keys.userPendingPieces(owner),
      this.keys.longQueued,
      String(result.index),
      JSON.stringify(result),
      String(result.end_s - result.start_s),
      jobId,
      String(ttlS),
    ) as [number, number, number];
    if (code === -1) return null;
    return { stored: code === 1, done, total };
  }

  /** The stored results of a job's pieces, in index order. */
  async results(jobId: string): Promise<PieceResult[]> {
    const h = await this.redis.hgetall(this.keys.pieces(jobId));
    return Object.values(h)
      .map((v) => PieceResult.parse(JSON.parse(v)))
      .sort((a, b) => a.index - b.index);
  }

  /**
   * Stops counting a job's unfinished pieces (cancelled or failed): gives
   * them back to the identity's fair order, drops their audio and the job's
   * queued long audio. Safe to call twice; returns the pieces given back.
   */
  async abandon(jobId: string, owner: string, total: number): Promise<number> {
    const audioKeys = Array.from(
      { length: total },
      (_, i) => this.keys.pieceAudio(jobId, i),
    );
    return await runScript(
      this.redis,
      ABANDON,
      4 + audioKeys.length,
      this.keys.job(jobId),
      this.keys.pieces(jobId),
      this.keys.userPendingPieces(owner),
      this.keys.longQueued,
      ...audioKeys,
      jobId,
    ) as number;
  }

  /** Pieces of `owner` not yet finished. */
  async pendingOf(owner: string): Promise<number> {
    return Number(
      await this.redis.get(this.keys.userPendingPieces(owner)) ?? 0,
    );
  }
}
