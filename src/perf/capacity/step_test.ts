import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import { join } from "node:path";
import { ConfigError } from "../../errors/mod.ts";
import {
  CRITERIA,
  criteriaFor,
  judgeStep,
  measureStep,
  readCompletions,
  type StepMeasure,
  vusFor,
} from "./step.ts";
import { parseSummary } from "../summary.ts";
import { SCENARIOS } from "../scenarios.ts";

function summary(passes: number, fails: number, dropped?: number) {
  const metrics: Record<string, Record<string, number>> = {
    transcription_success_rate: {
      passes,
      fails,
      value: passes / (passes + fails),
    },
    iterations: { count: passes + fails, rate: 1 },
  };
  if (dropped !== undefined) {
    metrics.dropped_iterations = { count: dropped, rate: 0.1 };
  }
  return parseSummary(JSON.stringify({ metrics }), "summary.json");
}

/** `n` completions `gapS` apart with the given latency. */
function completions(n: number, gapS: number, latency: (i: number) => number) {
  const t0 = Date.parse("2026-11-29T12:00:00Z");
  return {
    atMs: Array.from({ length: n }, (_, i) => t0 + i * gapS * 1000),
    latencyS: Array.from({ length: n }, (_, i) => latency(i)),
  };
}

Deno.test("measureStep counts the scenario's own success Rate", () => {
  const metrics = {
    openai_success_rate: { passes: 38, fails: 2, value: 0.95 },
    transcription_success_rate: { passes: 1, fails: 0, value: 1 },
  };
  const m = measureStep(
    2,
    20,
    parseSummary(JSON.stringify({ metrics }), "summary.json"),
    completions(38, 0.5, () => 0.2),
    SCENARIOS.openai.success,
  );
  assertEquals([m.completed, m.failed], [38, 2]);
  assertEquals(m.successRate, 38 / 40);
});

Deno.test("measureStep counts dropped and missing iterations as failures", async (t) => {
  await t.step("a clean step", () => {
    const m = measureStep(
      4,
      20,
      summary(80, 0),
      completions(80, 0.25, () => 0.3),
    );
    assertEquals(m.offered, 80);
    assertEquals(m.successRate, 1);
    assertEquals(m.throughput, 4);
    assertEquals(m.latency, { p50: 0.3, p95: 0.3, p99: 0.3 });
  });
  await t.step("dropped iterations lower the success rate", () => {
    const m = measureStep(
      4,
      20,
      summary(78, 0, 2),
      completions(78, 0.25, () => 0.3),
    );
    assertEquals(m.dropped, 2);
    assertEquals(m.successRate, 78 / 80);
  });
  await t.step(
    "iterations that never reported count against the offered",
    () => {
      const m = measureStep(
        4,
        20,
        summary(70, 1),
        completions(70, 0.25, () => 0.3),
      );
      assertEquals(m.successRate, 70 / 80);
    },
  );
  await t.step("latency percentiles come from the completions", () => {
    const m = measureStep(
      5,
      20,
      summary(100, 0),
      completions(100, 0.2, (i) => (i + 1) / 100),
    );
    assertEquals(m.latency.p50, 0.505);
    assert(Math.abs(m.latency.p95! - 0.9505) < 1e-9);
    assert(Math.abs(m.latency.p99! - 0.9901) < 1e-9);
  });
  await t.step("throughput ignores one slow first or last job", () => {
    const c = completions(80, 0.25, () => 0.3);
    c.atMs[79] = c.atMs[79]! + 3000; // the last job took 3 s longer
    const m = measureStep(4, 20, summary(80, 0), c);
    assert(Math.abs(m.throughput! - 4) < 1e-9, `${m.throughput}`);
  });
  await t.step("at overload the throughput is the drain rate", () => {
    // 10 jobs/s offered for 20 s, completed 8 a second.
    const m = measureStep(
      10,
      20,
      summary(200, 0),
      completions(200, 0.125, (i) => 0.2 + i * 0.025),
    );
    assert(Math.abs(m.throughput! - 8) < 1e-9, `${m.throughput}`);
    assertMatch(judgeStep(m).reasons.join(), /done 8\.00\/s < 9\.70\/s/);
  });
  await t.step("no completions: no latency, no throughput", () => {
    const m = measureStep(4, 20, summary(0, 80), { atMs: [], latencyS: [] });
    assertEquals(m.latency, { p50: null, p95: null, p99: null });
    assertEquals(m.throughput, null);
    assertEquals(m.successRate, 0);
  });
});

Deno.test("criteriaFor allows latency noise of 0.5 s worth of a short step", () => {
  assertEquals(CRITERIA, criteriaFor(20));
  assertEquals(criteriaFor(20), {
    minSuccessRate: 0.999,
    maxLatencyP95S: 2,
    minThroughputRatio: 0.97,
  });
  assertEquals(criteriaFor(60).minThroughputRatio, 0.97);
  assertEquals(criteriaFor(5).minThroughputRatio, 0.9);
});

Deno.test("judgeStep applies success ≥ 99.9 %, p95 ≤ 2 s and keeping up", () => {
  const base: StepMeasure = {
    rate: 10,
    seconds: 20,
    offered: 200,
    completed: 200,
    failed: 0,
    dropped: 0,
    successRate: 1,
    throughput: 10,
    latency: { p50: 0.3, p95: 2, p99: 2.5 },
  };
  assertEquals(judgeStep(base), { pass: true, reasons: [] });
  const slow = judgeStep({ ...base, latency: { ...base.latency, p95: 2.01 } });
  assertEquals(slow.pass, false);
  assertMatch(slow.reasons.join(), /p95 2\.01 s > 2 s/);
  const dropped = judgeStep({ ...base, dropped: 1, successRate: 199 / 200 });
  assertEquals(dropped.pass, false);
  assertMatch(
    dropped.reasons.join(),
    /success 99\.5 % < 99\.9 % \(1 dropped\)/,
  );
  const none = judgeStep({
    ...base,
    completed: 0,
    successRate: 0,
    latency: { p50: null, p95: null, p99: null },
  });
  assertMatch(none.reasons.join(), /no job completed/);
  assertEquals(judgeStep({ ...base, throughput: 9.7 }).pass, true);
  const behind = judgeStep({ ...base, throughput: 9.6 });
  assertEquals(behind.pass, false);
  assertMatch(
    behind.reasons.join(),
    /done 9\.60\/s < 9\.70\/s: the backlog grows/,
  );
});

Deno.test("readCompletions reads latency points with their times from k6 JSON lines", async (t) => {
  const dir = await Deno.makeTempDir();
  const lines = [
    '{"type":"Metric","data":{"name":"transcription_latency_seconds","type":"trend"},"metric":"transcription_latency_seconds"}',
    '{"metric":"transcription_latency_seconds","type":"Point","data":{"time":"2026-11-29T12:07:10.305790146Z","value":1.049,"tags":{}}}',
    '{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-29T12:07:10.4Z","value":3.2,"tags":{}}}',
    '{"metric":"transcription_latency_seconds","type":"Point","data":{"time":"2026-11-29T13:07:11.5+01:00","value":0.5,"tags":{}}}',
  ].join("\n") + "\n";
  await t.step("plain", async () => {
    const path = join(dir, "samples.json");
    await Deno.writeTextFile(path, lines);
    const c = await readCompletions(path);
    assertEquals(c.latencyS, [1.049, 0.5]);
    assertEquals(c.atMs[1]! - c.atMs[0]!, 1195);
  });
  await t.step("gzip", async () => {
    const path = join(dir, "samples.json.gz");
    const gz = await new Response(
      new Blob([lines]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    await Deno.writeFile(path, new Uint8Array(gz));
    assertEquals((await readCompletions(path)).latencyS, [1.049, 0.5]);
  });
  await t.step(
    "the OpenAI scenario's request durations, ms made s",
    async () => {
      const path = join(dir, "openai.json");
      await Deno.writeTextFile(
        path,
        lines + [
          '{"metric":"openai_request_duration_ms","type":"Point","data":{"time":"2026-11-29T12:07:12Z","value":250,"tags":{}}}',
          '{"metric":"openai_server_processing_ms","type":"Point","data":{"time":"2026-11-29T12:07:12Z","value":90,"tags":{}}}',
          '{"metric":"openai_request_duration_ms","type":"Point","data":{"time":"2026-11-29T12:07:13.5Z","value":1500,"tags":{}}}',
        ].join("\n") + "\n",
      );
      const c = await readCompletions(path, SCENARIOS.openai.latency);
      // Neither the native latency nor another openai_* metric counts.
      assertEquals(c.latencyS, [0.25, 1.5]);
      assertEquals(c.atMs[1]! - c.atMs[0]!, 1500);
    },
  );
  await t.step("a missing file is a ConfigError naming it", async () => {
    const path = join(dir, "nope.json.gz");
    const error = await readCompletions(path).catch((e) => e);
    assert(error instanceof ConfigError);
    assertMatch(error.message, /nope\.json\.gz: cannot read samples/);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vusFor leaves room for 2 s latencies", () => {
  for (const rate of [0.5, 4, 13.5, 40]) {
    const v = vusFor(rate);
    assert(v.vus >= rate * 2 && v.maxVus >= v.vus && v.maxVus >= rate * 6);
  }
});
