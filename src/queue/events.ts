/**
 * Job-finished notifications over Redis pub/sub, used by long polling.
 * One subscriber connection serves every waiting request.
 */
import type { Redis } from "ioredis";

/** Dispatches "job finished" events to waiters by job id. */
export class JobEvents {
  #waiters = new Map<string, Set<() => void>>();
  #ready: Promise<unknown>;

  constructor(
    private readonly subscriber: Redis,
    private readonly channel: string,
  ) {
    subscriber.on("message", (_ch: string, id: string) => {
      const set = this.#waiters.get(id);
      if (!set) return;
      this.#waiters.delete(id);
      for (const wake of set) wake();
    });
    this.#ready = subscriber.subscribe(channel).catch(() => undefined);
  }

  /** Resolves when the subscription is active. */
  ready(): Promise<unknown> {
    return this.#ready;
  }

  /**
   * Resolves true when job `id` is reported finished, false after `timeoutMs`
   * or when `signal` aborts (the client went away).
   */
  waitFor(
    id: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(false);
      let set = this.#waiters.get(id);
      if (!set) this.#waiters.set(id, set = new Set());
      const done = (value: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        set!.delete(wake);
        if (set!.size === 0 && this.#waiters.get(id) === set) {
          this.#waiters.delete(id);
        }
        resolve(value);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener("abort", onAbort);
      set.add(wake);
    });
  }

  /** Number of requests currently waiting. */
  get waiting(): number {
    let n = 0;
    for (const s of this.#waiters.values()) n += s.size;
    return n;
  }

  /** Stops listening. */
  async close(): Promise<void> {
    for (const set of this.#waiters.values()) for (const wake of set) wake();
    this.#waiters.clear();
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}
