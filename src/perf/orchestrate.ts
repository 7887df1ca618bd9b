/**
 * `deno task perf`: provisions, starts the embedded stack (or targets
 * `--base-url`), runs the k6 scenario with summary export and the web
 * dashboard report, archives everything under `perf/results/<UTC time>/`, and
 * asserts the result against `baseline.json`.
 *
 * Every process started here is stopped on success, failure, Ctrl-C, and
 * when a component dies mid-run (the run then fails with that component's log).
 */
import { join, relative } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors/mod.ts";
import { PROJECT_ROOT } from "../config/mod.ts";
import { type ComponentDeath, type Stack, startStack } from "../stack/mod.ts";
import { provisionK6, setup } from "../setup/mod.ts";
import { ensureK6, k6Version } from "./k6_install.ts";
import { runAssert } from "./assert_main.ts";
import { loadSummary } from "./summary.ts";
import { SAMPLES_FILE } from "../verdict/mod.ts";

/** Where runs are archived: `PERF_RESULTS_DIR` or `perf/results`. */
export function resultsDir(): string {
  return Deno.env.get("PERF_RESULTS_DIR") ?? join(PROJECT_ROOT, "perf/results");
}
/** The scenario script. */
export const SCENARIO: string = join(
  PROJECT_ROOT,
  "perf/transcription_scenario.js",
);

const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** Validated options of a perf run (flags win over environment variables). */
export const PerfOptionsSchema = z.object({
  rate: z.coerce.number().int().positive(),
  duration: z.string().regex(
    DURATION_RE,
    "must be a k6 duration like 2m, 90s or 1m30s",
  ),
  vus: z.coerce.number().int().positive(),
  maxVus: z.coerce.number().int().positive(),
  model: z.string().min(1),
  pollInterval: z.coerce.number().positive(),
  maxPolls: z.coerce.number().int().positive(),
  workers: z.coerce.number().int().min(1).max(64),
  longPoll: z.boolean(),
  baseUrl: z.url().optional(),
  baseline: z.string().min(1),
  assert: z.boolean(),
  userId: z.string().min(1),
});
/** Options of {@linkcode runPerf}. */
export type PerfOptions = z.infer<typeof PerfOptionsSchema>;

/** Maps flag names to their environment variables and defaults. */
export const PERF_DEFAULTS = {
  rate: ["ARRIVAL_RATE", "3"],
  duration: ["DURATION", "2m"],
  vus: ["PRE_ALLOCATED_VUS", "4"],
  maxVus: ["MAX_VUS", "12"],
  model: ["WHISPER_MODEL", "tiny.en"],
  pollInterval: ["POLL_INTERVAL", "1"],
  maxPolls: ["MAX_POLLS", "40"],
  workers: ["WORKERS", "2"],
  userId: ["UPLOAD_USER_ID", "perf-tester"],
} as const;

/** k6 exit codes we act on (errext/exitcodes). */
export const K6_EXIT = {
  thresholdsFailed: 99,
  setupTimeout: 100,
  teardownTimeout: 101,
  genericTimeout: 102,
  genericEngine: 103,
  invalidConfig: 104,
  externalAbort: 105,
  cannotStartRestAPI: 106,
  scriptException: 107,
  scriptAborted: 108,
} as const;

/** The outcome of {@linkcode runPerf}. */
export interface PerfOutcome {
  /** 0 pass, 1 regression/thresholds/interrupted, 2 unusable input. */
  code: number;
  runDir: string;
  reason: string;
}

/** Seconds in a k6 duration string. */
export function durationToSeconds(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    const v = Number(m[1]);
    total += m[2] === "ms"
      ? v / 1000
      : m[2] === "s"
      ? v
      : m[2] === "m"
      ? v * 60
      : v * 3600;
  }
  return total;
}

/** `perf/results/<UTC timestamp>` for `now`, e.g. `2026-11-29T10-05-00Z`. */
export function runDirName(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/:/g, "-");
}

/** Runs one perf run end to end. */
export async function runPerf(
  o: PerfOptions,
  say: (line: string) => void = (l) => console.error(l),
): Promise<PerfOutcome> {
  const k6 = await provision(o, say);
  const runDir = join(resultsDir(), runDirName());
  await Deno.mkdir(join(runDir, "logs"), { recursive: true });
  say(`perf: archiving to ${relative(PROJECT_ROOT, runDir)}/`);
  const startedAt = new Date().toISOString();

  let stack: Stack | null = null;
  let k6Proc: Deno.ChildProcess | null = null;
  const interrupt = Promise.withResolvers<string>();
  const onSignal = () => interrupt.resolve("interrupted by a signal (Ctrl-C)");
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let outcome: PerfOutcome | null = null;
  let k6Exit: number | null = null;
  let interrupted = false;
  try {
    let baseUrl = o.baseUrl;
    if (!baseUrl) {
      const starting = startStack({
        workers: o.workers,
        model: o.model,
        logDir: join(runDir, "logs"),
        onEvent: (m) => say(`perf: ${m}`),
      }).catch((error) => {
        // A component that can't start is an unusable environment (exit 2).
        throw new ConfigError(
          `the embedded stack could not start: ${error.message ?? error}`,
          {
            cause: error,
          },
        );
      });
      const first = await Promise.race([
        starting.then((s) => ({ stack: s })),
        interrupt.promise.then((reason) => ({ reason })),
      ]);
      if ("reason" in first) {
        // Let the start finish or fail, then stop whatever it started.
        await starting.then((s) => s.stop(), () => undefined);
        interrupted = true;
        return outcome = { code: 1, runDir, reason: first.reason };
      }
      stack = first.stack;
      baseUrl = stack.baseUrl;
    }

    say(`perf: k6 ${o.rate} jobs/s for ${o.duration} against ${baseUrl}`);
    const log = await Deno.open(join(runDir, "k6.log"), {
      create: true,
      write: true,
    });
    k6Proc = new Deno.Command(k6, {
      args: [
        "run",
        "--summary-export",
        join(runDir, "summary.json"),
        // Every sample, compressed: statistics that don't depend on k6's
        // pre-aggregated summary (deno task compare).
        "--out",
        `json=${join(runDir, SAMPLES_FILE)}`,
        SCENARIO,
      ],
      env: {
        ...Deno.env.toObject(),
        BASE_URL: baseUrl,
        ARRIVAL_RATE: String(o.rate),
        DURATION: o.duration,
        PRE_ALLOCATED_VUS: String(o.vus),
        MAX_VUS: String(o.maxVus),
        WHISPER_MODEL: o.model,
        POLL_INTERVAL: String(o.pollInterval),
        MAX_POLLS: String(o.maxPolls),
        UPLOAD_USER_ID: o.userId,
        LONG_POLL: o.longPoll ? "1" : "0",
        BASELINE: o.baseline,
        K6_WEB_DASHBOARD: "true",
        K6_WEB_DASHBOARD_PORT: "-1",
        K6_WEB_DASHBOARD_EXPORT: join(runDir, "report.html"),
        K6_NO_USAGE_REPORT: "true",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pumps = [
      tee(k6Proc.stdout, log, Deno.stderr),
      tee(k6Proc.stderr, log, Deno.stderr),
    ];
    const k6Done = k6Proc.status.then((s) => ({ k6: s }));
    const died = stack
      ? stack.died.then((d) => ({ death: d }))
      : new Promise<never>(() => {});
    const first = await Promise.race([
      k6Done,
      died,
      interrupt.promise.then((r) => ({ reason: r })),
    ]);
    if (!("k6" in first)) {
      interrupted = true;
      stopK6(k6Proc);
      k6Exit = (await k6Proc.status).code;
      await Promise.allSettled(pumps);
      log.close();
      if ("death" in first) {
        return outcome = {
          code: 1,
          runDir,
          reason: describeDeath(first.death),
        };
      }
      return outcome = { code: 1, runDir, reason: first.reason };
    }
    k6Exit = first.k6.code;
    await Promise.allSettled(pumps);
    log.close();
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    if (k6Proc) {
      stopK6(k6Proc);
      await k6Proc.status.catch(() => undefined);
    }
    if (stack) {
      say("perf: stopping the stack");
      await stack.stop();
    }
    await writeMetadata(runDir, o, k6, k6Exit, interrupted, startedAt);
    if (outcome) say(`perf: run failed: ${outcome.reason}`);
  }

  const summaryPath = join(runDir, "summary.json");
  if (!(await exists(summaryPath))) {
    return {
      code: 2,
      runDir,
      reason: `k6 exited with ${k6Exit} and wrote no summary; see k6.log`,
    };
  }
  await linkLatest(runDir);
  await printKeyFigures(summaryPath, say);
  if (k6Exit === K6_EXIT.invalidConfig || k6Exit === K6_EXIT.scriptException) {
    return {
      code: 2,
      runDir,
      reason: `k6 could not run the scenario (exit ${k6Exit}); see k6.log`,
    };
  }
  if (k6Exit === K6_EXIT.externalAbort || k6Exit === K6_EXIT.scriptAborted) {
    return {
      code: 1,
      runDir,
      reason: `the k6 run was aborted (exit ${k6Exit}); see k6.log`,
    };
  }
  if (!o.assert) {
    const ok = k6Exit === 0;
    return {
      code: ok ? 0 : 1,
      runDir,
      reason: ok ? "k6 passed (assert skipped)" : `k6 exit ${k6Exit}`,
    };
  }
  const { code } = await runAssert({ summaryPath, baselinePath: o.baseline });
  if (code !== 0) {
    return { code, runDir, reason: "regression against the baseline" };
  }
  if (k6Exit === K6_EXIT.thresholdsFailed) {
    return { code: 1, runDir, reason: "k6 thresholds failed" };
  }
  if (k6Exit !== 0) {
    return { code: 1, runDir, reason: `k6 exited with ${k6Exit}` };
  }
  return { code: 0, runDir, reason: "pass" };
}

async function provision(
  o: PerfOptions,
  say: (l: string) => void,
): Promise<string> {
  if (!o.baseUrl) await setup({ models: [o.model], say, k6: false });
  await provisionK6(say);
  return await ensureK6();
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

async function tee(
  stream: ReadableStream<Uint8Array>,
  file: Deno.FsFile,
  out: { writeSync(b: Uint8Array): number },
): Promise<void> {
  for await (const chunk of stream) {
    await file.write(chunk);
    out.writeSync(chunk);
  }
}

function describeDeath(d: ComponentDeath): string {
  return `${d.component} died mid-run (code ${d.exit.code}${
    d.exit.signal ? `, ${d.exit.signal}` : ""
  }); log ${d.logPath}, last lines:\n  ${d.tail.join("\n  ")}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Points `perf/results/latest.json` (and its metadata) at this run. */
async function linkLatest(runDir: string): Promise<void> {
  const pairs: [string, string][] = [
    ["latest.json", "summary.json"],
    ["metadata.json", "metadata.json"],
  ];
  for (const [name, target] of pairs) {
    const link = join(resultsDir(), name);
    await Deno.remove(link).catch(() => undefined);
    await Deno.copyFile(join(runDir, target), link);
  }
}

async function command(
  cmd: string,
  args: string[],
): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success
      ? new TextDecoder().decode(out.stdout).trim()
      : undefined;
  } catch {
    return undefined;
  }
}

async function cpuModel(): Promise<string | undefined> {
  const text = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim();
}

async function writeMetadata(
  runDir: string,
  o: PerfOptions,
  k6: string,
  k6Exit: number | null,
  interrupted: boolean,
  startedAt: string,
): Promise<void> {
  const meta = {
    git_commit: await command("git", ["-C", PROJECT_ROOT, "rev-parse", "HEAD"]),
    git_dirty:
      (await command("git", ["-C", PROJECT_ROOT, "status", "--porcelain"]))
          ?.length
        ? true
        : false,
    cpu_model: await cpuModel(),
    cpu_count: navigator.hardwareConcurrency,
    k6_version: await k6Version(k6).catch(() => undefined),
    deno_version: Deno.version.deno,
    model: o.model,
    workers: o.baseUrl ? undefined : o.workers,
    worker_concurrency: o.baseUrl ? undefined : o.workers,
    arrival_rate_per_second: o.rate,
    duration_seconds: durationToSeconds(o.duration),
    pre_allocated_vus: o.vus,
    max_vus: o.maxVus,
    poll_interval_s: o.pollInterval,
    max_polls: o.maxPolls,
    long_poll: o.longPoll,
    base_url: o.baseUrl ?? "embedded stack",
    k6_exit_code: k6Exit ?? undefined,
    interrupted,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
  };
  await Deno.writeTextFile(
    join(runDir, "metadata.json"),
    JSON.stringify(meta, null, 2) + "\n",
  );
}

/** Prints the run's key figures as a table. */
async function printKeyFigures(
  summaryPath: string,
  say: (l: string) => void,
): Promise<void> {
  let summary;
  try {
    summary = await loadSummary(summaryPath);
  } catch {
    return;
  }
  const get = (metric: string, stat: string) =>
    summary.metrics.get(metric)?.values[stat];
  const rows: [string, number | undefined, string][] = [
    ["http_req_duration avg", get("http_req_duration", "avg"), "ms"],
    ["http_req_duration p95", get("http_req_duration", "p(95)"), "ms"],
    [
      "transcription latency avg",
      get("transcription_latency_seconds", "avg"),
      "s",
    ],
    [
      "transcription latency p95",
      get("transcription_latency_seconds", "p(95)"),
      "s",
    ],
    ["server processing p95", get("server_processing_ms", "p(95)"), "ms"],
    ["server queue wait p95", get("server_queue_wait_ms", "p(95)"), "ms"],
    ["success rate", get("transcription_success_rate", "rate"), ""],
    ["accuracy", get("transcription_accuracy", "rate"), ""],
    ["iterations", get("iterations", "count"), ""],
    ["dropped iterations", get("dropped_iterations", "count") ?? 0, ""],
  ];
  say("perf: key figures");
  for (const [name, v, unit] of rows) {
    const text = v === undefined
      ? "—"
      : `${Number.isInteger(v) ? v : v.toFixed(3)} ${unit}`;
    say(`  ${name.padEnd(28)} ${text}`);
  }
}

/** Builds {@linkcode PerfOptions} from flags and environment; ConfigError names the bad one. */
export function perfOptionsFrom(
  flags: Record<string, string | boolean | undefined>,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): PerfOptions {
  const pick = (key: keyof typeof PERF_DEFAULTS, flag: string) =>
    (flags[flag] as string | undefined) ?? env(PERF_DEFAULTS[key][0]) ??
      PERF_DEFAULTS[key][1];
  const raw = {
    rate: pick("rate", "rate"),
    duration: pick("duration", "duration"),
    vus: pick("vus", "vus"),
    maxVus: pick("maxVus", "max-vus"),
    model: pick("model", "model"),
    pollInterval: pick("pollInterval", "poll-interval"),
    maxPolls: pick("maxPolls", "max-polls"),
    workers: pick("workers", "workers"),
    userId: pick("userId", "user-id"),
    longPoll: flags["long-poll"] === true || env("LONG_POLL") === "1",
    baseUrl: (flags["base-url"] as string | undefined) ?? env("BASE_URL"),
    baseline: (flags.baseline as string | undefined) ??
      join(PROJECT_ROOT, "baseline.json"),
    assert: flags["no-assert"] !== true,
  };
  const parsed = PerfOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const names: Record<string, string> = {
      rate: "--rate / ARRIVAL_RATE",
      duration: "--duration / DURATION",
      vus: "--vus / PRE_ALLOCATED_VUS",
      maxVus: "--max-vus / MAX_VUS",
      model: "--model / WHISPER_MODEL",
      pollInterval: "--poll-interval / POLL_INTERVAL",
      maxPolls: "--max-polls / MAX_POLLS",
      workers: "--workers / WORKERS",
      baseUrl: "--base-url / BASE_URL",
    };
    const msg = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      return `${names[key] ?? key}: ${i.message} (got ${
        JSON.stringify(raw[key as keyof typeof raw])
      })`;
    }).join("; ");
    throw new ConfigError(`invalid perf options: ${msg}`);
  }
  if (parsed.data.maxVus < parsed.data.vus) {
    throw new ConfigError(
      `--max-vus (${parsed.data.maxVus}) must be >= --vus (${parsed.data.vus})`,
    );
  }
  return parsed.data;
}
