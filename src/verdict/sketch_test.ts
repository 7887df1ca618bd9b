import { assert, assertEquals } from "../testing/assert.ts";
import { ratioInterval, rng, statistic } from "./bootstrap.ts";
import {
  DistributionsSchema,
  runsFromDistributions,
  sketchRuns,
  statForK6,
} from "./distributions.ts";
import {
  expandSketch,
  SKETCH_QUANTILES,
  sketchOf,
  sketchQuantile,
  spreadOf,
  suggestToleranceForTest,
} from "./_sketch_testing.ts";

function lognormal(n: number, median: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(r() || 1e-9)) *
      Math.cos(2 * Math.PI * r());
    return median * Math.exp(0.2 * z);
  });
}

Deno.test("sketchOf keeps 101 quantiles, the count and the mean", () => {
  const values = Array.from({ length: 1001 }, (_, i) => i);
  const s = sketchOf(values);
  assertEquals(s.q.length, SKETCH_QUANTILES);
  assertEquals(s.count, 1001);
  assertEquals(s.mean, 500);
  assertEquals(s.q[0], 0);
  assertEquals(s.q[50], 500);
  assertEquals(s.q[100], 1000);
  assertEquals(sketchQuantile(s, 0.955), 955);
});

Deno.test("expandSketch reproduces the statistics of the original samples", async (t) => {
  const values = lognormal(400, 1, 3);
  const pseudo = expandSketch(sketchOf(values));
  assertEquals(pseudo.length, 400);
  for (const stat of ["mean", "median", "p90", "p95"] as const) {
    await t.step(stat, () => {
      const a = statistic([...values], stat);
      const b = statistic([...pseudo], stat);
      assert(Math.abs(b / a - 1) < 0.02, `${stat}: ${a} vs ${b}`);
    });
  }
  await t.step("a 0/1 rate is expanded exactly", () => {
    const rate = [...Array(97).fill(1), ...Array(3).fill(0)];
    const e = expandSketch(sketchOf(rate));
    assertEquals(statistic(e, "rate"), 0.97);
  });
});

Deno.test("bootstrap from sketches gives the same verdict as from raw samples", () => {
  const base = [
    lognormal(300, 1, 1),
    lognormal(300, 1.02, 2),
    lognormal(300, 0.99, 3),
  ];
  const slower = [lognormal(300, 1.3, 4)];
  const same = [lognormal(300, 1, 5)];
  const fromSketch = base.map((r) => expandSketch(sketchOf(r)));
  for (const [b, regression] of [[slower, true], [same, false]] as const) {
    const raw = ratioInterval(base, b, "median", { seed: 3 });
    const sk = ratioInterval(fromSketch, b, "median", { seed: 3 });
    assertEquals(raw.lo > 1.1, regression);
    assertEquals(sk.lo > 1.1, regression);
    assert(
      Math.abs(raw.ratio - sk.ratio) < 0.02,
      `${raw.ratio} vs ${sk.ratio}`,
    );
  }
});

Deno.test("ratioInterval borrows run-to-run noise for a single-run side", () => {
  // Three baseline runs whose medians differ by ±10 %: one new run must get
  // a wider interval than within-run noise alone gives.
  const a = [
    lognormal(300, 0.9, 1),
    lognormal(300, 1, 2),
    lognormal(300, 1.1, 3),
  ];
  const b = [lognormal(300, 1, 4)];
  const plain = ratioInterval(a, b, "median", { borrowRunNoise: false });
  const borrowed = ratioInterval(a, b, "median");
  assert(
    borrowed.hi - borrowed.lo > (plain.hi - plain.lo) * 1.3,
    `borrowed [${borrowed.lo}, ${borrowed.hi}] vs plain [${plain.lo}, ${plain.hi}]`,
  );
});

Deno.test("distributions round-trip through the baseline schema", () => {
  const runs = [1, 2].map((seed) =>
    new Map([
      ["transcription_latency_seconds", lognormal(50, 1, seed)],
      ["transcription_success_rate", Array(50).fill(1)],
      ["server_processing_ms", [] as number[]],
    ])
  );
  const d = {
    format: "quantiles-101" as const,
    runs: 2,
    metrics: sketchRuns(runs),
    spread: { k: spreadOf([1, 1.1]) },
  };
  assertEquals(Object.keys(d.metrics).sort(), [
    "transcription_latency_seconds",
    "transcription_success_rate",
  ]);
  const parsed = DistributionsSchema.parse(JSON.parse(JSON.stringify(d)));
  const back = runsFromDistributions(parsed);
  assertEquals(back.length, 2);
  assertEquals(back[0]!.get("transcription_latency_seconds")!.length, 50);
  assertEquals(statForK6("p(95)"), "p95");
  assertEquals(statForK6("max"), undefined);
  assertEquals(
    DistributionsSchema.safeParse({ ...d, format: "other" }).success,
    false,
  );
});

Deno.test("spreadOf gives median, range and CV across runs", () => {
  const s = spreadOf([1, 1.1, 0.9]);
  assertEquals(s.median, 1);
  assertEquals(s.min, 0.9);
  assertEquals(s.max, 1.1);
  assertEquals(s.cv, 0.1);
  assertEquals(spreadOf([2]).cv, 0);
  assertEquals(suggestToleranceForTest(0, 0, 1), 1.05);
});
