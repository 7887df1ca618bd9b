/**
 * Runs `deno task perf` (src/tasks/perf.ts) as a child process for
 * process-level tests: each run is tagged through its environment so a test
 * can prove that no process it started (Redis, API, workers, k6) outlives it.
 */
/** src/tasks/perf.ts. */
export const MAIN = new URL("../src/tasks/perf.ts", import.meta.url).pathname;

/** A running perf child process. */
export interface PerfRun {
  child: Deno.ChildProcess;
  /** `PERF_RUN_TAG` in the environment of everything it starts. */
  tag: string;
  /** Its `PERF_RESULTS_DIR`. */
  resultsDir: string;
  /** Everything printed so far. */
  stderr: () => string;
  stdout: () => string;
  /** Resolves when stderr has printed a line matching `re`. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
  /** Resolves when stdout and stderr are read to their end. */
  drained: Promise<unknown>;
}

/**
 * Starts perf (or another perf entry point, `main`) with `args`, results in
 * a new temporary folder.
 */
export function startPerf(args: string[], main = MAIN): PerfRun {
  const tag = crypto.randomUUID();
  const resultsDir = Deno.makeTempDirSync({ prefix: "wt-perf-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    env: { PERF_RUN_TAG: tag, PERF_RESULTS_DIR: resultsDir, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const watchers: { re: RegExp; resolve: () => void }[] = [];
  const errDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      for (const w of [...watchers]) {
        if (w.re.test(text)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  })();
  let out = "";
  const outDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      out += decoder.decode(chunk, { stream: true });
    }
  })();
  return {
    child,
    tag,
    resultsDir,
    stderr: () => text,
    stdout: () => out,
    drained: Promise.allSettled([errDone, outDone]),
    waitFor: (re, timeoutMs = 180_000) =>
      new Promise((resolve, reject) => {
        if (re.test(text)) return resolve();
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no ${re} on stderr after ${timeoutMs} ms:\n${
                  text.slice(-2000)
                }`,
              ),
            ),
          timeoutMs,
        );
        watchers.push({
          re,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
  };
}

/** Processes whose environment carries `tag`: everything a run started. */
export function tagged(tag: string): { pid: number; cmd: string }[] {
  const found = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const environ = Deno.readTextFileSync(`/proc/${entry.name}/environ`);
      if (environ.includes(`PERF_RUN_TAG=${tag}`)) {
        const cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`)
          .replaceAll("\0", " ");
        found.push({ pid: Number(entry.name), cmd });
      }
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found;
}

/** Waits for the run to end and its processes to be reaped; its exit code. */
export async function finish(run: PerfRun): Promise<number> {
  const status = await run.child.status;
  await run.drained;
  // Give the kernel a moment to reap children that were just stopped.
  for (let i = 0; i < 50 && tagged(run.tag).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return status.code;
}
