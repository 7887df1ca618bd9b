/**
 * What a process holds, from /proc: resident memory and open file
 * descriptors (Linux; the suites that read them run only there).
 */
import { parseProcStatus } from "../src/perf/proc_memory.ts";

/** Resident memory of `pid`, MiB. */
export async function rssMib(pid: number): Promise<number> {
  return parseProcStatus(await Deno.readTextFile(`/proc/${pid}/status`))
    .rss_mib;
}

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

/** p-th percentile (nearest rank) of `xs`. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
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
