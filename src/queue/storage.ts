/**
 * The storage budget: how many bytes the service lets Redis hold before it
 * refuses new sessions, chunks and jobs (429 `storage_full`, with
 * Retry-After) — below Redis's own `maxmemory`, so a refusal comes from us
 * with a clear message, never as a failed write, and what is stored stays.
 *
 * Unfinalized uploads ("staging": new sessions, chunks) may fill only
 * `stagingFraction` of the budget, so clients that upload and never
 * finalize can't keep anyone from submitting a job: the rest is for job
 * audio (one-request uploads, finalized sessions). Long recordings, whose
 * pieces workers store as they split them (PCM16: 115 MB an hour, against
 * 29 MB of MP3), may fill only `piecesFraction`: the rest stays for short
 * jobs, whose uploads pieces waiting for a worker must not refuse.
 *
 * Redis's `used_memory` (INFO memory) is read at most every `refreshMs`;
 * bytes admitted since the last reading are added to it, so a burst of
 * uploads between two readings can't overshoot.
 */
import type { Redis } from "ioredis";
import { StorageFullError } from "../errors/mod.ts";

/** Options of {@linkcode StorageBudget}. */
export interface StorageBudgetOptions {
  /** The budget, bytes; 0 derives it (see {@linkcode deriveBudget}). */
  budgetBytes: number;
  /** Seconds a refused client should wait. @default 5 */
  retryAfterS?: number;
  /** Longest age of a `used_memory` reading, ms. @default 250 */
  refreshMs?: number;
  /** This machine's memory, bytes, for Redis without maxmemory. */
  memTotalBytes?: number;
  /** Share of the budget unfinalized uploads may fill. @default 0.75 */
  stagingFraction?: number;
  /**
   * Share of the budget long recordings (uploads and pieces) may fill.
   * @default 0.9
   */
  piecesFraction?: number;
}

/**
 * What bytes are admitted for: an unfinalized upload, a job's audio, or a
 * long recording's pieces.
 */
export type StorageUse = "staging" | "job" | "pieces";

/** What the budget knows now. */
export interface StorageUsage {
  /** Redis's used_memory at the last reading, plus bytes admitted since. */
  usedBytes: number;
  /** Redis's maxmemory (0: none). */
  maxmemoryBytes: number;
  budgetBytes: number;
}

/**
 * The budget for `maxmemory`: `configured` when set; else 90 % of
 * maxmemory (room for job records, queues and results past the budget);
 * else, for a Redis without a limit, a quarter of the machine's memory.
 */
export function deriveBudget(
  configured: number,
  maxmemory: number,
  memTotal: number,
): number {
  if (configured > 0) return configured;
  if (maxmemory > 0) return Math.floor(maxmemory * 0.9);
  return Math.floor(memTotal / 4);
}

/** Reads `used_memory` and `maxmemory` from an INFO memory reply. */
export function parseInfoMemory(
  info: string,
): { used: number; maxmemory: number } {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:(\\d+)`, "m").exec(info);
    return m ? Number(m[1]) : 0;
  };
  return { used: field("used_memory"), maxmemory: field("maxmemory") };
}

/** The service's storage budget over one Redis. */
export class StorageBudget {
  readonly #redis: Redis;
  readonly #o: Required<StorageBudgetOptions>;
  #readAt = -Infinity;
  #used = 0;
  #maxmemory = 0;
  #admitted = 0;
  #reading: Promise<void> | null = null;
  /** Refusals so far (metrics). */
  refusals = 0;

  constructor(redis: Redis, options: StorageBudgetOptions) {
    this.#redis = redis;
    this.#o = {
      retryAfterS: 5,
      refreshMs: 250,
      memTotalBytes: 4 * 1024 ** 3,
      stagingFraction: 0.75,
      piecesFraction: 0.9,
      ...options,
    };
  }

  /** Current usage (reads Redis when the last reading is stale). */
  async usage(): Promise<StorageUsage> {
    if (performance.now() - this.#readAt > this.#o.refreshMs) {
      this.#reading ??= this.#read().finally(() => this.#reading = null);
      await this.#reading;
    }
    return {
      usedBytes: this.#used + this.#admitted,
      maxmemoryBytes: this.#maxmemory,
      budgetBytes: deriveBudget(
        this.#o.budgetBytes,
        this.#maxmemory,
        this.#o.memTotalBytes,
      ),
    };
  }

  /**
   * Admits `bytes` more (a chunk, an upload, an assembled file), or throws
   * {@linkcode StorageFullError} naming `what` when the budget — for
   * `staging` and `pieces`, their share — can't hold them.
   */
  async admit(bytes: number, what: string, use: StorageUse): Promise<void> {
    const u = await this.usage();
    const limit = this.#limit(u.budgetBytes, use);
    if (u.usedBytes + bytes > limit) {
      this.refusals++;
      throw new StorageFullError(
        `${what} refused: the service holds ${mib(u.usedBytes)} MiB; ${
          use === "staging"
            ? `unfinalized uploads may fill ${mib(limit)} MiB of its`
            : use === "pieces"
            ? `long recordings may fill ${mib(limit)} MiB of its`
            : "its"
        } ${mib(u.budgetBytes)} MiB storage budget; retry shortly`,
        this.#o.retryAfterS,
      );
    }
    this.#admitted += bytes;
  }

  #limit(budget: number, use: StorageUse): number {
    if (use === "staging") return Math.floor(budget * this.#o.stagingFraction);
    if (use === "pieces") return Math.floor(budget * this.#o.piecesFraction);
    return budget;
  }

  /**
   * The most `used_memory` may reach for `use`: the budget, or its share
   * for unfinalized uploads and for long recordings' pieces.
   */
  async limit(use: StorageUse): Promise<number> {
    return this.#limit((await this.usage()).budgetBytes, use);
  }

  async #read(): Promise<void> {
    const { used, maxmemory } = parseInfoMemory(
      await this.#redis.info("memory"),
    );
    this.#used = used;
    this.#maxmemory = maxmemory;
    this.#admitted = 0;
    this.#readAt = performance.now();
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
