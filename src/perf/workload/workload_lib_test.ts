/** The k6 workload scenario's pure helpers (perf/lib/workload.js). */
import { assert, assertEquals } from "../../testing/assert.ts";
import {
  classThresholds,
  pollBudget,
  weightedCycle,
  wordErrorRate,
} from "../../../perf/lib/workload.js";
import { baselineThresholds } from "../../../perf/lib/thresholds.js";

Deno.test("weightedCycle picks each class weight times per cycle, spread out", async (t) => {
  await t.step("the mixed weights", () => {
    const cycle = weightedCycle([90, 7, 2, 1]);
    assertEquals(cycle.length, 100);
    const count = (i: number) => cycle.filter((c) => c === i).length;
    assertEquals([count(0), count(1), count(2), count(3)], [90, 7, 2, 1]);
    // Spread: the 15 s class never comes twice within 10 iterations, and
    // the two 2 min recordings are at least 40 apart.
    const at = (i: number) => cycle.flatMap((c, n) => (c === i ? [n] : []));
    const gaps15 = at(1).slice(1).map((n, k) => n - at(1)[k]!);
    assert(gaps15.every((g) => g >= 10), `15s gaps ${gaps15}`);
    const [a, b] = at(2);
    assert(b! - a! >= 40, `2min at ${at(2)}`);
  });
  await t.step("two classes 2:1", () => {
    assertEquals(weightedCycle([2, 1]), [0, 1, 0]);
  });
  await t.step("bad weights", () => {
    for (const w of [[], [0], [1.5], [-1, 2]]) {
      let threw = false;
      try {
        weightedCycle(w);
      } catch {
        threw = true;
      }
      assert(threw, `weights ${JSON.stringify(w)} refused`);
    }
  });
});

Deno.test("pollBudget grows with the class's audio", () => {
  assertEquals(pollBudget(40, 1, 1.1), 41);
  assertEquals(pollBudget(40, 1, 480), 88);
  assertEquals(pollBudget(6, 5, 480), 6 + 10);
  assertEquals(pollBudget(40, 0, 10), 41);
});

Deno.test("wordErrorRate counts substitutions, deletions and insertions", () => {
  assertEquals(wordErrorRate("Open the door.", " open the door"), 0);
  assertEquals(wordErrorRate("open the door", "open a door"), 1 / 3);
  assertEquals(wordErrorRate("open the door", "open door"), 1 / 3);
  assertEquals(
    wordErrorRate("open the door", "please open the door now"),
    2 / 3,
  );
  assertEquals(wordErrorRate("open the door", ""), 1);
  assertEquals(wordErrorRate("", ""), 0);
});

Deno.test("classThresholds names every class's submetrics with bounds that hold", () => {
  const t = classThresholds(["1s", "8min"]);
  assertEquals(t["transcription_latency_seconds{class:8min}"], ["max>=0"]);
  assertEquals(t["transcription_success_rate{class:1s}"], ["rate>=0"]);
  assertEquals(t["transcription_word_error_rate{class:1s}"], ["max>=0"]);
  assertEquals(Object.keys(t).length, 2 * 7);
});

Deno.test("baselineThresholds takes only the run's workload's keys", () => {
  const baseline = JSON.stringify({
    metrics: {
      transcription_latency_seconds_p95: 1,
      mixed_2min_latency_p95: 10,
    },
    tolerances: {
      transcription_latency_seconds_p95: 1.2,
      mixed_2min_latency_p95: 1.5,
    },
    definitions: {
      mixed_2min_latency_p95: {
        metric: "transcription_latency_seconds{class:2min}",
        stat: "p(95)",
        unit: "s",
        direction: "lower_is_better",
        kind: "ratio",
        workload: "mixed",
      },
    },
  });
  const sample = baselineThresholds(() => baseline, "b.json", "native");
  assertEquals(sample.transcription_latency_seconds, ["p(95)<=1.2"]);
  assertEquals(sample["transcription_latency_seconds{class:2min}"], undefined);
  const mixed = baselineThresholds(() => baseline, "b.json", "native", "mixed");
  assertEquals(mixed.transcription_latency_seconds, undefined);
  assertEquals(mixed["transcription_latency_seconds{class:2min}"], [
    "p(95)<=15",
  ]);
});
