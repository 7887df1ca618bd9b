/**
 * Bounds on long polls (`GET /jobs/{id}?wait=`): at most `total` waiting in
 * this API process and `perIdentity` for one identity. A poll over either
 * is answered at once with the job as it is (never refused: polling again
 * is always allowed), so no client can pin the process's connections.
 */

/** Counts of waiting long polls. */
export class LongPollLimiter {
  readonly #byIdentity = new Map<string, number>();
  #total = 0;
  /**
   * Polls answered at once because a cap was reached (metrics): counted by
   * the route, which knows whether the poll would have waited.
   */
  capped = 0;

  constructor(readonly total: number, readonly perIdentity: number) {}

  /** Polls waiting now. */
  get waiting(): number {
    return this.#total;
  }

  /**
   * Takes a waiting slot for `identity`: a release function (call it once
   * the poll ends), or null when a cap is reached.
   */
  acquire(identity: string): (() => void) | null {
    const mine = this.#byIdentity.get(identity) ?? 0;
    if (this.#total >= this.total || mine >= this.perIdentity) return null;
    this.#total++;
    this.#byIdentity.set(identity, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const n = (this.#byIdentity.get(identity) ?? 1) - 1;
      if (n === 0) this.#byIdentity.delete(identity);
      else this.#byIdentity.set(identity, n);
    };
  }
}
