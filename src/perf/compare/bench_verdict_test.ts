import { assertEquals, assertMatch } from "../../testing/assert.ts";
import { join } from "node:path";
import { syntheticRun, writeSamples } from "../../verdict/_testing.ts";
import { verdictLine } from "./bench_verdict.ts";

const MAIN = new URL("../../tasks/bench_verdict.ts", import.meta.url).pathname;

Deno.test("verdictLine has the one documented format", () => {
  assertEquals(
    verdictLine(0.05, 0.95, 41),
    "verdict: false_alarm_rate=0.050 detection_rate=0.950 runs=41",
  );
});

async function judgeFrom(dir: string, ...flags: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--from", dir, ...flags],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("bench:verdict --from judges archived A and B runs in windows of 3 runs and prints one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wt-bench-" });
  try {
    // 7 A and 5 B runs: A1-3 vs A4-6, A2-4 vs A5-7 (2 A-vs-A comparisons),
    // A1-3 vs B1-3 … A3-5 vs B3-5 (3 A-vs-B comparisons).
    for (let i = 1; i <= 7; i++) {
      await Deno.mkdir(join(dir, "A", `run-${i}`), { recursive: true });
      await writeSamples(
        join(dir, "A", `run-${i}`, "samples.json.gz"),
        syntheticRun(1, i, 60),
      );
    }
    for (let i = 1; i <= 5; i++) {
      await Deno.mkdir(join(dir, "B", `run-${i}`), { recursive: true });
      await writeSamples(
        join(dir, "B", `run-${i}`, "samples.json.gz"),
        syntheticRun(1.25, 100 + i, 60),
      );
    }
    const { code, stdout, stderr } = await judgeFrom(dir, "--group", "3");
    assertEquals(code, 0, stderr);
    assertEquals(
      stdout,
      "verdict: false_alarm_rate=0.000 detection_rate=1.000 runs=12\n",
    );
    assertMatch(stderr, /2 A-vs-A and 3 A-vs-B comparisons of 3 run\(s\)/);
    assertMatch(
      stderr,
      /transcription_latency_seconds median: 0\/2 false alarms, 3\/3 detections/,
    );
    const report = JSON.parse(
      await Deno.readTextFile(join(dir, "bench_verdict.json")),
    );
    assertEquals(report.runs_per_side, 3);
    // The verdict is the paired one; the unpaired rates come for reference.
    assertEquals(report.method, "paired");
    assertEquals(report.unpaired.false_alarm_rate, 0);
    assertEquals(report.unpaired.detection_rate, 1);
    assertMatch(
      stderr,
      /paired: 2 A-vs-A and 3 A-vs-B .*false_alarm_rate=0\.000 detection_rate=1\.000/,
    );
    assertMatch(stderr, /unpaired: 2 A-vs-A and 3 A-vs-B/);
    assertEquals(report.a_vs_a_comparisons, 2);
    assertEquals(report.a_vs_b_comparisons, 3);

    // Single runs a side: A_i vs A_i+1 (6), A_i vs B_i (5).
    const single = await judgeFrom(dir, "--group", "1");
    assertEquals(single.code, 0, single.stderr);
    assertMatch(single.stderr, /6 A-vs-A and 5 A-vs-B comparisons of 1 run/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench:verdict --from refuses too few runs and a bad --group with exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wt-bench-" });
  try {
    for (const side of ["A", "B"]) {
      for (let i = 1; i <= 2; i++) {
        await Deno.mkdir(join(dir, side, `run-${i}`), { recursive: true });
        await writeSamples(
          join(dir, side, `run-${i}`, "samples.json.gz"),
          syntheticRun(1, i, 50),
        );
      }
    }
    const few = await judgeFrom(dir);
    assertEquals(few.code, 2);
    assertMatch(
      few.stderr,
      // The default: windows of 5 runs a side.
      /2 A and 2 B runs are too few .*\(need ≥ 10 A and ≥ 5 B\)/,
    );
    assertEquals(few.stdout, "");
    const bad = await judgeFrom(dir, "--group", "0");
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /--group must be a positive integer, got 0/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
