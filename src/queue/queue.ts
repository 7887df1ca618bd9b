/**
 * The BullMQ queues that carry job ids from the API to the workers: whole
 * jobs, and the pieces of long recordings. The job record and audio live in
 * the {@linkcode Store}; a BullMQ job holds only the id (as its jobId, so
 * adding the same job twice is a no-op), the model and, for a piece, where
 * it lies.
 */
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { keys, PIECES_QUEUE_NAME, QUEUE_NAME } from "./keys.ts";

/** Data of a BullMQ transcription job. */
export interface TranscribeJobData {
  model: string;
  /** Set on a piece of a job split into pieces (job name `piece`). */
  piece?: PieceJobData;
}

/** What a piece's queue job carries. */
export interface PieceJobData {
  /** The job the piece belongs to. */
  parent: string;
  /** Identity of the job (the fair order of its pieces). */
  owner: string;
  index: number;
  start_s: number;
  end_s: number;
}

/** The queue job id of piece `index` of job `parent`. */
export function pieceJobId(parent: string, index: number): string {
  return `${parent}-p${index}`;
}

/** Options for {@linkcode TranscribeQueue}. */
export interface TranscribeQueueOptions {
  /** Attempts before a transient failure becomes final. @default 3 */
  attempts?: number;
}

/** Producer side of the transcription queues. */
export class TranscribeQueue {
  /** Whole jobs (short recordings), served by each worker's job slots. */
  readonly queue: Queue<TranscribeJobData>;
  /** Long recordings' split steps and pieces, in their own slots. */
  readonly pieces: Queue<TranscribeJobData>;

  constructor(
    connection: Redis,
    prefix: string,
    options: TranscribeQueueOptions = {},
  ) {
    const opts = {
      connection,
      prefix: keys(prefix).bullPrefix,
      defaultJobOptions: {
        attempts: options.attempts ?? 3,
        backoff: { type: "exponential", delay: 500 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      },
    };
    this.queue = new Queue<TranscribeJobData>(QUEUE_NAME, opts);
    this.pieces = new Queue<TranscribeJobData>(PIECES_QUEUE_NAME, opts);
  }

  /**
   * Queues job `id` (idempotent: an id already queued or active is
   * ignored). A `long` job goes to the pieces queue, ahead of any piece, to
   * be split.
   */
  async enqueue(id: string, model: string, long = false): Promise<void> {
    if (long) {
      await this.pieces.add("split", { model }, { jobId: id, priority: 1 });
    } else {
      await this.queue.add("transcribe", { model }, { jobId: id });
    }
  }

  /**
   * Queues the pieces of job `parent` with their priorities (idempotent:
   * pieces already queued keep their place). Pieces in `skip` are left out.
   */
  async enqueuePieces(
    parent: string,
    owner: string,
    model: string,
    spans: readonly { start_s: number; end_s: number }[],
    priorities: readonly number[],
    skip: ReadonlySet<number> = new Set(),
  ): Promise<void> {
    const jobs = spans.flatMap((span, index) =>
      skip.has(index) ? [] : [{
        name: "piece",
        data: {
          model,
          piece: { parent, owner, index, ...span },
        },
        opts: {
          jobId: pieceJobId(parent, index),
          priority: priorities[index] ?? 1,
        },
      }]
    );
    if (jobs.length) await this.pieces.addBulk(jobs);
  }

  /**
   * Removes the pieces of job `parent` that no worker has taken; returns
   * how many were removed (running ones finish and find the job gone).
   */
  async cancelPieces(parent: string, total: number): Promise<number> {
    let removed = 0;
    for (let i = 0; i < total; i++) {
      const piece = pieceJobId(parent, i);
      if (await this.#removeWaiting(this.pieces, piece) === "removed") {
        removed++;
      }
    }
    return removed;
  }

  /** Removes a job that no worker has taken; returns false if it is running. */
  async cancel(id: string): Promise<boolean> {
    return await this.#removeWaiting(this.queue, id) !== "running" &&
      await this.#removeWaiting(this.pieces, id) !== "running";
  }

  async #removeWaiting(
    queue: Queue<TranscribeJobData>,
    id: string,
  ): Promise<"removed" | "absent" | "running"> {
    const job = await queue.getJob(id);
    if (!job) return "absent";
    const state = await job.getState();
    if (state === "active" || state === "completed" || state === "failed") {
      return state === "active" ? "running" : "absent";
    }
    try {
      await job.remove();
      return "removed";
    } catch {
      return "running"; // taken by a worker in between
    }
  }

  /**
   * Whole jobs waiting for a worker, delayed retries included: the backlog
   * admission control judges (one count of the short-job queue only).
   */
  async backlog(): Promise<number> {
    const c = await this.queue.getJobCounts(
      "waiting",
      "delayed",
      "prioritized",
    );
    return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  }

  /**
   * Jobs waiting (including delayed retries) and running. `waiting` counts
   * whole jobs, served first; `pieces` the prioritized pieces of split jobs.
   */
  async depth(): Promise<
    { waiting: number; active: number; delayed: number; pieces: number }
  > {
    const [c, p] = await Promise.all([
      this.queue.getJobCounts("waiting", "active", "delayed", "prioritized"),
      this.pieces.getJobCounts("waiting", "active", "delayed", "prioritized"),
    ]);
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: (c.active ?? 0) + (p.active ?? 0),
      delayed: c.delayed ?? 0,
      pieces: (p.waiting ?? 0) + (p.prioritized ?? 0) + (p.delayed ?? 0),
    };
  }

  /** Closes the queue's connections (the shared connection stays open). */
  async close(): Promise<void> {
    await this.pieces.close();
    await this.queue.close();
  }
}
