import { assert, assertEquals } from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import { join } from "node:path";
import { buildGroupBaseline } from "./update.ts";
import { runBaselineUpdate } from "./update_command.ts";
import { loadBaseline } from "./baseline.ts";
import { runAssert } from "./assert_command.ts";
import { loadSummary } from "../summary.ts";
import { loadRunMetadata } from "../run_metadata.ts";
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

const OPENAI_KEYS = [
  "openai_request_duration_ms_p95",
  "openai_server_processing_ms_p95",
  "openai_overhead_ms_p95",
  "openai_success_rate",
  "openai_accuracy",
];

Deno.test("baseline:update records only the run's scenario's keys and recording", async (t) => {
  await t.step(
    "an openai run: the openai keys and scenarios.openai",
    async () => {
      const ws = await workspace("openai_pass", "baseline_two_scenarios.json");
      try {
        const before = await loadBaseline(ws.baselinePath);
        const out: string[] = [];
        const code = await runBaselineUpdate({
          ...ws,
          now: new Date("2026-12-07T08:00:00Z"),
          out: (l) => out.push(l),
          err: () => {},
        });
        assertEquals(code, 0, out.join("\n"));
        const after = await loadBaseline(ws.baselinePath);
        const summary = await loadSummary(ws.summaryPath);
        assertEquals(
          after.metrics.openai_request_duration_ms_p95,
          Number(
            summary.metrics.get("openai_request_duration_ms")!.values["p(95)"]!
              .toPrecision(6),
          ),
        );
        assert(
          after.metrics.openai_request_duration_ms_p95 !==
            before.metrics.openai_request_duration_ms_p95,
        );
        // The native keys and the native recording are untouched.
        for (const [k, v] of Object.entries(before.metrics)) {
          if (!OPENAI_KEYS.includes(k)) assertEquals(after.metrics[k], v, k);
        }
        assertEquals(after.environment, before.environment);
        assertEquals(after.captured_at, before.captured_at);
        assertEquals(after.description, before.description);
        assertEquals(after.tolerances, before.tolerances);
        const openai = after.scenarios!.openai!;
        assertEquals(openai.captured_at, "2026-12-07T08:00:00.000Z");
        assertEquals(openai.environment!.duration_seconds, 20);
        assertEquals(openai.environment!.model, "tiny.en-q8_0");
        assertEquals("long_poll" in openai.environment!, false);
        assert(openai.description!.includes("(--api openai)"));
        assertEquals(
          out[0],
          `wrote ${ws.baselinePath} (the openai scenario's keys):`,
        );
        assertEquals(out.length, 1 + OPENAI_KEYS.length + 1);
        assert(out.at(-1)!.startsWith("  kept (other scenarios' keys): http_"));
      } finally {
        await Deno.remove(ws.dir, { recursive: true });
      }
    },
  );
  await t.step(
    "a native run leaves the openai keys and record alone",
    async () => {
      const ws = await workspace("legacy_pass", "baseline_two_scenarios.json");
      try {
        const before = await loadBaseline(ws.baselinePath);
        assertEquals(
          await runBaselineUpdate({ ...ws, out: () => {}, err: () => {} }),
          0,
        );
        const after = await loadBaseline(ws.baselinePath);
        for (const k of OPENAI_KEYS) {
          assertEquals(after.metrics[k], before.metrics[k], k);
        }
        assertEquals(after.scenarios, before.scenarios);
        assertEquals(after.environment.model, "tiny.en");
        assert(after.metrics.transcription_latency_seconds_avg! < 5);
      } finally {
        await Deno.remove(ws.dir, { recursive: true });
      }
    },
  );
  await t.step(
    "a baseline without the run's scenario's keys is refused",
    async () => {
      const ws = await workspace("openai_pass", "baseline_python.json");
      try {
        const e = await rejectsWith(
          () => runBaselineUpdate({ ...ws, out: () => {}, err: () => {} }),
          ConfigError,
        );
        assert(e.message.includes("has no keys for the openai scenario"));
      } finally {
        await Deno.remove(ws.dir, { recursive: true });
      }
    },
  );
});

Deno.test("baseline:update from openai runs records their distributions beside the native ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wt-openai-group-" });
  try {
    const group = join(dir, "group");
    for (const r of ["run-1", "run-2"]) {
      await Deno.mkdir(join(group, r), { recursive: true });
      for (const f of ["summary.json", "metadata.json", "samples.json.gz"]) {
        await Deno.copyFile(
          path(`runs/openai_pass/${f}`),
          join(group, r, f),
        );
      }
    }
    // The repository's baseline: native keys with distributions.
    const baselinePath = join(dir, "baseline.json");
    await Deno.copyFile(
      new URL("../../../baseline.json", import.meta.url),
      baselinePath,
    );
    const before = await loadBaseline(baselinePath);
    assert(before.distributions, "baseline.json has native distributions");
    const out: string[] = [];
    assertEquals(
      await runBaselineUpdate({
        summaryPath: group,
        baselinePath,
        out: (l) => out.push(l),
        err: () => {},
      }),
      0,
      out.join("\n"),
    );
    const after = await loadBaseline(baselinePath);
    assertEquals(after.distributions, before.distributions);
    const d = after.scenarios!.openai!.distributions!;
    assertEquals([d.runs, d.source], [2, group]);
    assertEquals(Object.keys(d.metrics).sort(), [
      "openai_accuracy",
      "openai_overhead_ms",
      "openai_request_duration_ms",
      "openai_server_processing_ms",
      "openai_server_queue_wait_ms",
      "openai_success_rate",
    ]);
    const iterations = (await loadSummary(
      path("runs/openai_pass/summary.json"),
    )).metrics.get("iterations")!.values.count!;
    assertEquals(d.metrics.openai_request_duration_ms![0]!.count, iterations);
    assertEquals(Object.keys(d.spread!), OPENAI_KEYS);
    assertEquals(d.spread!.openai_request_duration_ms_p95!.cv, 0);
    // Judged by interval against the openai distributions: the same run
    // is no regression.
    const report: string[] = [];
    const { code, result } = await runAssert({
      summaryPath: join(group, "run-1", "summary.json"),
      baselinePath,
      env: () => undefined,
      out: (l) => report.push(l),
      err: () => {},
    });
    assertEquals(code, 0, report.join("\n"));
    const byKey = new Map(result.keys.map((k) => [k.key, k]));
    assert(byKey.get("openai_request_duration_ms_p95")!.interval);
    assert(byKey.get("openai_server_processing_ms_p95")!.interval);
    assertEquals(byKey.get("openai_overhead_ms_p95")!.interval, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildGroupBaseline refuses runs of different scenarios", async () => {
  const runOf = async (name: string) => {
    const summaryFile = path(`runs/${name}/summary.json`);
    const meta = await loadRunMetadata(summaryFile);
    return {
      summary: await loadSummary(summaryFile),
      summaryFile,
      metadata: meta?.metadata,
      samples: new Map([["x", [1]]]),
    };
  };
  const previous = await loadBaseline(path("baseline_two_scenarios.json"));
  let error: unknown;
  try {
    buildGroupBaseline({
      previous,
      previousFile: "baseline.json",
      runs: [await runOf("legacy_pass"), await runOf("openai_pass")],
      source: "mixed",
    });
  } catch (e) {
    error = e;
  }
  assert(error instanceof ConfigError, `got ${error}`);
  assertEquals(
    error.message,
    "mixed: the runs ran different scenarios (native, openai); record each scenario from its own runs",
  );
});

Deno.test("baseline:update from a workload run records only that workload's keys", async () => {
  const ws = await workspace("legacy_pass");
  try {
    const b = JSON.parse(await Deno.readTextFile(ws.baselinePath));
    b.metrics.mixed_latency_p95 = 99;
    b.tolerances.mixed_latency_p95 = 1.5;
    b.definitions = {
      ...b.definitions,
      mixed_latency_p95: {
        metric: "transcription_latency_seconds",
        stat: "p(95)",
        unit: "s",
        direction: "lower_is_better",
        kind: "ratio",
        workload: "mixed",
      },
    };
    await Deno.writeTextFile(ws.baselinePath, JSON.stringify(b));
    const metaPath = join(ws.dir, "run", "metadata.json");
    const meta = JSON.parse(await Deno.readTextFile(metaPath));
    await Deno.writeTextFile(
      metaPath,
      JSON.stringify({ ...meta, workload: "mixed" }),
    );
    const out: string[] = [];
    const code = await runBaselineUpdate({
      ...ws,
      now: new Date("2026-01-02T03:04:05Z"),
      out: (l) => out.push(l),
      err: () => {},
    });
    assertEquals(code, 0);
    const after = await loadBaseline(ws.baselinePath);
    const summary = await loadSummary(ws.summaryPath);
    const p95 = summary.metrics.get("transcription_latency_seconds")!
      .values["p(95)"]!;
    assertEquals(after.metrics.mixed_latency_p95, Number(p95.toPrecision(6)));
    assert(after.metrics.mixed_latency_p95 !== 99);
    // The sample's keys and its recording are untouched.
    const { mixed_latency_p95: _, ...rest } = after.metrics;
    const { mixed_latency_p95: __, ...restBefore } = b.metrics;
    assertEquals(rest, restBefore);
    assertEquals(after.captured_at, b.captured_at);
    assertEquals(after.environment, b.environment);
    assert(
      out.some((l) => l.includes("the native, workload mixed scenario's keys")),
      out.join("\n"),
    );
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});
