/**
 * One k6 run of the scenario against a session: environment, summary export,
 * raw samples and k6's dashboard export, output teed to the archive, Ctrl-C
 * and component deaths handled.
 */
import { join } from "node:path";
import { readMemory } from "./proc_memory.ts";
import { clockTicks } from "./proc_cpu.ts";
import { TimelineSampler } from "./timeline/sampler.ts";
import { SAMPLES_FILE } from "../verdict/mod.ts";
import { DASHBOARD_FILE } from "./report/mod.ts";
import { memoryLine, writeMetadata } from "./archive.ts";
import {
  dashboardPeriod,
  durationToSeconds,
  type PerfOptions,
} from "./run_options.ts";
import { SCENARIOS, WORKLOAD_SCRIPT } from "./scenarios.ts";
import { profileK6Env } from "./profiles/profile.ts";
import { type PerfSession } from "./session.ts";

/** One k6 run of a session. */
export interface RunRecord {
  runDir: string;
  k6Exit: number | null;
  /** Stopped early (Ctrl-C, a component died). */
  interrupted: boolean;
  /** Why it was stopped, when interrupted. */
  reason?: string;
}

/** Options of {@linkcode runK6Once}. */
export interface RunOnceOptions {
  /** 1-based index within a `--repeat` group. */
  repeat?: { index: number; of: number; group: string };
  say: (line: string) => void;
  /** Don't echo k6's output (it still goes to k6.log). */
  quiet?: boolean;
  /**
   * Export k6's web-dashboard report (`k6-dashboard.html`, linked from
   * our own `report.html`, which the orchestrator builds); off where k6's own
   * CPU use is measured (the dashboard costs it CPU). @default true
   */
  dashboard?: boolean;
  /** Called with k6's pid once it is started (CPU accounting). */
  onStart?: (pid: number) => void;
  /**
   * Sample the processes and `/metrics` into `timeline.jsonl` every
   * `timelineIntervalMs` (the report's and the soak's figures).
   * @default 1000
   */
  timelineIntervalMs?: number;
}

let ticks: Promise<number> | undefined;

/**
 * The scenario's `ARRIVAL_RATE` and `ARRIVAL_TIME_UNIT` for `rate` jobs/s:
 * k6 takes an integer count per time unit, so 12.5 jobs/s is 125 per 10 s.
 * @throws {RangeError} for a rate that is not positive or has more than
 * three decimals.
 */
export function arrivalRateEnv(
  rate: number,
): { ARRIVAL_RATE: string; ARRIVAL_TIME_UNIT: string } {
  for (let unit = 1; unit <= 1000 && rate > 0; unit *= 10) {
    const n = rate * unit;
    if (Math.abs(n - Math.round(n)) < 1e-6) {
      return {
        ARRIVAL_RATE: String(Math.round(n)),
        ARRIVAL_TIME_UNIT: `${unit}s`,
      };
    }
  }
  throw new RangeError(
    `arrival rate ${rate} must be positive with at most 3 decimals`,
  );
}

/**
 * Runs the scenario once against the session into `runDir`: summary.json,
 * samples.json.gz, k6-dashboard.html, timeline.jsonl, k6.log, metadata.json.
 */
export async function runK6Once(
  session: PerfSession,
  o: PerfOptions,
  runDir: string,
  ro: RunOnceOptions,
): Promise<RunRecord> {
  const say = ro.say;
  await Deno.mkdir(runDir, { recursive: true });
  const startedAt = new Date().toISOString();
  say(
    `perf: k6 ${o.rate} jobs/s${
      o.profile.profile === "spike"
        ? ` (×${o.profile.spikeFactor} from ${o.profile.spikeAt} for ${o.profile.spikeHold})`
        : ""
    } for ${o.duration} against ${session.baseUrl}${
      o.api === "native" ? "" : ` (--api ${o.api})`
    }${o.workloadBuilt ? ` (workload ${o.workloadBuilt.id})` : ""}${
      ro.repeat ? ` (run ${ro.repeat.index}/${ro.repeat.of})` : ""
    }`,
  );
  const log = await Deno.open(join(runDir, "k6.log"), {
    create: true,
    write: true,
  });
  let k6Exit: number | null = null;
  let interrupted = false;
  let reason: string | undefined;
  const k6Proc = new Deno.Command(session.k6, {
    args: [
      "run",
      // No REST API: its fixed port (6565) collides with any other k6 running
      // on the machine, and nothing here uses it.
      "--address",
      "",
      "--summary-export",
      join(runDir, "summary.json"),
      // Every sample, compressed: statistics that don't depend on k6's
      // pre-aggregated summary (deno task compare).
      "--out",
      `json=${join(runDir, SAMPLES_FILE)}`,
      o.workloadBuilt ? WORKLOAD_SCRIPT : SCENARIOS[o.api].script,
    ],
    env: {
      ...Deno.env.toObject(),
      BASE_URL: session.baseUrl,
      ...arrivalRateEnv(o.rate),
      DURATION: o.duration,
      PRE_ALLOCATED_VUS: String(o.vus),
      MAX_VUS: String(o.maxVus),
      WHISPER_MODEL: o.model,
      POLL_INTERVAL: String(o.pollInterval),
      MAX_POLLS: String(o.maxPolls),
      UPLOAD_USER_ID: o.userId,
      LONG_POLL: o.longPoll ? "1" : "0",
      BASELINE: o.baseline,
      ...profileK6Env(o.profile),
      ...(o.workloadBuilt ? { WORKLOAD: o.workloadBuilt.manifest } : {}),
      ...(ro.dashboard === false ? { K6_WEB_DASHBOARD: "false" } : {
        K6_WEB_DASHBOARD: "true",
        K6_WEB_DASHBOARD_PORT: "-1",
        K6_WEB_DASHBOARD_PERIOD: dashboardPeriod(
          durationToSeconds(o.duration),
        ),
        K6_WEB_DASHBOARD_EXPORT: join(runDir, DASHBOARD_FILE),
      }),
      K6_NO_USAGE_REPORT: "true",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timeline = new TimelineSampler({
    runDir,
    baseUrl: session.baseUrl,
    targets: () => [
      ...(session.stack?.processes() ?? []).map((p) => ({
        name: p.name,
        pid: p.pid,
      })),
      { name: "k6", pid: k6Proc.pid },
    ],
    ticksPerSecond: await (ticks ??= clockTicks()),
    intervalMs: ro.timelineIntervalMs ?? 1000,
  });
  try {
    ro.onStart?.(k6Proc.pid);
    await timeline.start();
    const echo = ro.quiet
      ? { writeSync: (b: Uint8Array) => b.length }
      : Deno.stderr;
    const pumps = [
      tee(k6Proc.stdout, log, echo),
      tee(k6Proc.stderr, log, withoutThresholdError(echo)),
    ];
    const first = await Promise.race([
      k6Proc.status.then((s) => ({ k6: s })),
      session.stopped.then((r) => ({ reason: r })),
    ]);
    if (!("k6" in first)) {
      interrupted = true;
      reason = first.reason;
      stopK6(k6Proc);
    }
    k6Exit = (await k6Proc.status).code;
    await Promise.allSettled(pumps);
  } finally {
    stopK6(k6Proc);
    await k6Proc.status.catch(() => undefined);
    await timeline.stop();
    try {
      log.close();
    } catch { /* closed */ }
    const memory = session.stack
      ? await readMemory(
        session.stack.processes().map((p) => ({ name: p.name, pid: p.pid })),
      )
      : undefined;
    if (memory && Object.keys(memory).length) say(memoryLine(memory));
    await writeMetadata(runDir, o, session.k6, k6Exit, interrupted, startedAt, {
      repeat: ro.repeat,
      memory,
    });
  }
  return { runDir, k6Exit, interrupted, reason };
}

function stopK6(p: Deno.ChildProcess): void {
  try {
    p.kill("SIGINT"); // k6 stops its scenario and still writes its summary
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      p.kill("SIGKILL");
    } catch { /* gone */ }
  }, 10_000);
  p.status.finally(() => clearTimeout(t));
}

/**
 * `out` without k6's "thresholds on metrics … have been crossed" error line
 * (kept in k6.log): on a point value k6 can't know what the interval-aware
 * verdict that follows decides, and printing an error before a PASS reads
 * as a contradiction. One plain line says where the verdict is instead.
 */
export function withoutThresholdError(
  out: { writeSync(b: Uint8Array): number },
): { writeSync(b: Uint8Array): number; flush(): void } {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let partial = "";
  return {
    writeSync(b: Uint8Array): number {
      partial += decoder.decode(b, { stream: true });
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        const text = /thresholds on metrics .* have been crossed/.test(line)
          ? "k6: some thresholds' point values were crossed (exit 99); the assert below judges them against the baseline\n"
          : `${line}\n`;
        out.writeSync(encoder.encode(text));
      }
      return b.length;
    },
    flush(): void {
      if (partial) out.writeSync(encoder.encode(partial));
      partial = "";
    },
  };
}

async function tee(
  stream: ReadableStream<Uint8Array>,
  file: Deno.FsFile,
  out: { writeSync(b: Uint8Array): number; flush?(): void },
): Promise<void> {
  for await (const chunk of stream) {
    await file.write(chunk);
    out.writeSync(chunk);
  }
  out.flush?.();
}
