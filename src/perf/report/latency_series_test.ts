import { assertEquals } from "../../testing/assert.ts";
import {
  ALL,
  bucketSeconds,
  byClass,
  cdf,
  percentileOverTime,
} from "./latency_series.ts";
import type { TimedValue } from "./timed_samples.ts";

Deno.test("byClass groups samples by class, in the given order, then shortest median first", () => {
  const s: TimedValue[] = [
    { at: 0, value: 40, class: "8min" },
    { at: 1, value: 1, class: "1s" },
    { at: 2, value: 9, class: "2min" },
    { at: 3, value: 1.2, class: "1s" },
  ];
  const g = byClass(s);
  assertEquals([...g.keys()], ["1s", "2min", "8min"]);
  assertEquals(g.get("1s")!.map((x) => x.value), [1, 1.2]);
  assertEquals([...byClass([{ at: 0, value: 3 }]).keys()], [ALL]);
  // A given order wins; classes it doesn't name follow by median.
  assertEquals([...byClass(s, ["8min"]).keys()], ["8min", "1s", "2min"]);
});

Deno.test("cdf gives each value, scaled, with the share at or below it", () => {
  assertEquals(cdf([300, 100, 200, 400], 1 / 1000), [
    [0.1, 0.25],
    [0.2, 0.5],
    [0.3, 0.75],
    [0.4, 1],
  ]);
  assertEquals(cdf([]), []);
});

Deno.test("bucketSeconds grows with the run", () => {
  assertEquals(bucketSeconds(20), 5);
  assertEquals(bucketSeconds(300), 5);
  assertEquals(bucketSeconds(1200), 10);
  assertEquals(bucketSeconds(3600), 20);
  assertEquals(bucketSeconds(8 * 3600), 160);
});

Deno.test("percentileOverTime summarizes each stretch at its middle", () => {
  const origin = Date.parse("2026-12-06T10:00:00Z");
  const at = (s: number) => origin + s * 1000;
  const samples: TimedValue[] = [
    // 0–5 s: 100, 200, 300 ms; 5–10 s: nothing; 10–15 s: 1000 ms.
    { at: at(0.5), value: 100 },
    { at: at(4.9), value: 300 },
    { at: at(2), value: 200 },
    { at: at(12), value: 1000 },
  ];
  assertEquals(
    percentileOverTime(samples, {
      originMs: origin,
      bucketS: 5,
      p: 50,
      scale: 1 / 1000,
    }),
    [[2.5, 0.2], [12.5, 1]],
  );
  assertEquals(
    percentileOverTime(samples, { originMs: origin, bucketS: 5, p: 100 }),
    [[2.5, 300], [12.5, 1000]],
  );
});
