/**
 * The worker's side of long recordings: splitting a long job into pieces
 * that any worker takes, transcribing one piece, and stitching the job once
 * its last piece is stored (see src/queue/pieces.ts for the Redis side).
 *
 * @module
 */
import { type Job, UnrecoverableError } from "bullmq";
import { encodeWav, splitAtPauses } from "../audio/mod.ts";
import type { DecodedAudio } from "../audio/mod.ts";
import { AppError, InvalidAudioError, TimeLimitError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Segment as EngineSegment } from "../engine/mod.ts";
import { recordSegments } from "./segments.ts";
import {
  type JobRecord,
  type PieceJobData,
  type PieceResult,
  type PieceSpan,
  type PieceStore,
  stitchPieces,
  type Store,
  type TranscribeJobData,
  type TranscribeQueue,
} from "../queue/mod.ts";

const RATE = 16_000;
/** How often a split without room tries its piece again, ms. */
const ROOM_POLL_MS = 250;

/** What transcribing a clip needs from its job record. */
export type ClipJob = Pick<JobRecord, "language" | "options">;

/** What the piece handlers need from their worker. */
export interface PieceContext {
  workerId: string;
  store: Store;
  pieces: PieceStore;
  queue: TranscribeQueue;
  log: Logger;
  /** Longest piece, seconds. */
  pieceMaxS: number;
  /** Seconds job data is kept. */
  ttlS: number;
  /** Decodes audio bytes to 16 kHz mono. */
  decode: (bytes: Uint8Array) => Promise<DecodedAudio>;
  /**
   * The most Redis's `used_memory` may reach with pieces stored: the
   * storage budget's share for them (0: no limit).
   */
  piecesLimit: () => Promise<number>;
  /** How long a split waits for room, ms, before it returns "no-room". */
  roomWaitMs: number;
  /**
   * Transcribes a clip of at most one window with the worker's settings
   * (model `model`, the job's language); segment times relative to the clip.
   * Throws UnrecoverableError when the model is not loaded.
   */
  transcribeClip: (
    model: string,
    samples: Float32Array,
    job: ClipJob,
  ) => Promise<{ text: string; segments: EngineSegment[] }>;
  /** Counts a piece in hand (the heartbeat's `busy`). */
  busy: (delta: number) => void;
}

/**
 * Splits `audio` of job `record` at pauses, stores the pieces' audio and
 * queues them, the first ones as soon as they are stored. Idempotent: a
 * retried split keeps the first plan and only stores the pieces neither
 * transcribed nor stored. Returns "split", "gone" when the job was
 * cancelled, or "no-room" when the storage budget stayed full: the pieces
 * stored so far are queued, and the split should be tried again once they
 * have been transcribed (a long recording's pieces decode to more than was
 * uploaded: PCM16 is 115 MB an hour, against 29 MB of MP3).
 */
export async function splitJob(
  ctx: PieceContext,
  record: JobRecord,
  model: string,
  audio: DecodedAudio,
): Promise<"split" | "gone" | "no-room"> {
  const t0 = performance.now();
  const cuts = splitAtPauses(audio.samples, { maxPieceS: ctx.pieceMaxS });
  const spans: PieceSpan[] = cuts.map((c) => ({
    start_s: c.start / RATE,
    end_s: c.end / RATE,
  }));
  const plan = await ctx.pieces.plan(
    record.job_id,
    record.owner,
    spans,
    ctx.ttlS,
  );
  if (plan === null) return "gone";
  const tPlan = performance.now();
  const used = plan.spans;
  // In the order they will run; doubling batches (1, 2, 4, …) of audio
  // writes and one queue call each, so idle workers start on the first
  // pieces within a round trip or two of the plan while the rest is stored.
  const todo = used.map((_, i) => i)
    .filter((i) => !plan.done.has(i))
    .sort((a, b) => plan.priorities[a]! - plan.priorities[b]!);
  const wanted = async () => isLive(await ctx.store.getJob(record.job_id));
  // Queues the pieces stored since the last call.
  let group: number[] = [];
  let size = 1;
  let storedNow = 0;
  const flush = async () => {
    if (group.length === 0) return;
    const ours = new Set(group);
    await ctx.queue.enqueuePieces(
      record.job_id,
      record.owner,
      model,
      used,
      plan.priorities,
      new Set(used.map((_, i) => i).filter((i) => !ours.has(i))),
    );
    group = [];
    size *= 2;
  };
  const stored = await ctx.pieces.withAudio(record.job_id, todo);
  for (const i of todo) {
    if (i !== todo[0] && group.length === 0 && !(await wanted())) {
      // Cancelled while it was being queued: the pieces queued so far find
      // the job gone and drop their audio.
      return "gone";
    }
    if (!stored.has(i)) { // else stored by an earlier try: queued again
      const from = Math.round(used[i]!.start_s * RATE);
      const to = Math.round(used[i]!.end_s * RATE);
      const wav = encodeWav(audio.samples.subarray(from, to), {
        sampleRate: RATE,
      });
      const put = async () =>
        ctx.pieces.putAudio(
          record.job_id,
          i,
          wav,
          ctx.ttlS,
          await ctx.piecesLimit(),
        );
      if (!(await put())) {
        // Queue what is stored first: its pieces, transcribed and dropped,
        // are what makes room when nothing else does.
        await flush();
        let room = false;
        for (
          const until = performance.now() + ctx.roomWaitMs;
          !room && performance.now() < until;
        ) {
          await new Promise((r) => setTimeout(r, ROOM_POLL_MS));
          if (!(await wanted())) return "gone";
          room = await put();
        }
        if (!room) {
          ctx.log({
            level: "info",
            msg: "split paused: storage full",
            job_id: record.job_id,
            stored: stored.size + storedNow,
            pieces: used.length,
          });
          return "no-room";
        }
      }
      storedNow++;
    }
    group.push(i);
    if (group.length >= size) await flush();
  }
  await flush();
  const tQueued = performance.now();
  await ctx.store.notify(record.job_id); // progress: 0 of n
  ctx.log({
    level: "debug",
    msg: "job split",
    job_id: record.job_id,
    pieces: used.length,
    audio_s: Math.round(audio.durationS * 10) / 10,
    first_priority: plan.priorities[0],
    plan_ms: Math.round(tPlan - t0),
    store_queue_ms: Math.round(tQueued - tPlan),
  });
  return "split";
}

/**
 * Transcribes one piece and stores its result once; the worker that stores
 * the last piece stitches the job. A piece whose job was cancelled or
 * failed is skipped. On its last attempt, a failing piece fails the job and
 * cancels the pieces not yet started.
 */
export async function processPiece(
  ctx: PieceContext,
  job: Job<TranscribeJobData>,
  p: PieceJobData,
  faultDelayMs: number,
): Promise<string> {
  const record = await ctx.store.getJob(p.parent);
  if (record === null || isFinal(record)) {
    // Queued after its job was cancelled (the split was still queueing):
    // nothing else drops its audio.
    await ctx.pieces.dropAudio(p.parent, p.index);
    return "gone";
  }
  if (await ctx.pieces.isStored(p.parent, p.index)) {
    // A retry of a piece whose result was stored (its worker died after
    // storing): the job may still need stitching.
    await finishIfComplete(ctx, p.parent);
    return "already-stored";
  }
  ctx.busy(1);
  try {
    const bytes = await ctx.pieces.audio(p.parent, p.index);
    if (bytes === null) {
      if (await ctx.pieces.isStored(p.parent, p.index)) return "already-stored";
      throw new AppError(500, "audio_missing", "the piece's audio expired");
    }
    const attempt = await ctx.pieces.start(p.parent, p.index, ctx.ttlS);
    const startedAtMs = Date.now();
    const t0 = performance.now();
    const audio = await ctx.decode(bytes);
    const out = await ctx.transcribeClip(
      job.data.model,
      audio.samples,
      record,
    );
    if (faultDelayMs > 0) await new Promise((r) => setTimeout(r, faultDelayMs));
    const processingMs = performance.now() - t0;
    const result: PieceResult = {
      index: p.index,
      start_s: p.start_s,
      end_s: p.end_s,
      text: out.text,
      segments: recordSegments(out.segments, p.start_s, p.end_s),
      worker_id: ctx.workerId,
      processing_ms: Math.round(processingMs * 10) / 10,
      attempts: attempt,
      started_at_ms: startedAtMs,
    };
    const c = await ctx.pieces.complete(p.parent, p.owner, result, ctx.ttlS);
    if (c === null) return "gone";
    if (c.stored) {
      await ctx.store.recordPiece(processingMs / 1000, p.end_s - p.start_s);
      if (c.done < c.total) await ctx.store.notify(p.parent);
    }
    if (c.done >= c.total) await finishIfComplete(ctx, p.parent);
    ctx.log({
      level: "debug",
      msg: "piece done",
      job_id: p.parent,
      piece: p.index,
      processing_ms: Math.round(processingMs),
      stored: c.stored,
      done: c.done,
      total: c.total,
    });
    return c.stored ? "stored" : "already-stored";
  } catch (error) {
    const last = error instanceof UnrecoverableError ||
      error instanceof InvalidAudioError ||
      error instanceof TimeLimitError ||
      job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (last) {
      await failSplitJob(ctx, record, {
        code: error instanceof AppError ? error.code : "transcription_failed",
        message: `piece ${p.index} (${p.start_s.toFixed(1)}–${
          p.end_s.toFixed(1)
        } s): ${(error as Error).message ?? String(error)}`,
      });
    }
    ctx.log({
      level: "warn",
      msg: "piece attempt failed",
      job_id: p.parent,
      piece: p.index,
      error: String(error),
    });
    if (last && !(error instanceof UnrecoverableError)) {
      throw new UnrecoverableError(String(error));
    }
    throw error;
  } finally {
    ctx.busy(-1);
  }
}

/** Stitches and completes job `id` when every piece is stored. */
export async function finishIfComplete(
  ctx: PieceContext,
  id: string,
): Promise<boolean> {
  const record = await ctx.store.getJob(id);
  if (record === null || isFinal(record) || record.pieces_total === null) {
    return false;
  }
  const results = await ctx.pieces.results(id);
  if (results.length < record.pieces_total) return false;
  const { transcript, segments } = stitchPieces(results);
  const times = await ctx.store.jobTimes(id);
  const stored = await ctx.store.completeJob(id, {
    transcript,
    segments,
    processing_ms: Math.max(0, Date.now() - times.started),
    audio_duration_s: record.audio_duration_s ?? results.at(-1)!.end_s,
    model_name: record.model_name,
  });
  if (stored) {
    ctx.log({
      level: "debug",
      msg: "job stitched",
      job_id: id,
      pieces: results.length,
      workers: [...new Set(results.map((r) => r.worker_id))],
    });
  }
  return stored;
}

/** Fails a split job once and cancels its pieces not yet started. */
export async function failSplitJob(
  ctx: PieceContext,
  record: JobRecord,
  error: { code: string; message: string },
): Promise<void> {
  await ctx.store.failJob(record.job_id, error);
  const total = record.pieces_total ?? 0;
  await ctx.queue.cancelPieces(record.job_id, total);
  await ctx.pieces.abandon(record.job_id, record.owner, total);
}

function isFinal(job: JobRecord): boolean {
  return job.status === "completed" || job.status === "failed";
}

function isLive(job: JobRecord | null): boolean {
  return job !== null && !isFinal(job);
}
