/**
 * Admission control: new jobs are refused (429 with Retry-After) once the
 * backlog holds more than the live workers can finish within a client's poll
 * budget, so an overload turns into quick refusals instead of jobs that time
 * out in the queue and a queue (and Redis) that grows without bound.
 *
 * The derived limit is
 * `slots × pollBudgetS / meanJobS`, clamped to {@linkcode BACKLOG_BOUNDS},
 * where `slots` is the summed concurrency of the ready live workers (their
 * heartbeats) and `meanJobS` the mean processing time of the recent jobs
 * (the workers record it; {@linkcode DEFAULT_JOB_SECONDS} before the first).
 * A fixed `maxBacklog` overrides it.
 */
import { OverloadedError } from "../errors/mod.ts";
import { liveWorkers } from "./heartbeat.ts";
import type { TranscribeQueue } from "./queue.ts";
import type { Store } from "./store.ts";

/** Smallest and largest derived backlog limit. */
export const BACKLOG_BOUNDS = { min: 16, max: 10_000 } as const;

/** Assumed processing seconds per job before any job has finished. */
export const DEFAULT_JOB_SECONDS = 1;

/** Options of {@linkcode Admission}. */
export interface AdmissionOptions {
  /** Fixed backlog limit; 0 derives it from the live workers. @default 0 */
  maxBacklog?: number;
  /** Seconds a client is expected to wait for its job. @default 30 */
  pollBudgetS?: number;
  /** How long a derived limit is reused before it is recomputed, ms. @default 1000 */
  refreshMs?: number;
}

/** The limit in force and what it was derived from. */
export interface AdmissionLimit {
  limit: number;
  /** True when derived from the workers, false when configured. */
  derived: boolean;
  /** Jobs the ready live workers run at once. */
  slots: number;
  /** Mean processing seconds of recent jobs (or the default). */
  meanJobS: number;
}

/** Decides whether a new job may be queued. */
export class Admission {
  readonly #store: Store;
  readonly #queue: TranscribeQueue;
  readonly #prefix: string;
  readonly #maxBacklog: number;
  readonly #budgetS: number;
  readonly #refreshMs: number;
  #cached: { at: number; value: AdmissionLimit } | null = null;

  constructor(
    store: Store,
    queue: TranscribeQueue,
    prefix: string,
    options: AdmissionOptions = {},
  ) {
    this.#store = store;
    this.#queue = queue;
    this.#prefix = prefix;
    this.#maxBacklog = options.maxBacklog ?? 0;
    this.#budgetS = options.pollBudgetS ?? 30;
    this.#refreshMs = options.refreshMs ?? 1000;
  }

  /** The backlog limit in force now (cached for `refreshMs`). */
  async limit(): Promise<AdmissionLimit> {
    const c = this.#cached;
    if (c && Date.now() - c.at < this.#refreshMs) return c.value;
    const [workers, mean] = await Promise.all([
      liveWorkers(this.#store.redis, this.#prefix),
      this.#store.recentProcessingMean(),
    ]);
    const slots = workers.filter((w) => w.ready)
      .reduce((n, w) => n + w.concurrency, 0);
    const meanJobS = mean ?? DEFAULT_JOB_SECONDS;
    const value: AdmissionLimit = this.#maxBacklog > 0
      ? { limit: this.#maxBacklog, derived: false, slots, meanJobS }
      : {
        limit: deriveBacklogLimit(slots, this.#budgetS, meanJobS),
        derived: true,
        slots,
        meanJobS,
      };
    this.#cached = { at: Date.now(), value };
    return value;
  }

  /**
   * Resolves when a new job may be queued.
   * @throws {OverloadedError} (429) with a Retry-After of the time the
   *   workers need to bring the backlog back under the limit
   */
  async check(): Promise<void> {
    const [depth, l] = await Promise.all([this.#queue.depth(), this.limit()]);
    const backlog = depth.waiting + depth.delayed;
    if (backlog < l.limit) return;
    const excess = backlog - l.limit + 1;
    const retryAfterS = Math.min(
      60,
      Math.max(1, Math.ceil(excess * l.meanJobS / Math.max(1, l.slots))),
    );
    throw new OverloadedError(
      `the queue holds ${backlog} jobs (limit ${l.limit}${
        l.derived
          ? `: ${l.slots} worker slot(s) × ${this.#budgetS} s / ${
            l.meanJobS.toFixed(3)
          } s per job`
          : ""
      }); retry in ${retryAfterS} s`,
      retryAfterS,
    );
  }
}

/**
 * Jobs `slots` workers finish within `budgetS` at `meanJobS` each, clamped
 * to {@linkcode BACKLOG_BOUNDS}.
 */
export function deriveBacklogLimit(
  slots: number,
  budgetS: number,
  meanJobS: number,
): number {
  const raw = slots * budgetS / Math.max(0.001, meanJobS);
  return Math.round(
    Math.min(BACKLOG_BOUNDS.max, Math.max(BACKLOG_BOUNDS.min, raw)),
  );
}
