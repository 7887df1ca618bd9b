import { assert, assertEquals } from "../testing/assert.ts";
import { ConfigError } from "../errors/mod.ts";
import { loadSummary, parseSummary } from "./summary.ts";
import { rejectsWith, TESTDATA } from "./_testing.ts";

const run = (name: string) =>
  new URL(`runs/${name}/summary.json`, TESTDATA).pathname;

Deno.test("parseSummary normalizes real legacy and v1 exports alike", async (t) => {
  for (const format of ["legacy", "v1"] as const) {
    await t.step(format, async () => {
      const s = await loadSummary(run(`${format}_pass`));
      assertEquals(s.format, format);
      assertEquals(s.thresholdsRecorded, format === "legacy");
      const http = s.metrics.get("http_req_duration")!;
      assertEquals(http.type, "trend");
      assertEquals(
        Object.keys(http.values).sort(),
        ["avg", "max", "med", "min", "p(90)", "p(95)"],
      );
      // built-in times are milliseconds: a local request takes a few ms
      assert(http.values["p(95)"]! > 0.1 && http.values["p(95)"]! < 1000);
      const success = s.metrics.get("transcription_success_rate")!;
      assertEquals(success.type, "rate");
      assertEquals(success.values.rate, 1);
      assertEquals(success.values.fails, 0);
      assertEquals(
        success.values.passes,
        s.metrics.get("iterations")!.values.count,
      );
      assertEquals(s.metrics.get("iterations")!.type, "counter");
      assertEquals(s.metrics.get("vus_max")!.type, "gauge");
      assertEquals(s.metrics.get("vus_max")!.values.value, 4);
      // our custom Trend is in seconds (not a time Trend)
      const lat = s.metrics.get("transcription_latency_seconds")!.values.avg!;
      assert(lat > 0.5 && lat < 5, `latency ${lat}`);
      assert(s.metrics.has("http_req_duration{expected_response:true}"));
    });
  }
  await t.step("v1 records duration and k6 version", async () => {
    const s = await loadSummary(run("v1_pass"));
    assertEquals(s.k6Version, "1.8.1");
    assert(s.durationSeconds! > 30 && s.durationSeconds! < 35);
  });
});

Deno.test("parseSummary reads legacy thresholds where true means failed", async () => {
  const pass = await loadSummary(run("legacy_pass"));
  assertEquals(pass.thresholdsFailed, []);
  assertEquals(pass.thresholds.get("http_req_duration: p(95)<=5040"), false);
  assertEquals(pass.thresholds.get("dropped_iterations: count<1"), false);

  const reg = await loadSummary(run("legacy_regression"));
  assertEquals(reg.thresholdsFailed.sort(), [
    "http_req_duration: avg<=0.6",
    "http_req_duration: p(95)<=1.2",
  ]);
  const down = await loadSummary(run("legacy_unreachable"));
  assert(down.thresholdsFailed.includes("http_req_failed: rate<0.02"));
  // http_req_failed counts failed requests as "passes"
  assertEquals(down.metrics.get("http_req_failed")!.values.rate, 1);
});

Deno.test("parseSummary: a metric never observed is absent unless it has a threshold", async (t) => {
  for (const format of ["legacy", "v1"]) {
    await t.step(format, async () => {
      const s = await loadSummary(run(`${format}_unreachable`));
      assertEquals(s.metrics.has("server_processing_ms"), false);
      assertEquals(
        s.metrics.get("transcription_latency_seconds")!.values,
        { avg: 0, min: 0, med: 0, max: 0, "p(90)": 0, "p(95)": 0 },
      );
    });
  }
});

Deno.test("parseSummary rejects unusable files naming the file", async (t) => {
  const cases: [string, string][] = [
    ["malformed/not_json.txt", "is not valid JSON"],
    ["malformed/truncated.json.txt", "is not valid JSON"],
    [
      "malformed/not_a_summary.json",
      "is not a k6 --summary-export summary: metrics",
    ],
    [
      "malformed/v1_version_2.json",
      "is not a k6 machine-readable (v1) summary: version",
    ],
    [
      "malformed/legacy_string_value.json",
      "is not a k6 --summary-export summary: metrics.http_req_duration.p(95)",
    ],
  ];
  for (const [file, message] of cases) {
    await t.step(file, async () => {
      const path = new URL(file, TESTDATA).pathname;
      const error = await rejectsWith(() => loadSummary(path), ConfigError);
      assert(error.message.startsWith(`${path}: ${message}`), error.message);
    });
  }
  await t.step("missing file", async () => {
    const error = await rejectsWith(
      () => loadSummary("/nonexistent/latest.json"),
      ConfigError,
    );
    assert(
      error.message.startsWith(
        "/nonexistent/latest.json: cannot read the k6 summary (no such file",
      ),
    );
  });
  await t.step("JSON that is not an object", () => {
    let error: unknown;
    try {
      parseSummary("[1,2]", "x.json");
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConfigError, String(error));
  });
});
