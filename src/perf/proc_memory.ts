/**
 * Memory of the stack's processes from Linux's `/proc/<pid>/status`: the
 * resident set now (`VmRSS`) and its high-water mark since the process
 * started (`VmHWM`), so one reading after a run gives the peak under that
 * run's load without sampling.
 */
import type { CpuTarget } from "./proc_cpu.ts";

/** One process's memory, MiB. */
export interface ProcessMemory {
  rss_mib: number;
  peak_mib: number;
}

/**
 * `VmRSS` and `VmHWM` (MiB) from the text of `/proc/<pid>/status`.
 * @throws {Error} when either line is missing.
 */
export function parseProcStatus(text: string): ProcessMemory {
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
    if (!m) throw new Error(`/proc/<pid>/status has no ${field} line`);
    return Math.round(Number(m[1]) / 1024 * 10) / 10;
  };
  return { rss_mib: kib("VmRSS"), peak_mib: kib("VmHWM") };
}

/**
 * Memory of every target still alive, by component name (processes of one
 * name are listed under `name`, `name#2`, …, in the order given).
 */
export async function readMemory(
  targets: readonly CpuTarget[],
): Promise<Record<string, ProcessMemory>> {
  const out: Record<string, ProcessMemory> = {};
  for (const t of targets) {
    try {
      const mem = parseProcStatus(
        await Deno.readTextFile(`/proc/${t.pid}/status`),
      );
      let key = t.name;
      for (let i = 2; key in out; i++) key = `${t.name}#${i}`;
      out[key] = mem;
    } catch {
      // exited, or not Linux: left out
    }
  }
  return out;
}
