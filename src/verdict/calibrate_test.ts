import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../testing/assert.ts";
import { syntheticRun } from "./_testing.ts";
import { calibrate, renderCalibration, suggestTolerance } from "./calibrate.ts";
import type { CompareSpec } from "./compare.ts";
import { verdictRates } from "./verdict_rates.ts";

const LATENCY: CompareSpec = {
  key: "transcription_latency_seconds median",
  metric: "transcription_latency_seconds",
  stat: "median",
  unit: "s",
  direction: "lower_is_better",
  tolerance: 1.1,
};

Deno.test("suggestTolerance covers 2.33·√2·CV minus the half-width and the worst A-vs-A lower end", () => {
  assertEquals(suggestTolerance(0, 0, 1), 1.05);
  assertEquals(suggestTolerance(0.01, 0, 1), 1.05); // 1.033 → 1.05
  assertEquals(suggestTolerance(0.05, 0, 1), 1.2); // 1.165 → 1.20
  assertEquals(suggestTolerance(0.05, 0.06, 1), 1.15); // 1.105 → 1.15
  assertEquals(suggestTolerance(0.01, 0, 1.21), 1.25);
});

Deno.test("calibrate measures run-to-run noise of synthetic runs with a known spread", async (t) => {
  // Run medians drift by a known ±5 % around 1 s.
  const drift = [1, 1.05, 0.95, 1.02, 0.98, 1.04];
  const runs = drift.map((m, i) => syntheticRun(m, i + 1, 200));
  const c = calibrate(runs, { specs: [LATENCY], resamples: 500 });
  const row = c.rows[0]!;
  await t.step("per-run statistics and CV", () => {
    assertEquals(row.perRun.length, 6);
    assert(row.cv > 0.02 && row.cv < 0.07, `cv ${row.cv}`);
  });
  await t.step("A-vs-A intervals of consecutive runs", () => {
    assertEquals(row.widths.length, 5);
    assert(
      row.medianWidth > 0.01 && row.medianWidth < 0.15,
      `${row.medianWidth}`,
    );
    // The largest step is 1.05 → 0.95 (×0.905, i.e. 1.105 "worse").
    assert(row.worstRatio > 1.05 && row.worstRatio < 1.2, `${row.worstRatio}`);
    assert(row.worstLo < row.worstRatio, `${row.worstLo}`);
  });
  await t.step("the suggestion leaves room for the noise", () => {
    assert(
      row.suggested >=
        1 + 2.33 * Math.SQRT2 * row.cv - row.medianWidth / 2 - 1e-9,
    );
    assert(row.suggested >= row.worstLo);
    assert(row.detectable > row.suggested);
    assertEquals(Math.round(row.suggested * 20), row.suggested * 20);
  });
  await t.step("the noise left for paired comparisons", () => {
    // ln of consecutive per-run ratios: their sd, as computed by hand.
    const l = row.perRun.slice(1).map((v, i) => Math.log(v / row.perRun[i]!));
    const mean = l.reduce((x, y) => x + y) / l.length;
    const sd = Math.sqrt(
      l.reduce((x, y) => x + (y - mean) ** 2, 0) / (l.length - 1),
    );
    assert(Math.abs(row.pairSd - sd) < 1e-12, `${row.pairSd} vs ${sd}`);
    // Steps of −10 % … +7 % between neighbours: an sd of several percent.
    assert(row.pairSd > 0.03 && row.pairSd < 0.12, `${row.pairSd}`);
    assertEquals(c.pairs, 5);
    // LATENCY has no paired tolerance of its own: its 1.1 is used.
    const expected = 1.1 * Math.exp(3.605 * sd / Math.sqrt(5));
    assert(
      Math.abs(row.pairedDetects - expected) < 1e-9,
      `${row.pairedDetects}`,
    );
    assertMatch(renderCalibration(c), /paired ×5 detects/);
  });
  await t.step("a quiet machine gets the minimum suggestion", () => {
    const quiet = [1, 2, 3].map((i) => syntheticRun(1, i, 400));
    const q = calibrate(quiet, { specs: [LATENCY], resamples: 500 }).rows[0]!;
    assert(q.cv < 0.02, `${q.cv}`);
    assertEquals(q.falseAlarms, 0);
    assertEquals(q.suggested, 1.05);
  });
  await t.step("the report names every column", () => {
    const text = renderCalibration(c);
    assertMatch(text, /calibration over 6 runs/);
    assertMatch(text, /transcription_latency_seconds median/);
    assertMatch(text, /suggested/);
  });
});

Deno.test("verdictRates counts A-vs-A false alarms and A-vs-B detections", () => {
  const a = Array.from({ length: 6 }, (_, i) => syntheticRun(1, i + 1, 150));
  const b = Array.from(
    { length: 5 },
    (_, i) => syntheticRun(1.2, i + 100, 150),
  );
  const r = verdictRates(a, b, { specs: [LATENCY], resamples: 400 });
  assertEquals(r.aaPairs, 5);
  assertEquals(r.abPairs, 5);
  assertEquals(r.falseAlarmRate, 0);
  assertEquals(r.detectionRate, 1);
  assertEquals(r.byKey.get(LATENCY.key)?.detections, 5);
  // A slowdown below the tolerance is not a regression.
  const small = Array.from(
    { length: 5 },
    (_, i) => syntheticRun(1.03, i + 200, 150),
  );
  assertEquals(
    verdictRates(a, small, { specs: [LATENCY], resamples: 400 }).detectionRate,
    0,
  );
});

Deno.test("verdictRates in windows of runs: counts, and run-to-run noise a single pair can't see", () => {
  // Run effects of ±8 % (the machine's drift), 150 iterations a run.
  const effect = [1, 1.08, 0.93, 1.05, 0.95, 1.1, 0.97, 1.02, 0.94, 1.06];
  const a = effect.map((e, i) => syntheticRun(e, i + 1, 150));
  const b = effect.slice(0, 8).map((e, i) =>
    syntheticRun(e * 1.25, i + 300, 150)
  );
  const single = verdictRates(a, b, { specs: [LATENCY], resamples: 400 });
  assertEquals(single.group, 1);
  assertEquals(single.aaPairs, 9);
  // 1.08 → 0.93 is fine, 0.93 → 1.05 (+13 %) and 0.95 → 1.1 (+16 %) alarm.
  assert(single.falseAlarmRate > 0, `${single.falseAlarmRate}`);
  const grouped = verdictRates(a, b, {
    specs: [LATENCY],
    resamples: 400,
    group: 3,
  });
  assertEquals(grouped.group, 3);
  assertEquals(grouped.aaPairs, 10 - 6 + 1);
  assertEquals(grouped.abPairs, 8 - 3 + 1);
  assertEquals(grouped.falseAlarmRate, 0);
  assertEquals(grouped.detectionRate, 1);
  assert(
    assertThrows(() => verdictRates(a, b, { group: 0 })) instanceof RangeError,
  );
});

Deno.test("verdictRates paired: a machine that changes speed between windows alarms unpaired, not paired", () => {
  // Four runs at one speed, then four 15 % slower, …: each B run measured
  // right after its A run, 20 % slower than it.
  const speed = (i: number) => (Math.floor(i / 4) % 2 === 0 ? 1 : 1.15);
  const a = Array.from({ length: 16 }, (_, i) => syntheticRun(speed(i), i + 1));
  const b = Array.from(
    { length: 12 },
    (_, i) => syntheticRun(speed(i) * 1.2, i + 500),
  );
  const options = { specs: [LATENCY], resamples: 400, group: 3 };
  const unpaired = verdictRates(a, b, options);
  const paired = verdictRates(a, b, { ...options, paired: true });
  // Unpaired, A1-3 vs A4-6 straddles the change of speed.
  assert(
    unpaired.falseAlarmRate * unpaired.aaPairs >= 2,
    `${unpaired.falseAlarmRate}`,
  );
  assertEquals(paired.falseAlarmRate, 0);
  assertEquals(paired.detectionRate, 1);
  // Windows of 2·group A runs (odd vs even) and group pairs of A and B.
  assertEquals(paired.aaPairs, 16 - 6 + 1);
  assertEquals(paired.abPairs, 12 - 3 + 1);
});
