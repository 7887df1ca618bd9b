import { assertEquals, assertMatch } from "../testing/assert.ts";
import { join } from "node:path";
import { parseBaseline } from "../perf/mod.ts";
import { syntheticRun, writeSamples } from "./_testing.ts";
import { baselineRuns, specsForBaseline } from "./compare_main.ts";
import { sketchRuns } from "./distributions.ts";

const MAIN = new URL("./compare_main.ts", import.meta.url).pathname;

const BASE = {
  description: "t",
  captured_at: "2026-11-29T00:00:00Z",
  environment: {
    model: "tiny.en",
    arrival_rate_per_second: 2,
    duration_seconds: 60,
    worker_concurrency: 2,
  },
  metrics: {
    transcription_latency_seconds_p95: 1.2,
    transcription_success_rate: 1,
  },
  tolerances: {
    transcription_latency_seconds_p95: 1.15,
    transcription_success_rate: 0.95,
  },
};

async function compare(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", GITHUB_ACTIONS: "" },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, text: d.decode(out.stdout) + d.decode(out.stderr) };
}

Deno.test("compare judges an archive against a baseline's distributions", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "wt-cmp-" });
  try {
    const runs = [1, 2, 3].map((i) => syntheticRun(1 + (i - 2) / 100, i));
    const withDist = {
      ...BASE,
      distributions: {
        format: "quantiles-101",
        runs: 3,
        metrics: sketchRuns(runs),
      },
    };
    const baselinePath = join(dir, "baseline.json");
    await Deno.writeTextFile(baselinePath, JSON.stringify(withDist));
    const oldPath = join(dir, "old.json");
    await Deno.writeTextFile(oldPath, JSON.stringify(BASE));
    for (
      const [name, median, seed] of [["same", 1, 11], [
        "slow",
        1.4,
        12,
      ]] as const
    ) {
      await Deno.mkdir(join(dir, name, "run-1"), { recursive: true });
      await writeSamples(
        join(dir, name, "run-1", "samples.json.gz"),
        syntheticRun(median, seed),
      );
    }
    await t.step(
      "the baseline's tolerance replaces the default for its key",
      () => {
        const b = parseBaseline(JSON.stringify(withDist), "b.json");
        const specs = specsForBaseline(b);
        const p95 = specs.find((s) =>
          s.metric === "transcription_latency_seconds" && s.stat === "p95"
        )!;
        assertEquals(p95.tolerance, 1.15);
        assertEquals(baselineRuns(b, "b.json").length, 3);
      },
    );
    await t.step("same build: exit 0", async () => {
      const r = await compare(baselinePath, join(dir, "same"));
      assertEquals(r.code, 0, r.text);
      assertMatch(r.text, /A: .*baseline\.json \(3 runs/);
      assertMatch(r.text, /verdict: no regression/);
    });
    await t.step(
      "40 % slower, baseline given with --baseline: exit 1",
      async () => {
        const r = await compare(join(dir, "slow"), "--baseline", baselinePath);
        assertEquals(r.code, 1, r.text);
        assertMatch(r.text, /verdict: REGRESSION/);
      },
    );
    await t.step(
      "a baseline without distributions: exit 2, saying how to record one",
      async () => {
        const r = await compare(oldPath, join(dir, "same"));
        assertEquals(r.code, 2, r.text);
        assertMatch(r.text, /has no distributions/);
      },
    );
    await t.step("a baseline as side B: exit 2", async () => {
      const r = await compare(join(dir, "same"), baselinePath);
      assertEquals(r.code, 2, r.text);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
