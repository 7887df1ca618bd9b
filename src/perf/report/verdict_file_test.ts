import { join } from "node:path";
import {
  assertEquals,
  assertMatch,
  rejectsWith,
} from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import type { AssertResult } from "../baseline/mod.ts";
import {
  loadRunVerdict,
  type RunVerdict,
  VERDICT_FILE,
  writeRunVerdict,
} from "./verdict_file.ts";

const ASSERT: AssertResult = {
  verdict: "regression",
  scenario: { api: "native", from: "metadata.json (api)" },
  keys: [{
    key: "server_processing_ms_p95",
    definition: {
      metric: "server_processing_ms",
      stat: "p(95)",
      unit: "ms",
      direction: "lower_is_better",
      kind: "ratio",
    },
    baseline: 133.1,
    tolerance: 1.5,
    allowed: 199.65,
    actual: NaN,
    margin: NaN,
    pass: false,
    note: "no samples",
  }],
  skipped: [{
    key: "openai_success_rate",
    scenario: "openai",
    workload: "sample",
  }],
  thresholdsFailed: ["server_processing_ms: p(95)<=199.65"],
  warnings: ["the run's environment differs"],
  thresholdsCovered: true,
};

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "verdict-file-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writeRunVerdict and loadRunVerdict round-trip a verdict, NaN included", async () => {
  await inTempDir(async (dir) => {
    const v: RunVerdict = {
      verdict: "regression",
      reason: "regression against the baseline",
      code: 1,
      baseline: "baseline.json",
      assert: ASSERT,
    };
    await writeRunVerdict(dir, v);
    const text = await Deno.readTextFile(join(dir, VERDICT_FILE));
    assertMatch(text, /"actual": null/);
    assertEquals(await loadRunVerdict(dir), v);
  });
});

Deno.test("loadRunVerdict: none is undefined, an invalid one names the file and field", async () => {
  await inTempDir(async (dir) => {
    assertEquals(await loadRunVerdict(dir), undefined);
    await Deno.writeTextFile(
      join(dir, VERDICT_FILE),
      JSON.stringify({ verdict: "maybe", reason: "x", code: 0 }),
    );
    const e = await rejectsWith(() => loadRunVerdict(dir), ConfigError);
    assertMatch(e.message, /verdict\.json: verdict /);
    await Deno.writeTextFile(join(dir, VERDICT_FILE), "{");
    const e2 = await rejectsWith(() => loadRunVerdict(dir), ConfigError);
    assertMatch(e2.message, /verdict\.json: is not valid JSON/);
  });
});
