/**
 * Turns at decoding uploads with ffmpeg, the API's costliest step: a
 * compressed upload is decoded whole (to a null sink) before it is queued,
 * to know its duration — about a second of CPU for an hour of MP3. Measured
 * on 2026-12-07 (3 workers, 2 cores): one identity posting twelve hour-long
 * MP3s at once ran twelve ffmpegs side by side, and another identity's 1 s
 * clips went from 212 to 2,911 ms end to end (p95) while the quota refused
 * eleven of them, after their decoding.
 *
 * So an identity's compressed uploads take turns ({@linkcode take}): one at
 * a time, each turn lasting until its job is stored, so the next one's
 * check sees it (a full quota is refused before decoding). And at most
 * `concurrency` decodings run at once ({@linkcode decode}); since an
 * identity has at most one waiting, they are served in turn across
 * identities. (Waiting holds the upload's bytes: `UploadMemory` bounds
 * those.)
 */
export class FfmpegTurns {
  readonly concurrency: number;
  #running = 0;
  #waiting = 0;
  #decoded = 0;
  #refused = 0;
  /** Decodings waiting for one of the `concurrency` places, in order. */
  readonly #queue: (() => void)[] = [];
  /** Per identity, the end of its last turn (its next one starts then). */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(
        `concurrency must be an integer >= 1, got ${concurrency}`,
      );
    }
    this.concurrency = concurrency;
  }

  /**
   * Decodings running and waiting for a place now; uploads decoded in all,
   * and refused by their turn's check before decoding.
   */
  get counts(): {
    running: number;
    waiting: number;
    decoded: number;
    refused: number;
  } {
    return {
      running: this.#running,
      waiting: this.#waiting,
      decoded: this.#decoded,
      refused: this.#refused,
    };
  }

  /**
   * Waits for `owner`'s turn (its earlier turns ended), then runs `check`
   * (a cheap refusal, e.g. a quota already full). The turn lasts until the
   * returned handle is disposed; when `check` throws it ends at once and
   * the error is passed on.
   */
  async take(
    owner: string,
    check: () => Promise<void> = () => Promise.resolve(),
  ): Promise<Disposable> {
    const before = this.#tails.get(owner) ?? Promise.resolve();
    let end!: () => void;
    const tail = new Promise<void>((resolve) => (end = resolve));
    this.#tails.set(owner, tail);
    let held = true;
    const turn = {
      [Symbol.dispose]: () => {
        if (!held) return;
        held = false;
        end();
        if (this.#tails.get(owner) === tail) this.#tails.delete(owner);
      },
    };
    await before;
    try {
      await check();
    } catch (error) {
      this.#refused++;
      turn[Symbol.dispose]();
      throw error;
    }
    return turn;
  }

  /** Runs `decode` once fewer than `concurrency` decodings run. */
  async decode<T>(decode: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      this.#waiting++;
      // The place is handed over by the decoding that ends (see below).
      await new Promise<void>((resolve) => this.#queue.push(resolve));
      this.#waiting--;
    } else this.#running++;
    this.#decoded++;
    try {
      return await decode();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

/** `AUDIO_CHECK_CONCURRENCY` when set, else half the cores (at least 1). */
export function ffmpegConcurrency(configured: number, cores: number): number {
  return configured > 0 ? configured : Math.max(1, Math.floor(cores / 2));
}
