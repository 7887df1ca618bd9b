/**
 * `deno task perf:ab <other checkout> [--pairs 5] [--duration 15s] [--rate 4]
 * [--warmup 5s] [--workers N] [--model NAME] [--out DIR] [--markdown FILE]
 * [--html FILE]`: measures two builds alternately and judges them pair by
 * pair. A is the other checkout (e.g. the main branch, set up with
 * `deno task setup`), B this one. For each pair it runs `deno task perf` in
 * A's checkout, then in B's (`--long-poll --no-assert`, each run on a stack of
 * its own), archived under `<out>/A/<run>` and `<out>/B/<run>`; then it
 * judges them as `deno task compare --paired <out>/A <out>/B` does. Exit 0 no
 * regression, 1 regression or a run that failed or was interrupted, 2
 * unusable input.
 */
import { join, resolve } from "node:path";
import { parseFlags } from "../../cli/mod.ts";
import { PROJECT_ROOT } from "../../config/mod.ts";
import { ConfigError, ExitCode } from "../../errors/mod.ts";
import {
  compareSamples,
  loadArchive,
  SAMPLES_FILE,
} from "../../verdict/mod.ts";
import { publish, warnUnpaired } from "./compare_command.ts";
import { K6_EXIT, resultsDir, runDirName, shownPath } from "../run_options.ts";
import { loadRunMetadata } from "../run_metadata.ts";
import { DEFAULT_GROUP } from "./bench_verdict.ts";

const USAGE =
  "usage: deno task perf:ab <other checkout> [--pairs 5] [--duration 15s] [--rate 4] [--warmup 5s] [--workers N] [--model NAME] [--out DIR] [--markdown FILE] [--html FILE]";

/**
 * The script a checkout's `deno task perf` runs (read from its deno.json, so
 * a checkout from before or after the entry points moved works alike), or
 * null when it has none.
 */
export async function perfEntry(checkout: string): Promise<string | null> {
  const raw = await Deno.readTextFile(join(checkout, "deno.json")).catch(
    () => null,
  );
  let task: unknown;
  try {
    task = raw === null ? undefined : JSON.parse(raw)?.tasks?.perf;
  } catch {
    return null;
  }
  const m = typeof task === "string"
    ? /\bdeno run\b.*?\s(src\/\S+\.ts)\b/.exec(task)
    : null;
  if (!m) return null;
  const found = await Deno.stat(join(checkout, m[1]!)).then(
    (st) => st.isFile,
    () => false,
  );
  return found ? m[1]! : null;
}

/** Pairs by default: the window `bench:verdict` measures. */
export const DEFAULT_PAIRS = DEFAULT_GROUP;

/**
 * The `deno task perf` arguments of every run of an A/B measurement: long
 * polling (latency reflects processing), no assert (the verdict is the
 * paired comparison), the given scenario flags.
 */
export function perfArgs(flags: {
  duration: string;
  rate: string;
  warmup: string;
  workers?: string;
  model?: string;
}): string[] {
  return [
    "--long-poll",
    "--no-assert",
    "--duration",
    flags.duration,
    "--rate",
    flags.rate,
    "--warmup",
    flags.warmup,
    ...(flags.workers ? ["--workers", flags.workers] : []),
    ...(flags.model ? ["--model", flags.model] : []),
  ];
}

/** @throws {ConfigError} when `dir` is not a checkout of this project. */
export async function checkCheckout(dir: string): Promise<string> {
  const path = resolve(dir);
  if (await perfEntry(path) === null) {
    throw new ConfigError(
      `${dir}: not a checkout of this project (no deno.json with a perf task whose script exists); ${USAGE}`,
    );
  }
  return path;
}

/** The outcome of one run of {@linkcode perfOnce}. */
interface RunOutcome {
  code: number;
  /** The run folder it archived (undefined when it archived none). */
  runDir?: string;
  /** A signal reached this process during the run. */
  signalled: boolean;
}

/**
 * Runs `deno task perf` once in `checkout`, archiving into `into`; its
 * output goes to `log`. A signal to this process is passed on, and the run
 * is awaited until its stack is down.
 */
async function perfOnce(
  checkout: string,
  into: string,
  args: string[],
  log: string,
): Promise<RunOutcome> {
  const entry = await perfEntry(checkout);
  if (entry === null) throw new ConfigError(`${checkout}: no perf task`);
  await Deno.mkdir(into, { recursive: true });
  const before = new Set(await subfolders(into));
  const file = await Deno.open(log, {
    write: true,
    create: true,
    append: true,
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", entry, ...args],
    cwd: checkout,
    env: { PERF_RESULTS_DIR: into, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let signalled = false;
  const pass = (signal: Deno.Signal) => () => {
    signalled = true;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  const onInt = pass("SIGINT");
  const onTerm = pass("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  // Both streams into the one log, chunk by chunk.
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      let done = 0;
      while (done < chunk.length) {
        done += await file.write(chunk.subarray(done));
      }
    }
  };
  try {
    const copied = Promise.allSettled([copy(child.stdout), copy(child.stderr)]);
    const { code } = await child.status;
    await copied;
    const made = (await subfolders(into)).filter((d) => !before.has(d));
    return {
      code,
      runDir: made.length === 1 ? join(into, made[0]!) : undefined,
      signalled,
    };
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
    file.close();
  }
}

async function subfolders(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) names.push(e.name);
  }
  return names;
}

/**
 * Whether a finished run can be compared: it archived samples and was not
 * interrupted. k6 thresholds that failed (perf's exit 1 without an assert)
 * don't stop it — a slower build may well fail them; the comparison decides.
 */
async function usable(run: RunOutcome): Promise<boolean> {
  if (run.signalled || !run.runDir) return false;
  if (run.code === 0) return true;
  const meta = await loadRunMetadata(join(run.runDir, "summary.json"));
  const samples = await Deno.stat(join(run.runDir, SAMPLES_FILE)).then(
    (s) => s.isFile,
    () => false,
  );
  return samples && meta?.metadata.interrupted === false &&
    meta.metadata.k6_exit_code === K6_EXIT.thresholdsFailed;
}

/**
 * `deno task perf:ab <other checkout> …`: alternated pairs of perf runs of two builds, judged paired. Returns the exit code.
 */
export async function perfAbCommand(
  argv: readonly string[],
): Promise<number> {
  const parsed = parseFlags({
    args: [...argv],
    allowPositionals: true,
    options: {
      pairs: { type: "string", default: String(DEFAULT_PAIRS) },
      duration: { type: "string", default: "15s" },
      rate: { type: "string", default: "4" },
      warmup: { type: "string", default: "5s" },
      workers: { type: "string" },
      model: { type: "string" },
      out: { type: "string" },
      markdown: { type: "string" },
      html: { type: "string" },
    },
  }, USAGE);
  const v = parsed.values;
  if (parsed.positionals.length !== 1) throw new ConfigError(USAGE);
  const other = await checkCheckout(parsed.positionals[0]!);
  const pairs = Number(v.pairs);
  if (!Number.isInteger(pairs) || pairs < 2 || pairs > 50) {
    throw new ConfigError(
      `--pairs must be an integer in 2..50, got ${v.pairs}`,
    );
  }
  const out = v.out ?? join(resultsDir(), `${runDirName()}-ab`);
  for (const side of ["A", "B"]) {
    const held = await subfolders(join(out, side)).catch(() => []);
    if (held.length > 0) {
      throw new ConfigError(
        `--out ${out}: ${side}/ already holds runs (${
          held[0]
        }…); their pairs would mix with the new ones — choose a new folder`,
      );
    }
  }
  const args = perfArgs(v);
  const sides = [
    { side: "A", checkout: other },
    { side: "B", checkout: PROJECT_ROOT },
  ];
  console.error(
    `perf:ab: A = ${other}, B = ${PROJECT_ROOT}; ${pairs} pairs of runs (${
      args.join(" ")
    }), archived in ${shownPath(out)}/`,
  );
  for (let i = 1; i <= pairs; i++) {
    for (const { side, checkout } of sides) {
      const log = join(out, side, `perf-${i}.log`);
      const run = await perfOnce(checkout, join(out, side), args, log);
      if (run.code === ExitCode.usage && !run.signalled) {
        throw new ConfigError(
          `run ${i} of ${side} (${checkout}) could not run; see ${
            shownPath(log)
          }`,
        );
      }
      const ok = await usable(run);
      console.error(
        `perf:ab: pair ${i}/${pairs}: ${side} exit ${run.code}${
          run.runDir ? ` → ${shownPath(run.runDir)}` : ""
        }${ok && run.code !== 0 ? " (k6 thresholds failed; kept)" : ""}`,
      );
      if (!ok) {
        console.error(
          `perf:ab: run ${i} of ${side} ${
            run.signalled ? "was interrupted" : "failed"
          } (exit ${run.code}); see ${shownPath(log)}`,
        );
        return ExitCode.failed;
      }
    }
  }
  const a = await loadArchive(join(out, "A"));
  const b = await loadArchive(join(out, "B"));
  await warnUnpaired(a.folders, b.folders, "perf:ab");
  const c = compareSamples(
    { ...a, label: `A ${other}` },
    { ...b, label: `B ${PROJECT_ROOT}` },
    { paired: true },
  );
  await publish(c, v, "perf:ab");
  return c.regression ? ExitCode.failed : ExitCode.ok;
}
