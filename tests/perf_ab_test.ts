/**
 * `deno task perf:ab` as users run it: two checkouts (here this one against
 * itself) measured alternately by real `deno task perf` runs, judged pair by
 * pair; nothing it started outlives it, also on Ctrl-C.
 */
import { assert, assertEquals, assertMatch } from "../src/testing/assert.ts";
import { join } from "node:path";
import { finish, startPerf, tagged } from "./_perf_process.ts";

const AB = new URL("../src/tasks/perf_ab.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/** perf:ab of this checkout against itself: 2 pairs, one worker, no warm-up. */
function startAb(...flags: string[]) {
  return startPerf(
    [ROOT, "--pairs", "2", "--warmup", "0s", "--workers", "1", ...flags],
    AB,
  );
}

/** Run folders of one side, oldest first. */
function runsOf(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) =>
    e.name
  ).sort();
}

Deno.test("perf:ab refuses a folder that is not a checkout, bad --pairs and a used --out with exit 2", async () => {
  const empty = Deno.makeTempDirSync({ prefix: "wt-ab-" });
  const notCheckout = startPerf([empty], AB);
  assertEquals(await finish(notCheckout), 2);
  assertMatch(notCheckout.stderr(), /not a checkout of this project/);
  Deno.removeSync(empty);
  const pairs = startPerf([ROOT, "--pairs", "1"], AB);
  assertEquals(await finish(pairs), 2);
  assertMatch(pairs.stderr(), /--pairs must be an integer in 2\.\.50, got 1/);
  const used = Deno.makeTempDirSync({ prefix: "wt-ab-" });
  Deno.mkdirSync(join(used, "B", "2026-11-29T10-00-00Z"), { recursive: true });
  const reused = startPerf([ROOT, "--out", used], AB);
  assertEquals(await finish(reused), 2);
  assertMatch(
    reused.stderr(),
    /B\/ already holds runs \(2026-11-29T10-00-00Z…\)/,
  );
  Deno.removeSync(used, { recursive: true });
  for (const r of [notCheckout, pairs, reused]) {
    await Deno.remove(r.resultsDir, { recursive: true });
  }
});

Deno.test("perf:ab measures two checkouts alternately and judges the pairs", async () => {
  const run = startAb("--duration", "3s", "--rate", "2");
  try {
    const code = await finish(run);
    const err = run.stderr();
    const out = run.stdout();
    assert(code === 0 || code === 1, `exit ${code}\n${err.slice(-3000)}`);
    assertEquals(tagged(run.tag), [], "no process left behind");
    // A1 B1 A2 B2, each a run folder with its samples and a log.
    const [group] = runsOf(run.resultsDir);
    assertMatch(group!, /-ab$/);
    const dir = join(run.resultsDir, group!);
    for (const side of ["A", "B"]) {
      const runs = runsOf(join(dir, side));
      assertEquals(runs.length, 2, `${side}: ${runs}`);
      for (const r of runs) {
        assert(Deno.statSync(join(dir, side, r, "samples.json.gz")).isFile);
      }
      assertMatch(
        Deno.readTextFileSync(join(dir, side, "perf-2.log")),
        /stopping the stack/,
      );
    }
    const order = ["A", "B"].flatMap((side) =>
      runsOf(join(dir, side)).map((r) => ({ side, r }))
    ).sort((x, y) => x.r.localeCompare(y.r)).map((x) => x.side).join("");
    assertEquals(order, "ABAB");
    // A run whose k6 thresholds failed (perf's exit 1) is said to be kept.
    assertMatch(
      err,
      /pair 2\/2: B exit (0 → \S+|1 → \S+ \(k6 thresholds failed; kept\))\n/,
    );
    assertEquals(/warning/.test(err), false, err);
    // The paired table, and a verdict that agrees with the exit code.
    assertMatch(out, /bootstrap over pairs of runs/);
    assertMatch(out, /transcription_latency_seconds median/);
    assertMatch(
      out,
      code === 0 ? /verdict: no regression/ : /verdict: REGRESSION/,
    );
  } finally {
    await Deno.remove(run.resultsDir, { recursive: true });
  }
});

Deno.test("perf:ab stops its runs and their stacks on Ctrl-C", async () => {
  const run = startAb("--duration", "30s");
  try {
    const [group] = await waitForFolder(run.resultsDir);
    const log = join(run.resultsDir, group, "A", "perf-1.log");
    await waitForText(log, /submit_and_poll/);
    run.child.kill("SIGINT");
    assertEquals(await finish(run), 1);
    assertMatch(run.stderr(), /run 1 of A was interrupted/);
    assertEquals(tagged(run.tag), [], "no process left behind");
  } finally {
    await Deno.remove(run.resultsDir, { recursive: true });
  }
});

async function waitForFolder(dir: string): Promise<[string]> {
  for (let i = 0; i < 600; i++) {
    const found = runsOf(dir);
    if (found.length > 0) return [found[0]!];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing appeared in ${dir}`);
}

async function waitForText(path: string, re: RegExp): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const text = await Deno.readTextFile(path).catch(() => "");
    if (re.test(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${re} in ${path}`);
}
