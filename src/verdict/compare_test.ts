import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../testing/assert.ts";
import { join } from "node:path";
import { ConfigError } from "../errors/mod.ts";
import { ratioInterval, rng, statistic } from "./bootstrap.ts";
import { compareSamples, judge, loadArchive, SAMPLES_FILE } from "./compare.ts";
import { readK6Samples } from "./samples.ts";
import { renderHtml, renderMarkdown, renderTable } from "./render.ts";

/** Log-normal-ish latencies around `median` seconds. */
function latencies(n: number, median: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(r() || 1e-9)) *
      Math.cos(2 * Math.PI * r());
    return median * Math.exp(0.15 * z);
  });
}

function run(median: number, seed: number, n = 300) {
  return new Map([
    ["transcription_latency_seconds", latencies(n, median, seed)],
    ["transcription_success_rate", Array.from({ length: n }, () => 1)],
  ]);
}

Deno.test("statistic computes mean, median and percentiles", () => {
  assertEquals(statistic([3, 1, 2], "median"), 2);
  assertEquals(statistic([1, 2, 3, 4], "mean"), 2.5);
  assertEquals(
    statistic([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], "p95"),
    95,
  );
  assert(Number.isNaN(statistic([], "p95")));
});

Deno.test("ratioInterval is reproducible for a seed and covers the true ratio", () => {
  const a = [latencies(400, 1, 1)];
  const b = [latencies(400, 1.2, 2)];
  const x = ratioInterval(a, b, "median", { seed: 7 });
  const y = ratioInterval(a, b, "median", { seed: 7 });
  assertEquals(x, y);
  assert(x.lo < 1.2 && x.hi > 1.2, `[${x.lo}, ${x.hi}]`);
  assert(x.lo > 1.1, "a 20 % slowdown is detected");
});

Deno.test("compare: A vs A shows no regression, A vs A+30 % does, A vs A−30 % is faster", async (t) => {
  const specs = [{
    key: "latency p95",
    metric: "transcription_latency_seconds",
    stat: "p95" as const,
    unit: "s",
    direction: "lower_is_better" as const,
    tolerance: 1.1,
  }];
  await t.step("A vs A", () => {
    const c = compareSamples({ label: "a", runs: [run(1, 1), run(1, 2)] }, {
      label: "b",
      runs: [run(1, 3), run(1, 4)],
    }, { specs });
    assertEquals(c.rows[0]!.regression, false);
    assertEquals(c.regression, false);
  });
  await t.step("A vs A+30 %", () => {
    const c = compareSamples({ label: "a", runs: [run(1, 1)] }, {
      label: "b",
      runs: [run(1.3, 2)],
    }, { specs });
    assertEquals(c.rows[0]!.verdict, "slower");
    assertEquals(c.rows[0]!.regression, true);
    assert(renderTable(c).includes("REGRESSION"));
    assert(renderMarkdown(c).includes("| latency p95 |"));
    assert(renderHtml(c).includes("<svg"));
  });
  await t.step("A vs A−30 %", () => {
    const c = compareSamples({ label: "a", runs: [run(1, 1)] }, {
      label: "b",
      runs: [run(0.7, 2)],
    }, { specs });
    assertEquals(c.rows[0]!.verdict, "faster");
    assertEquals(c.regression, false);
  });
});

Deno.test("paired runs: the machine's drift drops out of the interval", async (t) => {
  // The machine runs 25 % slower in some minutes than in others; every B run
  // was measured right after its A run, 10 % slower than it.
  const drift = [1, 1.25, 0.95, 1.2, 1, 1.25];
  const a = drift.map((d, i) => latencies(150, d, i + 1));
  const b = drift.map((d, i) => latencies(150, d * 1.1, i + 50));
  const unpaired = ratioInterval(a, b, "median", { seed: 3 });
  const paired = ratioInterval(a, b, "median", { seed: 3, paired: true });
  await t.step("same point ratio, a much narrower interval", () => {
    assertEquals(paired.ratio, unpaired.ratio);
    assert(
      paired.hi - paired.lo < (unpaired.hi - unpaired.lo) / 2,
      `paired [${paired.lo}, ${paired.hi}] unpaired [${unpaired.lo}, ${unpaired.hi}]`,
    );
    assert(
      paired.lo > 1.05 && paired.hi < 1.16,
      `[${paired.lo}, ${paired.hi}]`,
    );
    assert(unpaired.lo < 1.02, `unpaired ${unpaired.lo} can't tell`);
  });
  await t.step("compareSamples judges pairs with the paired tolerance", () => {
    const runs = (x: number[][]) =>
      x.map((v) => new Map([["transcription_latency_seconds", v]]));
    const c = compareSamples({ label: "a", runs: runs(a) }, {
      label: "b",
      runs: runs(b),
    }, { paired: true, seed: 3 });
    assertEquals(c.paired, true);
    const row = c.rows.find((r) =>
      r.spec.key === "transcription_latency_seconds median"
    )!;
    assertEquals(row.spec.tolerance, 1.05);
    assertEquals(row.regression, true);
    // Unpaired, the same runs are no detectable change at tolerance 1.1.
    const u = compareSamples({ label: "a", runs: runs(a) }, {
      label: "b",
      runs: runs(b),
    }, { seed: 3 });
    assertEquals(u.regression, false);
  });
  await t.step("pairs need as many runs a side", () => {
    assert(
      assertThrows(() =>
        ratioInterval(a, b.slice(1), "median", { paired: true })
      ) instanceof RangeError,
    );
    const err = assertThrows(() =>
      compareSamples(
        { label: "old", runs: [run(1, 1), run(1, 2)] },
        { label: "new", runs: [run(1, 3)] },
        { paired: true },
      )
    );
    assert(err instanceof ConfigError);
    assertMatch(err.message, /old has 2, new 1/);
  });
});

Deno.test("judge handles rates where higher is better", () => {
  const s = { direction: "higher_is_better" as const, tolerance: 1.01 };
  const iv = { ratio: 0.9, lo: 0.85, hi: 0.95, a: 1, b: 0.9, nA: 1, nB: 1 };
  assertEquals(judge(iv, s), { verdict: "slower", regression: true });
  assertEquals(judge({ ...iv, ratio: 1, lo: 1, hi: 1 }, s), {
    verdict: "no detectable change",
    regression: false,
  });
});

Deno.test("readK6Samples reads k6 JSON lines (gzip) and archives of repeats", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = [
      '{"type":"Metric","data":{"name":"transcription_latency_seconds","type":"trend"},"metric":"transcription_latency_seconds"}',
      '{"metric":"transcription_latency_seconds","type":"Point","data":{"time":"2026-11-29T10:00:00Z","value":1.02,"tags":{}}}',
      '{"type":"Point","metric":"transcription_latency_seconds","data":{"time":"2026-11-29T10:00:01Z","value":1.5,"tags":{}}}',
      '{"type":"Point","metric":"vus","data":{"time":"2026-11-29T10:00:01Z","value":3,"tags":{}}}',
    ].join("\n") + "\n";
    for (const name of ["run-1", "run-2"]) {
      await Deno.mkdir(join(dir, name));
      const gz = new Blob([lines]).stream().pipeThrough(
        new CompressionStream("gzip"),
      );
      await Deno.writeFile(join(dir, name, SAMPLES_FILE), gz);
    }
    const one = await readK6Samples(join(dir, "run-1", SAMPLES_FILE));
    assertEquals(one.get("transcription_latency_seconds"), [1.02, 1.5]);
    assertEquals(one.has("vus"), false);
    const archive = await loadArchive(dir);
    assertEquals(archive.runs.length, 2);
    const err = await assertRejects(() => loadArchive(join(dir, "nope")));
    assert(err instanceof ConfigError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
