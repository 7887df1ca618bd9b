/**
 * What a process holds, from /proc (open file descriptors), and /health
 * timings (Linux; the suites that read them run only there). Resident
 * memory: chaos_helpers.ts's `rssMb`.
 */

/** Open file descriptors of `pid`. */
export function openFds(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** The pid of the stack's process named `name` (e.g. "api", "redis"). */
export function pidOf(
  stack: { processes(): { name: string; pid: number }[] },
  name: string,
): number {
  const p = stack.processes().find((x) => x.name === name);
  if (!p) throw new Error(`no ${name} process in the stack`);
  return p.pid;
}

/** Times `n` sequential GET /health; their durations, ms. */
export async function healthTimes(
  baseUrl: string,
  n: number,
  gapMs = 0,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch(`${baseUrl}/health`);
    await r.body?.cancel();
    out.push(performance.now() - t0);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  return out;
}
