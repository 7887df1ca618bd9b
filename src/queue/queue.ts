/**
 * The BullMQ queue that carries job ids from the API to the workers. The job
 * record and audio live in the {@linkcode Store}; a BullMQ job holds only the
 * id (as its jobId, so adding the same job twice is a no-op) and the model.
 */
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { keys, QUEUE_NAME } from "./keys.ts";

/** Data of a BullMQ transcription job. */
export interface TranscribeJobData {
  model: string;
}

/** Options for {@linkcode TranscribeQueue}. */
export interface TranscribeQueueOptions {
  /** Attempts before a transient failure becomes final. @default 3 */
  attempts?: number;
}

/** Producer side of the transcription queue. */
export class TranscribeQueue {
  readonly queue: Queue<TranscribeJobData>;

  constructor(
    connection: Redis,
    prefix: string,
    options: TranscribeQueueOptions = {},
  ) {
    this.queue = new Queue<TranscribeJobData>(QUEUE_NAME, {
      connection,
      prefix: keys(prefix).bullPrefix,
      defaultJobOptions: {
        attempts: options.attempts ?? 3,
        backoff: { type: "exponential", delay: 500 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      },
    });
  }

  /** Queues job `id` (idempotent: an id already queued or active is ignored). */
  async enqueue(id: string, model: string): Promise<void> {
    await this.queue.add("transcribe", { model }, { jobId: id });
  }

  /** Removes a job that no worker has taken; returns false if it is running. */
  async cancel(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job) return true;
    const state = await job.getState();
    if (state === "active") return false;
    try {
      await job.remove();
      return true;
    } catch {
      return false; // taken by a worker in between
    }
  }

  /** Jobs waiting (including delayed retries) and running. */
  async depth(): Promise<{ waiting: number; active: number; delayed: number }> {
    const c = await this.queue.getJobCounts(
      "waiting",
      "active",
      "delayed",
      "prioritized",
    );
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
    };
  }

  /** Closes the queue's connections (the shared connection stays open). */
  async close(): Promise<void> {
    await this.queue.close();
  }
}
