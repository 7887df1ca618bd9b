/**
 * The run's timeline: while k6 runs, every `intervalMs` the CPU time and
 * resident memory of every process of the stack (and k6) from `/proc`, and
 * the service's queue, completions and refusals from `/metrics`, appended
 * as one JSON line per sample to `timeline.jsonl` in the run's archive — so
 * a run that dies still leaves what it saw. Read back with
 * {@linkcode loadTimeline}; the report page, the soak's leak verdict and
 * the spike's queue figures are computed from it.
 */
import { join } from "node:path";
import { z } from "zod";
import { type CpuTarget, parseProcStat } from "../proc_cpu.ts";
import { parseProcStatus } from "../proc_memory.ts";
import { parseMetricsText, serviceFigures } from "./metrics_text.ts";

/** The timeline's file in a run folder. */
export const TIMELINE_FILE = "timeline.jsonl";

const ProcessSampleSchema = z.object({
  /** utime + stime, seconds. */
  cpu_s: z.number(),
  rss_mib: z.number(),
});

const ServiceSchema = z.object({
  queued: z.number(),
  pieces_queued: z.number(),
  processing: z.number(),
  completed: z.number(),
  failed: z.number(),
  refusals: z.record(z.string(), z.number()),
  http_5xx: z.number(),
  storage_used_bytes: z.number().optional(),
  workers_busy: z.number(),
});

/** One line of `timeline.jsonl`. */
export const TimelineSampleSchema = z.object({
  /** Seconds since the sampler started. */
  t: z.number(),
  /** Per process name (`api`, `worker-1`, `redis`, `k6`, …). */
  processes: z.record(z.string(), ProcessSampleSchema),
  /** Absent when `/metrics` didn't answer in time. */
  service: ServiceSchema.optional(),
});
/** One sample of the timeline. */
export type TimelineSample = z.infer<typeof TimelineSampleSchema>;

/** Options of {@linkcode TimelineSampler}. */
export interface TimelineOptions {
  /** Where `timeline.jsonl` goes. */
  runDir: string;
  /** The service, for `/metrics`; none: processes only. */
  baseUrl?: string;
  /** The processes, asked again at every tick (restarts are followed). */
  targets: () => CpuTarget[];
  /** Ticks per second of `/proc` times (clockTicks()). */
  ticksPerSecond: number;
  /** @default 1000 */
  intervalMs?: number;
}

/**
 * Samples until {@linkcode TimelineSampler.stop}. One sample costs a few
 * `/proc` reads and one `/metrics` request (timed out after the interval).
 */
export class TimelineSampler {
  #timer: ReturnType<typeof setInterval> | undefined;
  #pending: Promise<void> = Promise.resolve();
  #file: Deno.FsFile | undefined;
  #t0 = 0;
  #count = 0;
  readonly path: string;

  constructor(private readonly o: TimelineOptions) {
    this.path = join(o.runDir, TIMELINE_FILE);
  }

  /** Opens the file, takes the first sample and starts the timer. */
  async start(): Promise<void> {
    this.#file = await Deno.open(this.path, {
      create: true,
      write: true,
      truncate: true,
    });
    this.#t0 = performance.now();
    await this.#sample();
    this.#timer = setInterval(() => {
      this.#pending = this.#pending.then(() => this.#sample());
    }, this.o.intervalMs ?? 1000);
  }

  /** Takes a last sample and closes the file; safe to call twice. */
  async stop(): Promise<number> {
    if (this.#timer === undefined) return this.#count;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pending;
    await this.#sample();
    this.#file?.close();
    this.#file = undefined;
    return this.#count;
  }

  async #sample(): Promise<void> {
    const t = (performance.now() - this.#t0) / 1000;
    const [processes, service] = await Promise.all([
      readProcesses(this.o.targets(), this.o.ticksPerSecond),
      this.o.baseUrl
        ? readService(this.o.baseUrl, this.o.intervalMs ?? 1000)
        : Promise.resolve(undefined),
    ]);
    const sample: TimelineSample = {
      t: Math.round(t * 1000) / 1000,
      processes,
      ...(service ? { service } : {}),
    };
    try {
      await this.#file?.write(
        new TextEncoder().encode(JSON.stringify(sample) + "\n"),
      );
      this.#count++;
    } catch {
      // the archive's disk is full or gone: the run itself goes on
    }
  }
}

async function readProcesses(
  targets: readonly CpuTarget[],
  ticksPerSecond: number,
): Promise<TimelineSample["processes"]> {
  const out: TimelineSample["processes"] = {};
  await Promise.all(targets.map(async (p) => {
    try {
      const [stat, status] = await Promise.all([
        Deno.readTextFile(`/proc/${p.pid}/stat`),
        Deno.readTextFile(`/proc/${p.pid}/status`),
      ]);
      out[p.name] = {
        cpu_s: parseProcStat(stat) / ticksPerSecond,
        rss_mib: parseProcStatus(status).rss_mib,
      };
    } catch {
      // exited between the listing and the read
    }
  }));
  return out;
}

async function readService(
  baseUrl: string,
  timeoutMs: number,
): Promise<TimelineSample["service"]> {
  try {
    const r = await fetch(`${baseUrl}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!r.ok) {
      await r.body?.cancel();
      return undefined;
    }
    return serviceFigures(parseMetricsText(await r.text()));
  } catch {
    return undefined;
  }
}

/**
 * The samples of a run folder's timeline, in order (none when the run has
 * none). A line that isn't a sample — the last one, cut by a crash — is
 * skipped.
 */
export async function loadTimeline(runDir: string): Promise<TimelineSample[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(runDir, TIMELINE_FILE));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const out: TimelineSample[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const parsed = TimelineSampleSchema.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // a torn last line
    }
  }
  return out;
}
