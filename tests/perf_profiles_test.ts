/**
 * `deno task perf --profile …` as users run it, each profile on a short
 * duration against the real stack: its own verdict (profile.json), the
 * timeline it was judged on, exit codes, and nothing left running.
 */
import { assert, assertEquals, assertMatch } from "../src/testing/assert.ts";
import { join } from "node:path";
import { finish, startPerf, tagged } from "./_perf_process.ts";
import type { ProfileVerdict } from "../src/perf/profiles/mod.ts";
import { loadTimeline } from "../src/perf/timeline/mod.ts";

/** Runs perf with `args`; returns its exit code, stderr and the run folder. */
async function perf(args: string[]) {
  const run = startPerf(args);
  const code = await finish(run);
  assertEquals(tagged(run.tag), [], "no process left behind");
  const dirs = [...Deno.readDirSync(run.resultsDir)].filter((e) =>
    e.isDirectory
  );
  return {
    code,
    err: run.stderr(),
    out: run.stdout(),
    resultsDir: run.resultsDir,
    dir: dirs.length === 1 ? join(run.resultsDir, dirs[0]!.name) : undefined,
  };
}

async function verdictOf(dir: string): Promise<ProfileVerdict> {
  return JSON.parse(await Deno.readTextFile(join(dir, "profile.json")));
}

Deno.test("perf --profile smoke: a short run judged by its own checks, out of the history", async () => {
  const r = await perf([
    "--profile",
    "smoke",
    "--duration",
    "8s",
    "--workers",
    "2",
  ]);
  try {
    assertEquals(r.code, 0, r.err.slice(-3000));
    assertMatch(r.err, /--profile smoke: 1 jobs\/s for 8s/);
    assertMatch(r.err, /perf: smoke: PASS/);
    const v = await verdictOf(r.dir!);
    assertEquals(v.pass, true);
    assertEquals(v.checks.map((c) => [c.name, c.pass]), [
      ["jobs done", true],
      ["accurate", true],
      ["no 5xx", true],
      ["none dropped", true],
      ["latency SLO", true],
    ]);
    assert(v.figures.iterations! >= 7, JSON.stringify(v.figures));
    // Judged on its own: no baseline assert, no history line.
    assert(!/verdict: /.test(r.err), "no baseline verdict");
    const top = [...Deno.readDirSync(r.resultsDir)].map((e) => e.name);
    assertEquals(top.includes("history.jsonl"), false, top.join());
    // The timeline saw every process and the service.
    const tl = await loadTimeline(r.dir!);
    assert(tl.length >= 6, `${tl.length} samples`);
    const names = new Set(tl.flatMap((s) => Object.keys(s.processes)));
    for (const n of ["api", "worker-1", "worker-2", "redis", "k6"]) {
      assert(names.has(n), `${n} not sampled: ${[...names]}`);
    }
    assert(tl.at(-1)!.service!.completed >= 7);
    // The run's page carries the profile's verdict in a section of its own.
    const page = await Deno.readTextFile(join(r.dir!, "report.html"));
    assertMatch(page, /<section id="profile">\n<h2>The smoke test: PASS<\/h2>/);
    const verdict = JSON.parse(
      await Deno.readTextFile(join(r.dir!, "verdict.json")),
    );
    assertEquals([verdict.verdict, verdict.code], ["pass", 0]);
  } finally {
    await Deno.remove(r.resultsDir, { recursive: true });
  }
});

Deno.test("perf --profile smoke fails when its SLO is missed, naming the check", async () => {
  // 0.05 s end to end can't be met with polls a second apart.
  const r = await perf([
    "--profile",
    "smoke",
    "--duration",
    "4s",
    "--workers",
    "1",
    "--slo",
    "0.05",
  ]);
  try {
    assertEquals(r.code, 1, r.err.slice(-3000));
    assertMatch(
      r.err,
      /FAIL\s+latency SLO\s+p95 \d\.\d{3} s \(at most 0\.05 s\)/,
    );
    assertMatch(r.err, /perf: FAIL: smoke failed: latency SLO/);
  } finally {
    await Deno.remove(r.resultsDir, { recursive: true });
  }
});

Deno.test("perf --profile spike: a burst of ×3, refusals and losses counted, recovery reported", async () => {
  const r = await perf([
    "--profile",
    "spike",
    "--rate",
    "2",
    "--spike-factor",
    "3",
    "--spike-at",
    "5s",
    "--spike-hold",
    "5s",
    "--duration",
    "20s",
    "--workers",
    "2",
  ]);
  try {
    assertEquals(r.code, 0, r.err.slice(-3000));
    assertMatch(r.err, /k6 2 jobs\/s \(×3 from 5s for 5s\) for 20s/);
    const v = await verdictOf(r.dir!);
    assertEquals(v.checks.map((c) => c.name), [
      "burst offered",
      "no 5xx",
      "nothing lost",
      "SLO recovered",
    ]);
    assertEquals(v.figures.lost, 0);
    assertEquals(v.figures.dropped, 0);
    assert((v.figures.recovery_s ?? -1) >= 0, JSON.stringify(v.figures));
    assert(v.figures.peak_queue_depth !== null);
    // 2/s for 5 s, 6/s for ~6 s, 2/s for ~9 s: about 64 iterations.
    const summary = JSON.parse(
      await Deno.readTextFile(join(r.dir!, "summary.json")),
    );
    const iterations = summary.metrics.iterations.count;
    assert(iterations >= 55 && iterations <= 72, `${iterations} iterations`);
  } finally {
    await Deno.remove(r.resultsDir, { recursive: true });
  }
});

Deno.test("perf --profile soak catches a worker that leaks (fault switch) and names it", async () => {
  // 4 MiB kept per job at 3 jobs/s over 2 workers: ~20 GiB/h each.
  const r = await perf([
    "--profile",
    "soak",
    "--duration",
    "25s",
    "--workers",
    "2",
    "--fault-leak-kib-per-job",
    "4096",
  ]);
  try {
    assertEquals(r.code, 1, r.err.slice(-3000));
    assertMatch(r.err, /FAIL\s+no leak\s+.*worker-1 \d+/);
    assertMatch(r.err, /perf: FAIL: soak failed: no leak/);
    const v = await verdictOf(r.dir!);
    assert(
      v.figures["growth_mib_per_hour.worker-1"]! > 1000,
      JSON.stringify(v.figures),
    );
    // The worker's growth is the leak's: ~2 jobs/s × 4 MiB over 2 workers.
    assert(
      v.figures["growth_mib_per_hour.worker-1"]! < 40_000,
      JSON.stringify(v.figures),
    );
    assertEquals(
      v.checks.filter((c) => !c.pass).map((c) => c.name),
      ["no leak"],
    );
  } finally {
    await Deno.remove(r.resultsDir, { recursive: true });
  }
});

Deno.test("perf --profile refuses bad input with exit 2, naming the flag", async () => {
  for (
    const [args, re] of [
      [
        ["--profile", "chaos"],
        /--profile: must be one of smoke, load, stress, soak, spike/,
      ],
      [
        ["--profile", "smoke", "--spike-factor", "2"],
        /--spike-factor applies to --profile spike/,
      ],
      [
        ["--profile", "spike", "--spike-at", "2m"],
        /--spike-at \+ --spike-hold \(140 s\) at least 2 s shorter than --duration \(110 s\)/,
      ],
    ] as const
  ) {
    const r = await perf([...args]);
    try {
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.err.slice(-2000)}`);
      assertMatch(r.err, re);
    } finally {
      await Deno.remove(r.resultsDir, { recursive: true });
    }
  }
});
