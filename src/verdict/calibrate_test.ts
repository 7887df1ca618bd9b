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
