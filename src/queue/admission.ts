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
 * A fixed `maxBacklog` overrides it. Only whole (short) jobs count here:
 * they are served before any piece, and their mean is theirs alone, so long
 * recordings neither fill this backlog nor raise its mean.
 *
 * Long recordings (split into pieces, see `pieces.ts`) are admitted by audio
 * seconds instead: the audio of long jobs not yet transcribed, plus the new
 * one, must fit in what the ready workers transcribe within `longBudgetS`
 * at the recent pieces' real-time factor (processing seconds per audio
 * second). An empty long queue always takes one recording.
 */
import { OverloadedError } from "../errors/mod.ts";
import { liveWorkers } from "./heartbeat.ts";
import type { TranscribeQueue } from "./queue.ts";
import type { PieceStore } from "./pieces.ts";
import type { Store } from "./store.ts";

/** Smallest and largest derived backlog limit. */
export const BACKLOG_BOUNDS = { min: 16, max: 10_000 } as const;

/** Assumed processing seconds per job before any job has finished. */
export const DEFAULT_JOB_SECONDS = 1;

/** Assumed real-time factor of a piece before any piece has finished. */
export const DEFAULT_PIECE_RTF = 0.1;

/** Options of {@linkcode Admission}. */
export interface AdmissionOptions {
  /** Fixed backlog limit; 0 derives it from the live workers. @default 0 */
  maxBacklog?: number;
  /** Seconds a client is expected to wait for its job. @default 30 */
  pollBudgetS?: number;
  /** How long a derived limit is reused before it is recomputed, ms. @default 1000 */
  refreshMs?: number;
  /** Audio longer than this, seconds, is a long recording. @default 30 */
  pieceThresholdS?: number;
  /** Seconds a long recording is expected to wait, at most. @default 1800 */
  longBudgetS?: number;
  /** The pieces' store (queued long audio); without it long jobs pass. */
  pieces?: PieceStore;
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
  readonly #thresholdS: number;
  readonly #longBudgetS: number;
  readonly #pieces: PieceStore | undefined;
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
    this.#thresholdS = options.pieceThresholdS ?? 30;
    this.#longBudgetS = options.longBudgetS ?? 1800;
    this.#pieces = options.pieces;
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
    // A limit from the assumed mean is not kept: once the first job has
    // finished, the next check uses its measured time. (Kept for
    // `refreshMs`, a burst right after start-up was judged by the guess of
    // 1 s per job for up to a second after the real mean was known.)
    this.#cached = mean === null && this.#maxBacklog === 0
      ? null
      : { at: Date.now(), value };
    return value;
  }

  /**
   * Resolves when a new job of `audioS` seconds (null: unknown, a short job)
   * may be queued.
   * @throws {OverloadedError} (429) with a Retry-After of the time the
   *   workers need to bring the backlog back under the limit
   */
  async check(audioS: number | null = null): Promise<void> {
    if (audioS !== null && audioS > this.#thresholdS && this.#pieces) {
      return await this.#checkLong(audioS, this.#pieces);
    }
    const [backlog, l] = await Promise.all([
      this.#queue.backlog(),
      this.limit(),
    ]);
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

  /** The queued long audio limit in force now, seconds, and its inputs. */
  async longLimit(): Promise<{ limitS: number; slots: number; rtf: number }> {
    const [{ slots }, rtf] = await Promise.all([
      this.limit(),
      this.#store.recentPieceRtf(),
    ]);
    const r = rtf ?? DEFAULT_PIECE_RTF;
    return {
      limitS: Math.max(1, slots) * this.#longBudgetS / r,
      slots,
      rtf: r,
    };
  }

  async #checkLong(audioS: number, pieces: PieceStore): Promise<void> {
    const [queuedS, l] = await Promise.all([
      pieces.queuedLongAudioS(),
      this.longLimit(),
    ]);
    if (queuedS === 0 || queuedS + audioS <= l.limitS) return;
    const excessS = queuedS + audioS - l.limitS;
    const retryAfterS = Math.min(
      600,
      Math.max(1, Math.ceil(excessS * l.rtf / Math.max(1, l.slots))),
    );
    throw new OverloadedError(
      `long recordings hold ${Math.round(queuedS)} s of audio in the queue; ` +
        `${Math.round(audioS)} s more would pass the limit of ${
          Math.round(l.limitS)
        } s (${l.slots} worker slot(s) × ${this.#longBudgetS} s / ${
          l.rtf.toFixed(3)
        } s per audio second); retry in ${retryAfterS} s`,
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
