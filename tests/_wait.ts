/**
 * Bounded waits for process-level suites: poll a check until it yields a
 * value, or give a promise a deadline. Both name what they waited for when
 * they time out and always clear their timers.
 *
 * @module
 */

/**
 * Polls `check` until it returns a value (not undefined), at most
 * `timeoutMs` and `timeoutMs / intervalMs + 1` checks; rejects when `died`
 * does. Errors thrown by `check` end the wait.
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  o: { timeoutMs: number; intervalMs: number; died?: Promise<never> },
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  const maxChecks = Math.ceil(o.timeoutMs / o.intervalMs) + 1;
  const race = <V>(p: Promise<V>) => o.died ? Promise.race([p, o.died]) : p;
  for (let i = 0; i < maxChecks; i++) {
    const value = await race(check());
    if (value !== undefined) return value;
    if (Date.now() >= deadline) break;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await race(new Promise((r) => timer = setTimeout(r, o.intervalMs)));
    } finally {
      clearTimeout(timer);
    }
  }
  throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${what}`);
}

/** `p`, or a rejection naming `what` after `ms`; the timer is always cleared. */
export async function within<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
