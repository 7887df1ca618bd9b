import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import { join } from "node:path";
import { ConfigError } from "../../errors/mod.ts";
import {
  legacySummaryFor,
  syntheticMetadata,
  syntheticRun,
  writeSamples,
} from "../../verdict/_testing.ts";
import type { RunSamples } from "../../verdict/mod.ts";
import { evaluateRun, renderTable } from "./assert.ts";
import { runAssert } from "./assert_command.ts";
import {
  type Baseline,
  entriesOf,
  loadBaseline,
  parseBaseline,
  thresholdExpression,
} from "./baseline.ts";
import { runBaselineUpdate } from "./update_command.ts";
import { parseSummary } from "../summary.ts";
import { rejectsWith } from "../_testing.ts";

const OLD_BASELINE: Baseline = {
  description: "old style",
  captured_at: "2026-01-01T00:00:00Z",
  environment: {
    model: "tiny.en",
    arrival_rate_per_second: 2,
    duration_seconds: 60,
    worker_concurrency: 2,
  },
  metrics: {
    http_req_duration_ms_avg: 4,
    http_req_duration_ms_p95: 8,
    transcription_latency_seconds_avg: 1,
    transcription_latency_seconds_p95: 1.3,
    transcription_success_rate: 1,
  },
  tolerances: {
    http_req_duration_ms_avg: 1.5,
    http_req_duration_ms_p95: 1.5,
    transcription_latency_seconds_avg: 1.2,
    transcription_latency_seconds_p95: 1.2,
    transcription_success_rate: 0.95,
  },
};

/** Writes a run folder (summary, metadata, samples). */
async function writeRun(
  dir: string,
  samples: RunSamples,
  opts: {
    thresholds?: Record<string, Record<string, boolean>>;
    meta?: Record<string, unknown>;
  } = {},
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "summary.json"),
    legacySummaryFor(samples, opts.thresholds),
  );
  await Deno.writeTextFile(
    join(dir, "metadata.json"),
    syntheticMetadata(opts.meta),
  );
  await writeSamples(join(dir, "samples.json.gz"), samples);
  return dir;
}

/** A group of 3 runs of one build, and a baseline recorded from it. */
async function recordedBaseline() {
  const dir = await Deno.makeTempDir({ prefix: "wt-dist-" });
  const group = join(dir, "group");
  for (const [i, m] of [[1, 1], [2, 1.03], [3, 0.98]] as const) {
    await writeRun(join(group, `run-${i}`), syntheticRun(m, i));
  }
  const baselinePath = join(dir, "baseline.json");
  await Deno.writeTextFile(baselinePath, JSON.stringify(OLD_BASELINE));
  const out: string[] = [];
  const code = await runBaselineUpdate({
    summaryPath: group,
    baselinePath,
    out: (l) => out.push(l),
    err: () => {},
    now: new Date("2026-11-29T00:00:00Z"),
  });
  assertEquals(code, 0, out.join("\n"));
  return { dir, group, baselinePath, out };
}

Deno.test("baseline:update from a repeat group records medians, spread and sketches", async () => {
  const { dir, baselinePath, out } = await recordedBaseline();
  try {
    const b = await loadBaseline(baselinePath);
    const d = b.distributions!;
    assertEquals(d.runs, 3);
    assertEquals(d.format, "quantiles-101");
    assertEquals(d.metrics.transcription_latency_seconds!.length, 3);
    assertEquals(d.metrics.transcription_latency_seconds![0]!.count, 120);
    assertEquals(d.metrics.transcription_latency_seconds![0]!.q.length, 101);
    const spread = d.spread!.transcription_latency_seconds_avg!;
    assertEquals(spread.runs.length, 3);
    assertEquals(b.metrics.transcription_latency_seconds_avg, spread.median);
    assert(spread.cv > 0 && spread.cv < 0.1, `cv ${spread.cv}`);
    // Tolerances and keys are kept.
    assertEquals(b.tolerances, OLD_BASELINE.tolerances);
    assertMatch(out.join("\n"), /from 3 run\(s\) with distributions/);
    // Compact: well under 100 kB for 3 runs.
    assert((await Deno.stat(baselinePath)).size < 100_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a single summary drops stale distributions; fault runs are never baselines", async () => {
  const { dir, baselinePath, group } = await recordedBaseline();
  try {
    const err: string[] = [];
    assertEquals(
      await runBaselineUpdate({
        summaryPath: join(group, "run-1", "summary.json"),
        baselinePath,
        out: () => {},
        err: (l) => err.push(l),
      }),
      0,
    );
    assertEquals((await loadBaseline(baselinePath)).distributions, undefined);
    assertMatch(err.join("\n"), /dropped/);
    await writeRun(join(dir, "faulty"), syntheticRun(1.2, 9), {
      meta: { fault_injection: { processing_delay_ms: 200, api_delay_ms: 0 } },
    });
    const e = await rejectsWith(
      () =>
        runBaselineUpdate({
          summaryPath: join(dir, "faulty"),
          baselinePath,
          out: () => {},
          err: () => {},
        }),
      ConfigError,
    );
    assertMatch(e.message, /injected faults/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assert with distributions judges ratio keys by interval", async (t) => {
  const { dir, baselinePath } = await recordedBaseline();
  try {
    const baseline = await loadBaseline(baselinePath);
    const judge = (
      samples: RunSamples | undefined,
      s: RunSamples,
      thresholds = {},
    ) =>
      evaluateRun({
        summary: parseSummary(legacySummaryFor(s, thresholds), "summary.json"),
        summaryFile: "summary.json",
        baseline,
        baselineFile: "baseline.json",
        metadata: JSON.parse(syntheticMetadata({
          duration_seconds: s.get("transcription_latency_seconds")!.length / 2,
        })),
        samples,
      });
    await t.step("the same build passes, every ratio key by interval", () => {
      const s = syntheticRun(1.01, 21);
      const r = judge(s, s);
      assertEquals(r.verdict, "pass", renderTable(r));
      const latency = r.keys.find((k) =>
        k.key === "transcription_latency_seconds_avg"
      )!;
      assert(latency.interval, "judged by interval");
      assert(latency.interval.lo < 1 && latency.interval.hi > 1);
      // The success-rate floor stays a value check.
      assertEquals(
        r.keys.find((k) => k.key === "transcription_success_rate")!.interval,
        undefined,
      );
      assertMatch(renderTable(r), /change \[interval\]/);
    });
    await t.step("a 50 % slower build fails on its latency keys", () => {
      const s = syntheticRun(1.5, 22);
      const r = judge(s, s);
      assertEquals(r.verdict, "regression");
      const latency = r.keys.find((k) =>
        k.key === "transcription_latency_seconds_avg"
      )!;
      assertEquals(latency.pass, false);
      assert(latency.interval!.lo > 1.2, `lo ${latency.interval!.lo}`);
    });
    await t.step(
      "a point value over the allowed value passes when the interval reaches the tolerance",
      () => {
        // 15 % slower with a wide spread: the interval straddles 1.2.
        const s = syntheticRun(1.15, 23, 20);
        const r = judge(s, s);
        const latency = r.keys.find((k) =>
          k.key === "transcription_latency_seconds_avg"
        )!;
        assert(
          latency.interval!.lo <= 1.2 && latency.interval!.hi > 1.2,
          JSON.stringify(latency.interval),
        );
        assertEquals(latency.pass, true);
      },
    );
    await t.step(
      "k6's point threshold on an interval-judged key becomes a warning",
      () => {
        const s = syntheticRun(1.01, 24);
        const entry = entriesOf(baseline, "baseline.json").find((e) =>
          e.key === "transcription_latency_seconds_avg"
        )!;
        const expr = thresholdExpression(entry);
        const r = judge(s, s, {
          transcription_latency_seconds: { [expr]: true },
          http_req_failed: { "rate<0.02": true },
        });
        assertEquals(r.thresholdsFailed, ["http_req_failed: rate<0.02"]);
        assertMatch(
          r.warnings.join("\n"),
          /point value, but the key's interval/,
        );
      },
    );
    await t.step(
      "without samples the keys are judged by value, with a warning",
      () => {
        const r = judge(undefined, syntheticRun(1.01, 25));
        assert(r.keys.every((k) => !k.interval));
        assertMatch(r.warnings.join("\n"), /has no samples/);
      },
    );
    await t.step(
      "an old baseline (no distributions) is judged exactly as before",
      () => {
        const s = syntheticRun(1.01, 26);
        const r = evaluateRun({
          summary: parseSummary(legacySummaryFor(s), "summary.json"),
          summaryFile: "summary.json",
          baseline: parseBaseline(JSON.stringify(OLD_BASELINE), "old.json"),
          baselineFile: "old.json",
          metadata: JSON.parse(syntheticMetadata()),
          samples: s,
        });
        assert(r.keys.every((k) => !k.interval));
        assert(!renderTable(r).includes("interval"));
      },
    );
    await t.step("runAssert finds the samples beside the summary", async () => {
      const run = await writeRun(join(dir, "slow"), syntheticRun(1.5, 27));
      const out: string[] = [];
      const { code, result } = await runAssert({
        summaryPath: join(run, "summary.json"),
        baselinePath,
        env: () => undefined,
        out: (l) => out.push(l),
        err: () => {},
      });
      assertEquals(code, 1);
      assert(result.keys.some((k) => k.interval && !k.pass));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
