import { assertEquals, assertMatch } from "../testing/assert.ts";
import { join } from "node:path";
import { syntheticRun, writeSamples } from "../verdict/_testing.ts";
import { verdictLine } from "./bench_verdict.ts";

const MAIN = new URL("./bench_verdict.ts", import.meta.url).pathname;

Deno.test("verdictLine has the one documented format", () => {
  assertEquals(
    verdictLine(0.05, 0.95, 41),
    "verdict: false_alarm_rate=0.050 detection_rate=0.950 runs=41",
  );
});

Deno.test("bench:verdict --from judges archived A and B runs and prints one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wt-bench-" });
  try {
    for (let i = 1; i <= 5; i++) {
      await Deno.mkdir(join(dir, "A", `run-${i}`), { recursive: true });
      await writeSamples(
        join(dir, "A", `run-${i}`, "samples.json.gz"),
        syntheticRun(1, i, 150),
      );
    }
    for (let i = 1; i <= 4; i++) {
      await Deno.mkdir(join(dir, "B", `run-${i}`), { recursive: true });
      await writeSamples(
        join(dir, "B", `run-${i}`, "samples.json.gz"),
        syntheticRun(1.25, 100 + i, 150),
      );
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "--from", dir],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    assertEquals(
      stdout,
      "verdict: false_alarm_rate=0.000 detection_rate=1.000 runs=9\n",
    );
    assertMatch(
      stderr,
      /transcription_latency_seconds median: 0\/4 false alarms, 4\/4 detections/,
    );
    const report = JSON.parse(
      await Deno.readTextFile(join(dir, "bench_verdict.json")),
    );
    assertEquals(report.a_vs_a_pairs, 4);
    assertEquals(report.a_vs_b_pairs, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
