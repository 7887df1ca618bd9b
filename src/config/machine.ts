/** Facts about the machine that defaults are derived from. */

/** This machine's memory, bytes (/proc/meminfo; 4 GiB when unreadable). */
export function memTotal(): number {
  try {
    const m = /^MemTotal:\s+(\d+) kB/m.exec(
      Deno.readTextFileSync("/proc/meminfo"),
    );
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux, or no permission */ }
  return 4 * 1024 * 1024 * 1024;
}
