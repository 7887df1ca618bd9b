/**
 * `deno task perf --find-capacity` as users run it, kept short: two 5 s
 * steps at 1 and 2 jobs/s on one worker, the engine alone on 10 jobs.
 */
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertMatch,
} from "../src/testing/assert.ts";
import { join } from "node:path";
import { CapacityReportSchema } from "../src/perf/mod.ts";
import { finish, startPerf, tagged } from "./_perf_process.ts";

const SHORT = [
  "--find-capacity",
  "--step-duration",
  "5s",
  "--start-rate",
  "1",
  "--rate-factor",
  "2",
  "--max-rate",
  "2",
  "--warmup",
  "0s",
  "--engine-jobs",
  "10",
  "--workers",
  "1",
];

function archive(resultsDir: string): string {
  const dirs = [...Deno.readDirSync(resultsDir)].filter((e) => e.isDirectory);
  assertEquals(dirs.length, 1);
  assertMatch(dirs[0]!.name, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-capacity$/);
  return join(resultsDir, dirs[0]!.name);
}

Deno.test("perf --find-capacity steps the rate, archives the report and chart, leaves nothing running", async () => {
  const run = startPerf(SHORT);
  const code = await finish(run);
  const err = run.stderr();
  assertEquals(code, 0, err.slice(-3000));
  assertEquals(tagged(run.tag), [], "no process left behind");
  assertMatch(
    run.stdout(),
    /^capacity: 2 jobs\/s \(engine \d+\.\d\d jobs\/s, ratio \d+\.\d\d\)\n$/,
  );
  assertMatch(err, /step\s+rate\/s\s+done\/s\s+success/);
  const dir = archive(run.resultsDir);
  const report = CapacityReportSchema.parse(
    JSON.parse(await Deno.readTextFile(join(dir, "capacity.json"))),
  );
  assertEquals(report.steps.map((s) => [s.rate_per_s, s.pass]), [
    [1, true],
    [2, true],
  ]);
  assertEquals(report.result.capacity_per_s, 2);
  assertEquals(report.result.stop_reason, "max rate passed");
  assertEquals(report.setup.long_poll, true);
  assertEquals([report.setup.poll_wait_s, report.setup.max_polls], [5, 6]);
  assert(report.engine.jobs_per_s! > 0);
  // Measured again after the steps; the ratio is against the mean of both.
  assert(report.engine.after_jobs_per_s! > 0);
  assertAlmostEquals(
    report.result.engine_ratio!,
    2 / ((report.engine.jobs_per_s! + report.engine.after_jobs_per_s!) / 2),
    1e-9,
  );
  assertMatch(err, /engine alone \(again, after the steps\)/);
  assertMatch(
    err,
    /jobs\/s before the steps, \d+\.\d\d after \([-+]\d+\.\d %\), mean/,
  );
  for (const s of report.steps) {
    assertEquals(s.dropped, 0);
    assertEquals(s.success_rate, 1);
    assert(s.latency_s.p95! > 0 && s.latency_s.p95! <= 2);
    // Every component was seen using CPU.
    for (const c of ["api", "workers", "redis", "k6"] as const) {
      assert(s.cpu_cores[c] > 0, `${c} used no CPU at ${s.rate_per_s} jobs/s`);
    }
    assert(s.cpu_cores.machine >= s.cpu_cores.service, JSON.stringify(s));
    for (const f of ["summary.json", "samples.json.gz", "k6.log"]) {
      assert((await Deno.stat(join(dir, s.run_dir, f))).size > 0, f);
    }
  }
  const svg = await Deno.readTextFile(join(dir, "capacity.svg"));
  assertMatch(svg, /class="capacity"/);
  assertMatch(svg, /class="series latency-p95"/);
  for (const f of ["api.log", "worker-1.log", "redis.log"]) {
    assert((await Deno.stat(join(dir, "logs", f))).size > 0, `logs/${f}`);
  }
  // Capacity steps are not perf runs: no history line, no latest.json.
  const top = [...Deno.readDirSync(run.resultsDir)].map((e) => e.name);
  assertEquals(top.length, 1, top.join());
  await Deno.remove(run.resultsDir, { recursive: true });
});

Deno.test("perf --find-capacity --api openai searches the one-request route the OpenAI SDKs use", async () => {
  const run = startPerf([...SHORT, "--api", "openai", "--engine-jobs", "0"]);
  const code = await finish(run);
  const err = run.stderr();
  assertEquals(code, 0, err.slice(-3000));
  assertEquals(tagged(run.tag), [], "no process left behind");
  assertMatch(run.stdout(), /^capacity: 2 jobs\/s \(engine not measured\)\n$/);
  assertMatch(err, /one request per job \(--api openai\)/);
  const dir = archive(run.resultsDir);
  const report = CapacityReportSchema.parse(
    JSON.parse(await Deno.readTextFile(join(dir, "capacity.json"))),
  );
  assertEquals(report.setup.api, "openai");
  assertEquals(report.setup.long_poll, false);
  assertEquals([report.setup.poll_wait_s, report.setup.max_polls], [
    null,
    null,
  ]);
  // Every request answered with its transcript is a completion, timed by
  // the request's own duration (k6 may start one more than rate × time).
  assertEquals(report.steps.map((s) => [s.rate_per_s, s.pass]), [
    [1, true],
    [2, true],
  ]);
  for (const s of report.steps) {
    assert(s.latency_s.p50! > 0.01 && s.latency_s.p95! <= 2, JSON.stringify(s));
    assert(s.throughput_per_s! > 0.9 * s.rate_per_s, JSON.stringify(s));
    assert(s.cpu_cores.api > 0 && s.cpu_cores.workers > 0);
    assertEquals([s.failed, s.dropped, s.success_rate], [0, 0, 1]);
    assert(s.completed >= s.offered, JSON.stringify(s));
  }
  await Deno.remove(run.resultsDir, { recursive: true });
});

Deno.test("perf --find-capacity interrupted by Ctrl-C stops everything and exits 1", async () => {
  const run = startPerf([...SHORT, "--engine-jobs", "0"]);
  await run.waitFor(/capacity: step 1: 1 jobs\/s/);
  run.child.kill("SIGINT");
  const code = await finish(run);
  assertEquals(code, 1, run.stderr().slice(-2000));
  assertEquals(tagged(run.tag), [], "no process left behind");
  assertMatch(run.stdout(), /^capacity: none \(engine not measured\)\n$/);
  const report = CapacityReportSchema.parse(
    JSON.parse(
      await Deno.readTextFile(
        join(archive(run.resultsDir), "capacity.json"),
      ),
    ),
  );
  assertEquals(report.result.stop_reason, "interrupted");
  assertMatch(report.result.stop_detail ?? "", /Ctrl-C/);
  await Deno.remove(run.resultsDir, { recursive: true });
});

Deno.test("perf --find-capacity rejects bad flags with exit 2, naming the flag", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--find-capacity", "--rate", "5"], /--rate can't be combined/],
    [["--find-capacity", "--step-duration", "soon"], /--step-duration/],
    [["--find-capacity", "--max-rate", "1"], /--max-rate \(1\) must be >=/],
    [["--start-rate", "3"], /--start-rate needs --find-capacity/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const run = startPerf(args);
      assertEquals(await finish(run), 2);
      assertMatch(run.stderr(), message);
      assertEquals(run.stdout(), "");
      await Deno.remove(run.resultsDir, { recursive: true });
    });
  }
});

Deno.test("perf --profile stress is the search with a verdict of its own: the capacity and the breaking rate", async () => {
  // The same short search, asked for as a test type.
  const run = startPerf(["--profile", "stress", ...SHORT.slice(1)]);
  const code = await finish(run);
  const err = run.stderr();
  assertEquals(code, 0, err.slice(-3000));
  assertEquals(tagged(run.tag), [], "no process left behind");
  assertMatch(err, /perf: stress: PASS/);
  assertMatch(err, /pass\s+capacity\s+2 jobs\/s sustained/);
  assertMatch(err, /the SLO held up to 2 jobs\/s \(--max-rate\)/);
  assertMatch(run.stdout(), /^capacity: 2 jobs\/s/);
  await Deno.remove(run.resultsDir, { recursive: true });
});
