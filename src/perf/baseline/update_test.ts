import { assert, assertEquals } from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import { join } from "node:path";
import { runBaselineUpdate } from "./update.ts";
import { loadBaseline } from "./baseline.ts";
import { rejectsWith, TESTDATA } from "../_testing.ts";

const path = (p: string) => new URL(p, TESTDATA).pathname;

/** Copies a run folder and a baseline into a temp dir. */
async function workspace(run: string, baseline = "baseline_definitions.json") {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "run"));
  for (const f of ["summary.json", "metadata.json"]) {
    await Deno.copyFile(path(`runs/${run}/${f}`), join(dir, "run", f));
  }
  await Deno.copyFile(path(baseline), join(dir, "baseline.json"));
  return {
    dir,
    summaryPath: join(dir, "run", "summary.json"),
    baselinePath: join(dir, "baseline.json"),
  };
}

Deno.test("baseline:update records a run, keeping tolerances and definitions", async (t) => {
  for (const run of ["legacy_pass", "v1_pass"]) {
    await t.step(run, async () => {
      const ws = await workspace(run);
      try {
        const before = await loadBaseline(ws.baselinePath);
        const err: string[] = [];
        const code = await runBaselineUpdate({
          ...ws,
          now: new Date("2026-01-02T03:04:05Z"),
          out: () => {},
          err: (l) => err.push(l),
        });
        assertEquals(code, 0);
        assertEquals(err, []);
        const after = await loadBaseline(ws.baselinePath);
        assertEquals(after.tolerances, before.tolerances);
        assertEquals(after.definitions, before.definitions);
        assertEquals(after.captured_at, "2026-01-02T03:04:05.000Z");
        assertEquals(after.environment.model, "tiny.en");
        assertEquals(after.environment.duration_seconds, 30);
        assertEquals(after.environment.cpu_count, 2);
        assertEquals(after.environment.k6_version, "1.8.1");
        assertEquals(after.metrics.transcription_success_rate, 1);
        assertEquals(after.metrics.dropped_iterations_count, 0);
        assert(after.metrics.http_req_duration_ms_p95! < 1000);
        assert(after.metrics.transcription_latency_seconds_avg! > 0.5);
        assert(
          after.description.startsWith(
            "Recorded with `deno task baseline:update`",
          ),
        );
      } finally {
        await Deno.remove(ws.dir, { recursive: true });
      }
    });
  }
});

Deno.test("baseline:update refuses a run whose thresholds failed unless --force", async (t) => {
  for (const run of ["legacy_regression", "v1_regression"]) {
    await t.step(run, async () => {
      const ws = await workspace(run, "baseline_python.json");
      try {
        const original = await Deno.readTextFile(ws.baselinePath);
        const err: string[] = [];
        const code = await runBaselineUpdate({
          ...ws,
          out: () => {},
          err: (l) => err.push(l),
        });
        assertEquals(code, 1);
        assert(err[0]!.includes("k6 thresholds failed"), err[0]);
        assert(err[0]!.includes("--force"), err[0]);
        assertEquals(await Deno.readTextFile(ws.baselinePath), original);

        const forced = await runBaselineUpdate({
          ...ws,
          force: true,
          out: () => {},
          err: () => {},
        });
        assertEquals(forced, 0);
        assert((await Deno.readTextFile(ws.baselinePath)) !== original);
      } finally {
        await Deno.remove(ws.dir, { recursive: true });
      }
    });
  }
});

Deno.test("baseline:update never records an incomplete or sample-less run", async (t) => {
  const cases: [string, string][] = [
    ["legacy_interrupted", "k6 exited with 105"],
    ["legacy_unreachable", 'metric "http_req_duration" recorded no samples'],
  ];
  for (const [run, message] of cases) {
    await t.step(run, async () => {
      const ws = await workspace(run, "baseline_python.json");
      try {
        const error = await rejectsWith(
          () =>
            runBaselineUpdate({
              ...ws,
              force: true,
              out: () => {},
              err: () => {},
            }),
          ConfigError,
        );
        assert(error.message.includes(message), error.message);
      } finally {
        await Deno.remove(ws.dir, { recursive: true });
      }
    });
  }
});

Deno.test("baseline:update without metadata keeps the environment and warns", async () => {
  const ws = await workspace("legacy_pass", "baseline_python.json");
  try {
    await Deno.remove(join(ws.dir, "run", "metadata.json"));
    const err: string[] = [];
    assertEquals(
      await runBaselineUpdate({
        ...ws,
        out: () => {},
        err: (l) => err.push(l),
      }),
      0,
    );
    assert(err[0]!.startsWith("warning: no metadata.json beside"), err[0]);
    assertEquals(
      (await loadBaseline(ws.baselinePath)).environment.model,
      "tiny",
    );
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});
