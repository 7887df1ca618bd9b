/**
 * `deno task bench:verdict [--comparisons 20] [--group 5] [--duration 15s]
 * [--rate 4] [--slowdown 0.2] [--workers N] [--reuse-stacks] [--from DIR]`:
 * measures the verdict itself.
 *
 * Runs A (comparisons + 2·group − 1 runs of this build, long polling so
 * latency reflects processing) and B (comparisons + group − 1 runs with an
 * extra worker processing delay of slowdown × the median end-to-end latency
 * of the last three A runs before it, `FAULT_INJECTION=test-only`),
 * interleaved A1 B1 A2 B2 …, each run on a stack of its own, warmed up first
 * (`--reuse-stacks`: one stack a side, B's delay from A1). Windows of `group`
 * runs a side are judged like `deno task compare --paired` judges alternated
 * runs: `2·group` consecutive A runs, odd against even (false alarms), and
 * `group` A runs against the `group` B runs measured right after each
 * (detections); the unpaired rates (as plain `compare`) go to stderr and
 * `bench_verdict.json` for reference. Prints exactly one line on stdout:
 * `verdict: false_alarm_rate=<x> detection_rate=<y> runs=<n>`.
 * Exit 0 when false alarms ≤ 5 % and detection ≥ 95 %, 1 otherwise, 2
 * unusable input (e.g. a service that ignores the fault switch).
 */
import { join } from "node:path";
import { parseFlags } from "../../cli/mod.ts";
import { ConfigError, ExitCode } from "../../errors/mod.ts";
import {
  aRunsFor,
  bRunsFor,
  loadArchive,
  readK6Samples,
  type RunSamples,
  SAMPLES_FILE,
  statistic,
  verdictRates,
} from "../../verdict/mod.ts";
import { runK6Once } from "../k6_run.ts";
import {
  type PerfOptions,
  perfOptionsFrom,
  resultsDir,
  RUN_FLAGS,
  runDirName,
  shownPath,
} from "../run_options.ts";
import {
  freshState,
  openWarmSession,
  type PerfSession,
  provision,
} from "../session.ts";

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

/**
 * Default runs (pairs) per side of each comparison, as `perf:ab` measures:
 * with five pairs the ratio's sd is about 3.5 % on this machine, which puts
 * the paired tolerance 1.05 three sds above identical builds and 3.6 below
 * a 20 % slowdown (perf/README.md, "Measuring the verdict").
 */
export const DEFAULT_GROUP = 5;

/** A runs whose median latency sets the next B run's delay. */
const RECENT_A_RUNS = 3;

/**
 * Judges A/ and B/ of a bench folder in windows of `group` runs a side, as
 * `compare --paired` judges alternated runs (the verdict: the one line and
 * the exit code) and, for reference, as plain `compare` judges runs measured
 * minutes apart (a stderr line); writes `bench_verdict.json`; returns the
 * exit code.
 */
export async function judgeBench(
  dir: string,
  group = DEFAULT_GROUP,
  say: (line: string) => void = (l) => console.error(l),
): Promise<number> {
  const a = await loadArchive(join(dir, "A"));
  const b = await loadArchive(join(dir, "B"));
  if (a.runs.length < 2 * group || b.runs.length < group) {
    throw new ConfigError(
      `${dir}: ${a.runs.length} A and ${b.runs.length} B runs are too few for comparisons of ${group} runs a side (need ≥ ${
        2 * group
      } A and ≥ ${group} B)`,
    );
  }
  // Judges the windows one way and reports the rates on stderr.
  const judgeAs = (method: "paired" | "unpaired") => {
    const r = verdictRates(a.runs, b.runs, {
      group,
      paired: method === "paired",
    });
    say(
      `bench:verdict: ${method}: ${r.aaPairs} A-vs-A and ${r.abPairs} A-vs-B comparisons of ${group} run(s) a side: false_alarm_rate=${
        r.falseAlarmRate.toFixed(3)
      } detection_rate=${r.detectionRate.toFixed(3)}`,
    );
    for (const [key, t] of r.byKey) {
      say(
        `bench:verdict: ${method}: ${key}: ${t.falseAlarms}/${r.aaPairs} false alarms, ${t.detections}/${r.abPairs} detections`,
      );
    }
    return r;
  };
  const unpaired = judgeAs("unpaired");
  const r = judgeAs("paired");
  const report = {
    a_runs: a.runs.length,
    b_runs: b.runs.length,
    a_median_latency_s: medianLatency(a.runs),
    b_median_latency_s: medianLatency(b.runs),
    method: "paired",
    false_alarm_rate: r.falseAlarmRate,
    detection_rate: r.detectionRate,
    runs_per_side: group,
    a_vs_a_comparisons: r.aaPairs,
    a_vs_b_comparisons: r.abPairs,
    by_key: Object.fromEntries(r.byKey),
    unpaired: {
      false_alarm_rate: unpaired.falseAlarmRate,
      detection_rate: unpaired.detectionRate,
      by_key: Object.fromEntries(unpaired.byKey),
    },
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
 * Runs A1, then B_i and A_(i+1) alternately — A as built, B with the extra
 * processing delay derived from A1's median latency — until `aRuns` A and
 * `bRuns` B runs are done, so the runs compared with each other are measured
 * minutes apart at most, and a machine whose load drifts over the benchmark
 * affects both sides alike. With `freshStacks` every run gets a stack of its
 * own (started, warmed up, stopped after the run), as two separate
 * `deno task perf` invocations would: worker processes differ in speed by a
 * few percent for their whole life, and a comparison across builds always
 * spans two process starts. Without it each side keeps one stack. Archives
 * `<dir>/A/run-1..aRuns` and `<dir>/B/run-1..bRuns` (stack logs and warm-ups
 * under `<dir>/<side>/logs/`).
 */
export async function runInterleaved(
  o: PerfOptions,
  opts: {
    dir: string;
    aRuns: number;
    bRuns: number;
    slowdown: number;
    k6: string;
    freshStacks: boolean;
    say: (line: string) => void;
  },
): Promise<void> {
  const { dir, aRuns, bRuns, slowdown, k6, freshStacks, say } = opts;
  const sessions = new Set<PerfSession>();
  const start = async (options: PerfOptions, side: string, label: string) => {
    const logDir = join(dir, side, "logs", label);
    let session: PerfSession | undefined;
    const opened = await openWarmSession(options, {
      logDir,
      warmupDir: logDir,
      k6,
      say,
      onSession: (s) => sessions.add(session = s),
    });
    if ("reason" in opened) throw new Error(`stopped: ${opened.reason}`);
    return { session: session!, warm: opened.warm };
  };
  const open = async (options: PerfOptions, side: string) => ({
    ...await start(options, side, freshStacks ? "stack-1" : "stack"),
    options,
    side,
    runs: 0,
    of: side === "A" ? aRuns : bRuns,
  });
  type Side = Awaited<ReturnType<typeof open>>;
  const run = async (x: Side) => {
    if (x.runs > 0 && freshStacks) {
      await x.session.close();
      sessions.delete(x.session);
      Object.assign(x, await start(x.options, x.side, `stack-${x.runs + 1}`));
    }
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
  // Each A run's median end-to-end latency, s, in order.
  const aMedians: number[] = [];
  // Returns the run's samples.
  const runA = async (a: Side) => {
    const rec = await run(a);
    const samples = await readK6Samples(join(rec.runDir, SAMPLES_FILE));
    aMedians.push(medianLatency([samples]));
    return samples;
  };
  // B's delay: the slowdown of the latest A runs' latency, so a machine that
  // drifts slower or faster over the benchmark still gets a B that is
  // `slowdown` slower than A at that time (fresh stacks; with one B stack
  // it is fixed at A1's).
  const delayFor = () => {
    const recent = aMedians.slice(-RECENT_A_RUNS);
    const median = statistic([...recent], "median");
    const delayMs = Math.max(1, Math.round(median * slowdown * 1000));
    say(
      `bench:verdict: median latency of A run(s) ${
        aMedians.length - recent.length + 1
      }..${aMedians.length}: ${
        median.toFixed(3)
      } s; the next B injects ${delayMs} ms (+${Math.round(slowdown * 100)} %)`,
    );
    return delayMs;
  };
  try {
    const a = await open(o, "A");
    const a1s = await runA(a);
    const delayMs = delayFor();
    const b = await open({ ...o, faultProcessingDelayMs: delayMs }, "B");
    for (let i = 1; i <= Math.max(aRuns - 1, bRuns); i++) {
      if (i > bRuns) {
        await runA(a);
        continue;
      }
      if (i > 1 && freshStacks) {
        b.options = { ...b.options, faultProcessingDelayMs: delayFor() };
      }
      const rec = await run(b);
      if (i === 1) {
        // Minimums move little with machine load, medians a lot: B's fastest
        // job must be slower than A's fastest by a good part of the delay.
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
      if (i + 1 <= aRuns) await runA(a);
    }
  } finally {
    for (const s of [...sessions].reverse()) await s.close();
  }
}

/**
 * `deno task bench:verdict …`: measures the verdict's false alarms and detections. Returns the exit code.
 */
export async function benchVerdictCommand(
  args: readonly string[],
): Promise<number> {
  const parsed = parseFlags({
    args: [...args],
    options: {
      ...RUN_FLAGS,
      comparisons: { type: "string", default: "20" },
      group: { type: "string", default: String(DEFAULT_GROUP) },
      "reuse-stacks": { type: "boolean", default: false },
      slowdown: { type: "string", default: "0.2" },
      from: { type: "string" },
    },
  });
  const v = parsed.values;
  const group = Number(v.group);
  if (!Number.isInteger(group) || group < 1) {
    throw new ConfigError(
      `--group must be a positive integer, got ${v.group}`,
    );
  }
  if (v.from) return await judgeBench(v.from, group);
  const comparisons = Number(v.comparisons);
  const slowdown = Number(v.slowdown);
  if (!Number.isInteger(comparisons) || comparisons < 1) {
    throw new ConfigError(
      `--comparisons must be a positive integer, got ${v.comparisons}`,
    );
  }
  if (!(slowdown > 0 && slowdown <= 5)) {
    throw new ConfigError(`--slowdown must be in (0, 5], got ${v.slowdown}`);
  }
  const o = perfOptionsFrom({
    ...v,
    // ≤ 30 s per run; 4 jobs/s gives ~60 latencies per run; 5 runs a side
    // carry the run-to-run noise, which is mostly each stack's lasting
    // offset, so more stacks help more than longer runs. Each run on a
    // fresh stack: ~24 s a run with start, warm-up and stop (53 runs ≈ 21
    // min).
    duration: v.duration ?? "15s",
    rate: v.rate ?? "4",
    warmup: v.warmup ?? "5s",
    "long-poll": true,
    "no-assert": true,
  });
  const say = (l: string) => console.error(l);
  const k6 = await provision(o, say);
  const dir = join(resultsDir(), `${runDirName()}-bench-verdict`);
  const started = Date.now();
  const aRuns = aRunsFor(comparisons, group);
  const bRuns = bRunsFor(comparisons, group);
  await runInterleaved(o, {
    dir,
    aRuns,
    bRuns,
    slowdown,
    k6,
    freshStacks: !v["reuse-stacks"],
    say,
  });
  say(
    `bench:verdict: ${aRuns + bRuns} runs in ${
      ((Date.now() - started) / 60000).toFixed(1)
    } min, archived in ${shownPath(dir)}/`,
  );
  return await judgeBench(dir, group);
}
