/**
 * The bytes of upload bodies the API holds in memory at once. A one-request
 * upload (`POST /jobs`, `/v1/audio/transcriptions`) is read whole, parsed as
 * multipart and copied before it reaches Redis: measured on 2026-12-07, a
 * 96 MB WAV raised the API's memory by 627 MB (6.5×). Without a bound, a
 * few clients posting large files at once could take the process down.
 * Each upload reserves its declared length before its body is read; past the
 * budget it gets 429 `overloaded` with Retry-After instead. The first
 * upload always fits, so a budget under `MAX_UPLOAD_BYTES` never refuses
 * a file the limits allow.
 */
import { OverloadedError } from "../errors/mod.ts";

export class UploadMemory {
  readonly budgetBytes: number;
  #held = 0;
  #uploads = 0;

  constructor(budgetBytes: number) {
    if (!(budgetBytes > 0)) {
      throw new RangeError(`budgetBytes must be > 0, got ${budgetBytes}`);
    }
    this.budgetBytes = budgetBytes;
  }

  /** Bytes reserved by the uploads being read now. */
  get heldBytes(): number {
    return this.#held;
  }

  /**
   * Reserves `bytes` for `what` until the returned handle is disposed
   * (`using`, or an early `[Symbol.dispose]()`; disposing twice is a
   * no-op).
   *
   * @throws {OverloadedError} when other uploads hold the budget.
   */
  reserve(bytes: number, what: string): Disposable {
    if (this.#uploads > 0 && this.#held + bytes > this.budgetBytes) {
      throw new OverloadedError(
        `the API is reading ${this.#uploads} upload(s) of ${this.#held} bytes; ` +
          `${what} (${bytes} bytes) would pass its memory budget of ${this.budgetBytes} bytes (UPLOAD_MEMORY_BYTES); retry shortly`,
        1,
      );
    }
    this.#held += bytes;
    this.#uploads++;
    let held = true;
    return {
      [Symbol.dispose]: () => {
        if (!held) return;
        held = false;
        this.#held -= bytes;
        this.#uploads--;
      },
    };
  }
}

/**
 * `UPLOAD_MEMORY_BYTES` when set, else an eighth of a quarter of the
 * machine's memory (the API holds ~6.5× what it reads), and never less than
 * one upload of the largest size.
 */
export function uploadMemoryBudget(
  configured: number,
  largestUpload: number,
  totalMemory: number,
): number {
  if (configured > 0) return configured;
  return Math.max(largestUpload, Math.floor(totalMemory / 4 / 8));
}
