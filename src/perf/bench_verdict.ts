/**
 * `deno task bench:verdict [--pairs 20] [--duration 30s] [--rate 4]
 * [--slowdown 0.2] [--workers N] [--from DIR]`: measures the verdict itself.
 *
 * Runs A (pairs + 1 runs of this build, long polling so latency reflects
 * processing) and B (pairs runs with an extra worker processing delay of
 * slowdown × A1's median end-to-end latency, `FAULT_INJECTION=test-only`) on
 * two stacks, interleaved A1 B1 A2 B2 … A(pairs+1), each stack warmed up first.
 * Consecutive A runs give the A-vs-A pairs (false alarms), A_i vs B_i the
 * A-vs-slowed pairs (detections), each judged like `deno task compare`.
 * Prints exactly one line on stdout:
 * `verdict: false_alarm_rate=<x> detection_rate=<y> runs=<n>`.
 * Exit 0 when false alarms ≤ 5 % and detection ≥ 95 %, 1 otherwise, 2
 * unusable input (e.g. a service that ignores the fault switch).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { runCli } from "../cli/mod.ts";
import { ConfigError, ExitCode } from "../errors/mod.ts";
import {
  loadArchive,
  readK6Samples,
  type RunSamples,
  SAMPLES_FILE,
  statistic,
  verdictRates,
} from "../verdict/mod.ts";
import { RUN_FLAGS } from "./calibrate_main.ts";
import {
  freshState,
  openSession,
  type PerfOptions,
  perfOptionsFrom,
  type PerfSession,
  provision,
  resultsDir,
  runDirName,
  runK6Once,
  shownPath,
  warmUp,
} from "./orchestrate.ts";

/** Targets of the verdict's quality. */
export const TARGETS = { falseAlarmRate: 0.05, detectionRate: 0.95 } as const;

const LATENCY = "transcription_latency_seconds";

/** The pooled median end-to-end latency of runs, seconds. */
export function medianLatency(runs: readonly RunSamples[]): number {
  return statistic(runs.flatMap((r) => r.get(LATENCY) ?? []), "median");
}

/**
 * How much slower B's fastest job is than A's, ms: server processing when
 * recorded (it includes the injected delay), else end-to-end latency.
 */
export function minimumGainMs(a: RunSamples, b: RunSamples): number {
  const min = (r: RunSamples, k: string) => {
    const v = r.get(k) ?? [];
    return v.length ? Math.min(...v) : NaN;
  };
  const proc = min(b, "server_processing_ms") - min(a, "server_processing_ms");
  if (Number.isFinite(proc)) return proc;
  return (min(b, LATENCY) - min(a, LATENCY)) * 1000;
}

/** The one result line. */
export function verdictLine(
  falseAlarmRate: number,
  detectionRate: number,
  runs: number,
): string {
  return `verdict: false_alarm_rate=${
    falseAlarmRate.toFixed(3)
  } detection_rate=${detectionRate.toFixed(3)} runs=${runs}`;
}

/** Judges A/ and B/ of a bench folder; prints the line; returns the exit code. */
export async function judgeBench(
  dir: string,
  say: (line: string) => void = (l) => console.error(l),
): Promise<number> {
  const a = await loadArchive(join(dir, "A"));
  const b = await loadArchive(join(dir, "B"));
  const r = verdictRates(a.runs, b.runs);
  for (const [key, t] of r.byKey) {
    say(
      `bench:verdict: ${key}: ${t.falseAlarms}/${r.aaPairs} false alarms, ${t.detections}/${r.abPairs} detections`,
    );
  }
  const report = {
    a_runs: a.runs.length,
    b_runs: b.runs.length,
    a_median_latency_s: medianLatency(a.runs),
    b_median_latency_s: medianLatency(b.runs),
    false_alarm_rate: r.falseAlarmRate,
    detection_rate: r.detectionRate,
    a_vs_a_pairs: r.aaPairs,
    a_vs_b_pairs: r.abPairs,
    by_key: Object.fromEntries(r.byKey),
  };
  await Deno.writeTextFile(
    join(dir, "bench_verdict.json"),
    JSON.stringify(report, null, 2) + "\n",
  );
  say(
    `bench:verdict: median latency A ${
      report.a_median_latency_s.toFixed(3)
    } s, B ${report.b_median_latency_s.toFixed(3)} s (×${
      (report.b_median_latency_s / report.a_median_latency_s).toFixed(3)
    })`,
  );
  console.log(
    verdictLine(
      r.falseAlarmRate,
      r.detectionRate,
      a.runs.length + b.runs.length,
    ),
  );
  return r.falseAlarmRate <= TARGETS.falseAlarmRate &&
      r.detectionRate >= TARGETS.detectionRate
    ? ExitCode.ok
    : ExitCode.failed;
}

/**
 * Runs A1, then (B_i, A_i+1) for i = 1..pairs on two stacks that stay up
 * side by side — A as built, B with the extra processing delay derived from
 * A1's median latency — so each A_i/B_i pair and each A_i/A_i+1 pair is
 * measured minutes apart at most, and a machine whose load drifts over the
 * benchmark affects both sides alike. Archives `<dir>/A/run-1..pairs+1` and
 * `<dir>/B/run-1..pairs`.
 */
export async function runInterleaved(
  o: PerfOptions,
  opts: {
    dir: string;
    pairs: number;
    slowdown: number;
    k6: string;
    say: (line: string) => void;
  },
): Promise<void> {
  const { dir, pairs, slowdown, k6, say } = opts;
  const sessions: PerfSession[] = [];
  const open = async (options: PerfOptions, side: string) => {
    await Deno.mkdir(join(dir, side, "logs"), { recursive: true });
    const s = await openSession(options, {
      logDir: join(dir, side, "logs"),
      k6,
      say,
    });
    if ("interrupted" in s) throw new Error(`stopped: ${s.interrupted}`);
    sessions.push(s);
    const warm = await warmUp(s, options, join(dir, side), say);
    if (warm?.interrupted) throw new Error(`stopped: ${warm.reason}`);
    return {
      session: s,
      options,
      side,
      warm: Boolean(warm),
      runs: 0,
      of: side === "A" ? pairs + 1 : pairs,
    };
  };
  type Side = Awaited<ReturnType<typeof open>>;
  const run = async (x: Side) => {
    if (x.runs > 0 || x.warm) await freshState(x.session, say);
    x.runs++;
    const rec = await runK6Once(
      x.session,
      x.options,
      join(dir, x.side, `run-${x.runs}`),
      { repeat: { index: x.runs, of: x.of, group: join(dir, x.side) }, say },
    );
    if (rec.interrupted) throw new Error(`stopped: ${rec.reason}`);
    if (rec.k6Exit !== 0 && rec.k6Exit !== 99) {
      throw new Error(`k6 exited with ${rec.k6Exit} in ${rec.runDir}`);
    }
    return rec;
  };
  try {
    const a = await open(o, "A");
    const a1 = await run(a);
    const median = medianLatency([
      await readK6Samples(join(a1.runDir, SAMPLES_FILE)),
    ]);
    const delayMs = Math.max(1, Math.round(median * slowdown * 1000));
    say(
      `bench:verdict: A1 median latency ${
        median.toFixed(3)
      } s; B injects ${delayMs} ms of processing delay (+${
        Math.round(slowdown * 100)
      } %)`,
    );
    const b = await open({ ...o, faultProcessingDelayMs: delayMs }, "B");
    for (let i = 1; i <= pairs; i++) {
      const rec = await run(b);
      if (i === 1) {
        // Minimums move little with machine load, medians a lot: B's fastest
        // job must be slower than A's fastest by a good part of the delay.
        const a1s = await readK6Samples(join(a1.runDir, SAMPLES_FILE));
        const b1s = await readK6Samples(join(rec.runDir, SAMPLES_FILE));
        const gain = minimumGainMs(a1s, b1s);
        if (gain < delayMs / 2) {
          throw new ConfigError(
            `the slowed build is not slower (its fastest job gained ${
              gain.toFixed(0)
            } ms, expected about ${delayMs}): the service ignores FAULT_INJECTION=test-only / FAULT_PROCESSING_DELAY_MS=${delayMs}`,
          );
        }
      }
      await run(a);
    }
  } finally {
    for (const s of sessions.reverse()) await s.close();
  }
}

if (import.meta.main) {
  await runCli("bench:verdict", async () => {
    let parsed;
    try {
      parsed = parseArgs({
        args: Deno.args,
        options: {
          ...RUN_FLAGS,
          pairs: { type: "string", default: "20" },
          slowdown: { type: "string", default: "0.2" },
          from: { type: "string" },
        },
      });
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    const v = parsed.values;
    if (v.from) return await judgeBench(v.from);
    const pairs = Number(v.pairs);
    const slowdown = Number(v.slowdown);
    if (!Number.isInteger(pairs) || pairs < 1) {
      throw new ConfigError(
        `--pairs must be a positive integer, got ${v.pairs}`,
      );
    }
    if (!(slowdown > 0 && slowdown <= 5)) {
      throw new ConfigError(`--slowdown must be in (0, 5], got ${v.slowdown}`);
    }
    const o = perfOptionsFrom({
      ...v,
      // ≤ 30 s per run; 4 jobs/s gives ~120 latencies per run, enough for a
      // median interval of about ±5 % (41 runs ≈ 24 min).
      duration: v.duration ?? "30s",
      rate: v.rate ?? "4",
      warmup: v.warmup ?? "10s",
      "long-poll": true,
      "no-assert": true,
    });
    const say = (l: string) => console.error(l);
    const k6 = await provision(o, say);
    const dir = join(resultsDir(), `${runDirName()}-bench-verdict`);
    const started = Date.now();
    await runInterleaved(o, { dir, pairs, slowdown, k6, say });
    say(
      `bench:verdict: ${2 * pairs + 1} runs in ${
        ((Date.now() - started) / 60000).toFixed(1)
      } min, archived in ${shownPath(dir)}/`,
    );
    return await judgeBench(dir);
  });
}
