/**
 * CPU accounting from Linux's `/proc`: the CPU time of given processes
 * (`/proc/<pid>/stat` utime + stime, every thread included) and of the whole
 * machine (`/proc/stat`), sampled over a window and turned into cores used.
 */

/** CPU ticks of the whole machine, from the `cpu` line of `/proc/stat`. */
export interface MachineTicks {
  /** Every state but idle and iowait. */
  busy: number;
  /** Every state. */
  total: number;
}

/** A process to account for, under a component name. */
export interface CpuTarget {
  /** e.g. `api`, `worker-1`, `redis`, `k6`. */
  name: string;
  pid: number;
}

/** One sample: what every target and the machine had used at `atMs`. */
export interface CpuReading {
  /** Monotonic time of the sample, ms. */
  atMs: number;
  /** utime + stime in ticks, per target still alive. */
  processes: (CpuTarget & { ticks: number })[];
  machine: MachineTicks;
}

/** CPU used over a window, in cores (1 = one core busy all the time). */
export interface CpuUsage {
  /** The window, seconds. */
  seconds: number;
  /** Cores used per component name (processes of one name summed). */
  components: Record<string, number>;
  /** Cores the whole machine used (every process, ours or not). */
  machine: number;
  /** The machine's logical CPUs. */
  cpus: number;
}

/**
 * utime + stime (ticks) from the text of `/proc/<pid>/stat`.
 * @throws {Error} when the text is not a stat line.
 */
export function parseProcStat(text: string): number {
  // The command name (field 2) is in parentheses and may hold spaces or
  // parentheses itself: fields are counted after the last ")".
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${text}`);
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`not a /proc/<pid>/stat line: ${text}`);
  }
  return utime + stime;
}

/**
 * Busy and total ticks from the text of `/proc/stat`.
 * @throws {Error} when it has no aggregate `cpu` line.
 */
export function parseMachineStat(text: string): MachineTicks {
  const line = /^cpu\s+(.+)$/m.exec(text)?.[1];
  if (!line) throw new Error("/proc/stat has no aggregate cpu line");
  // user nice system idle iowait irq softirq steal (guest time is already
  // counted in user and nice, so it is left out of the total).
  const v = line.trim().split(/\s+/).slice(0, 8).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) {
    throw new Error(`/proc/stat: unreadable cpu line: ${line}`);
  }
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Ticks per second of the times in `/proc` (`getconf CLK_TCK`, else 100). */
export async function clockTicks(): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", {
      args: ["CLK_TCK"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    if (out.success && Number.isInteger(n) && n > 0) return n;
  } catch {
    // no getconf: Linux's USER_HZ is 100 on every common architecture
  }
  return 100;
}

/** Reads one sample of `targets` (processes that are gone are left out). */
export async function readCpu(
  targets: readonly CpuTarget[],
): Promise<CpuReading> {
  const atMs = performance.now();
  const processes: CpuReading["processes"] = [];
  await Promise.all(targets.map(async (t) => {
    try {
      const text = await Deno.readTextFile(`/proc/${t.pid}/stat`);
      processes.push({ ...t, ticks: parseProcStat(text) });
    } catch {
      // exited: its last sample stands
    }
  }));
  const machine = parseMachineStat(await Deno.readTextFile("/proc/stat"));
  return { atMs, processes, machine };
}

/**
 * Cores used between the first and the last of `readings`. A process first
 * seen after the first reading started inside the window, so it counts from
 * zero; a process that exited counts up to its last reading.
 * @param ticksPerSecond see {@linkcode clockTicks}
 */
export function cpuUsage(
  readings: readonly CpuReading[],
  ticksPerSecond: number,
  cpus: number = navigator.hardwareConcurrency,
): CpuUsage {
  const first = readings[0];
  const last = readings.at(-1);
  if (!first || !last || last.atMs <= first.atMs) {
    return { seconds: 0, components: {}, machine: 0, cpus };
  }
  const seconds = (last.atMs - first.atMs) / 1000;
  const base = new Map<string, number>();
  for (const p of first.processes) base.set(`${p.name}:${p.pid}`, p.ticks);
  const latest = new Map<string, { name: string; ticks: number }>();
  for (const r of readings) {
    for (const p of r.processes) {
      latest.set(`${p.name}:${p.pid}`, { name: p.name, ticks: p.ticks });
    }
  }
  const components: Record<string, number> = {};
  for (const [key, { name, ticks }] of latest) {
    const used = ticks - (base.get(key) ?? 0);
    components[name] = (components[name] ?? 0) +
      used / ticksPerSecond / seconds;
  }
  const busy = last.machine.busy - first.machine.busy;
  const total = last.machine.total - first.machine.total;
  return {
    seconds,
    components,
    machine: total > 0 ? (busy / total) * cpus : 0,
    cpus,
  };
}

/**
 * Samples `targets()` (asked again at every tick, so restarted or newly
 * started processes are followed) every `intervalMs` until `stop()`, which
 * takes a last sample and returns the usage over the whole window.
 */
export class CpuSampler {
  #readings: CpuReading[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly targets: () => CpuTarget[],
    private readonly ticksPerSecond: number,
    private readonly intervalMs = 500,
  ) {}

  /** Takes the first sample and starts the timer. */
  async start(): Promise<void> {
    await this.#sample();
    this.#timer = setInterval(() => {
      this.#pending = this.#pending.then(() => this.#sample());
    }, this.intervalMs);
  }

  /** Stops sampling; the usage from `start()` to now. Safe to call twice. */
  async stop(): Promise<CpuUsage> {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      await this.#pending;
      await this.#sample();
    }
    return cpuUsage(this.#readings, this.ticksPerSecond);
  }

  async #sample(): Promise<void> {
    try {
      this.#readings.push(await readCpu(this.targets()));
    } catch {
      // /proc unreadable for a moment: the next sample covers it
    }
  }
}
