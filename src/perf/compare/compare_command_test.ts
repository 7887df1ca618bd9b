import { assertEquals, assertMatch } from "../../testing/assert.ts";
import { join } from "node:path";
import { parseBaseline } from "../mod.ts";
import { syntheticRun, writeSamples } from "../../verdict/_testing.ts";
import { baselineRuns, specsForBaseline } from "./compare_command.ts";
import { sketchRuns } from "../../verdict/mod.ts";

const MAIN = new URL("../../tasks/compare.ts", import.meta.url).pathname;

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

Deno.test("compare --paired judges alternated runs pair by pair", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "wt-cmp-" });
  try {
    // The machine's speed moves by up to 25 % between pairs; each B run was
    // measured right after its A run and is 10 % slower than it.
    const drift = [1, 1.25, 0.95, 1.2, 1];
    const t0 = Date.parse("2026-11-29T10:00:00Z");
    const write = async (
      side: string,
      i: number,
      latency: number,
      startedAt: number,
    ) => {
      const run = join(dir, side, `run-${i + 1}`);
      await Deno.mkdir(run, { recursive: true });
      await writeSamples(
        join(run, "samples.json.gz"),
        syntheticRun(latency, (side === "B" ? 100 : 0) + i + 1, 150),
      );
      await Deno.writeTextFile(
        join(run, "metadata.json"),
        JSON.stringify({ started_at: new Date(startedAt).toISOString() }),
      );
    };
    for (const [i, d] of drift.entries()) {
      await write("A", i, d, t0 + i * 60_000);
      await write("B", i, d * 1.1, t0 + i * 60_000 + 30_000);
      // Side C: the same B runs, but measured long after every A run.
      await write("C", i, d * 1.1, t0 + 3600_000 + i * 60_000);
    }
    await t.step("paired: the 10 % slowdown is a regression", async () => {
      const r = await compare(join(dir, "A"), join(dir, "B"), "--paired");
      assertEquals(r.code, 1, r.text);
      assertMatch(r.text, /bootstrap over pairs of runs/);
      assertMatch(
        r.text,
        /transcription_latency_seconds median .*REGRESSION \(> \+5\.0 %\)/,
      );
      assertEquals(/warning/.test(r.text), false, r.text);
    });
    await t.step("unpaired: the drift hides it", async () => {
      const r = await compare(join(dir, "A"), join(dir, "B"));
      assertEquals(r.code, 0, r.text);
      assertMatch(r.text, /verdict: no regression/);
    });
    await t.step("pairs far apart in time get a warning", async () => {
      const r = await compare(join(dir, "A"), join(dir, "C"), "--paired");
      assertMatch(
        r.text,
        /warning: pair 1: 4 other run\(s\) started between its A and B runs/,
      );
    });
    await t.step("unequal run counts and a baseline side: exit 2", async () => {
      await Deno.remove(join(dir, "C", "run-5"), { recursive: true });
      const r = await compare(join(dir, "A"), join(dir, "C"), "--paired");
      assertEquals(r.code, 2, r.text);
      assertMatch(r.text, /as many runs a side: .*A has 5, .*C 4/);
      const path = join(dir, "baseline.json");
      await Deno.writeTextFile(path, JSON.stringify(BASE));
      const b = await compare(path, join(dir, "B"), "--paired");
      assertEquals(b.code, 2, b.text);
      assertMatch(b.text, /--paired compares two archives/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
