import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import type { AssertResult } from "../baseline/mod.ts";
import { tableRows } from "./_testing.ts";
import { verdictSection } from "./verdict_section.ts";

const RESULT: AssertResult = {
  verdict: "regression",
  scenario: { api: "native", from: "metadata.json (api)" },
  keys: [
    {
      key: "transcription_latency_seconds_p95",
      definition: {
        metric: "transcription_latency_seconds",
        stat: "p(95)",
        unit: "s",
        direction: "lower_is_better",
        kind: "ratio",
      },
      baseline: 1.021,
      tolerance: 1.2,
      allowed: 1.2252,
      actual: 1.463,
      margin: 0.05,
      pass: true,
      interval: { ratio: 1.433, lo: 1.14, hi: 1.87, confidence: 0.95 },
    },
    {
      key: "transcription_success_rate",
      definition: {
        metric: "transcription_success_rate",
        stat: "rate",
        unit: "ratio",
        direction: "higher_is_better",
        kind: "floor",
      },
      baseline: 1,
      tolerance: 0.99,
      allowed: 0.99,
      actual: 0.95,
      margin: -0.04,
      pass: false,
    },
  ],
  skipped: [{
    key: "openai_success_rate",
    scenario: "openai",
    workload: "sample",
  }],
  thresholdsFailed: ["dropped_iterations: count<1"],
  warnings: ["the run's environment differs from the baseline's"],
  thresholdsCovered: true,
};

Deno.test("verdictSection tabulates every key with its interval and result", () => {
  const s = verdictSection({
    verdict: "regression",
    reason: "regression against the baseline",
    code: 1,
    baseline: "baseline.json",
    assert: RESULT,
  });
  assertEquals(s.id, "verdict");
  assertMatch(
    s.html,
    /<p class="verdict regression"><strong>REGRESSION<\/strong>: regression against the baseline \(exit 1\)/,
  );
  assertEquals(tableRows(s.html), [
    [
      "key",
      "metric",
      "baseline",
      "allowed",
      "actual",
      "margin",
      "change [95 % interval]",
      "ratio [lo, hi]",
      "result",
    ],
    [
      "transcription_latency_seconds_p95",
      "transcription_latency_seconds p(95)",
      "1.021 s",
      "≤ +20% (interval)",
      "1.463 s",
      "+5.0%",
      "+43.3% [+14.0%, +87.0%]",
      "1.433 [1.140, 1.870]",
      "PASS",
    ],
    [
      "transcription_success_rate",
      "transcription_success_rate rate",
      "100.0%",
      "≥ 99.0%",
      "95.0%",
      "-4.0%",
      "—",
      "—",
      "FAIL",
    ],
  ]);
  assertMatch(s.html, /<tr class="fail">/);
  assertMatch(s.html, /<code>dropped_iterations: count&lt;1<\/code>/);
  assertMatch(
    s.html,
    /skipped 1 key\(s\) of the openai scenario \(this run is native, from metadata.json \(api\)\): openai_success_rate/,
  );
  assertMatch(s.html, /<li>warning: the run's environment differs/);
});

Deno.test("verdictSection says when a run was not judged", async (t) => {
  await t.step("--no-assert", () => {
    const s = verdictSection({
      verdict: "not judged",
      reason: "k6 passed (assert skipped)",
      code: 0,
    });
    assertMatch(s.html, /<strong>not judged<\/strong>: k6 passed/);
    assertMatch(s.html, /not judged against a baseline \(--no-assert\)/);
    assert(!s.html.includes("<table"), "no table");
  });
  await t.step("no verdict.json", () => {
    assertMatch(
      verdictSection(undefined).html,
      /not judged: this archive has no verdict/,
    );
  });
});
