import { assert, assertEquals } from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import {
  BUILTIN_DEFINITIONS,
  entriesOf,
  loadBaseline,
  parseBaseline,
  scenarioOf,
  scenarioRecord,
  selectEntries,
  thresholdExpression,
  workloadOf,
} from "./baseline.ts";
import { rejectsWith, TESTDATA } from "../_testing.ts";

const PYTHON = new URL("baseline_python.json", TESTDATA).pathname;

Deno.test("loadBaseline reads the Python toolkit's format unchanged", async () => {
  const b = await loadBaseline(PYTHON);
  assertEquals(b.environment.arrival_rate_per_second, 3);
  assertEquals(b.definitions, undefined);
  const entries = entriesOf(b, "baseline.json");
  assertEquals(
    entries.map((e) => [e.key, e.allowed]),
    [
      ["http_req_duration_ms_avg", 1850 * 1.2],
      ["http_req_duration_ms_p95", 4200 * 1.2],
      ["transcription_latency_seconds_avg", 46.5 * 1.2],
      ["transcription_latency_seconds_p95", 88.4 * 1.2],
      ["transcription_success_rate", 0.95],
    ],
  );
  assertEquals(
    entries.map(thresholdExpression),
    ["avg<=2220", "p(95)<=5040", "avg<=55.8", "p(95)<=106.08", "rate>=0.95"],
  );
});

Deno.test("the repository's baseline.json is valid", async () => {
  const b = await loadBaseline(
    new URL("../../../baseline.json", import.meta.url).pathname,
  );
  // The five classic keys, plus keys described by `definitions`.
  for (const key of Object.keys(BUILTIN_DEFINITIONS)) {
    assertEquals(key in b.metrics, true, `baseline.json lacks ${key}`);
  }
  const entries = entriesOf(b, "baseline.json");
  assertEquals(entries.map((e) => e.key).sort(), Object.keys(b.metrics).sort());
});

Deno.test("each key belongs to one scenario: native unless its definition says otherwise", async (t) => {
  const repo = await loadBaseline(
    new URL("../../../baseline.json", import.meta.url).pathname,
  );
  const entries = entriesOf(repo, "baseline.json");
  await t.step("the repository's baseline.json", () => {
    const native = selectEntries(entries, "native");
    const openai = selectEntries(entries, "openai");
    assertEquals(openai.selected.map((e) => e.key), [
      "openai_request_duration_ms_p95",
      "openai_server_processing_ms_p95",
      "openai_overhead_ms_p95",
      "openai_success_rate",
      "openai_accuracy",
    ]);
    // The native keys are exactly as before the openai scenario existed.
    assertEquals(native.selected.map((e) => e.key), [
      "http_req_duration_ms_avg",
      "http_req_duration_ms_p95",
      "transcription_latency_seconds_avg",
      "transcription_latency_seconds_p95",
      "transcription_success_rate",
      "server_processing_ms_p95",
      "transcription_accuracy",
    ]);
    const mixed = selectEntries(entries, "native", "mixed");
    assertEquals(mixed.selected.map((e) => e.key), [
      "mixed_success_rate",
      "mixed_1s_latency_seconds_p95",
      "mixed_15s_latency_seconds_p95",
      "mixed_2min_latency_seconds_p95",
      "mixed_8min_latency_seconds_p95",
      "mixed_8min_server_processing_ms_p95",
      "mixed_1s_accuracy",
      "mixed_2min_word_error_rate_avg",
      "mixed_8min_word_error_rate_avg",
    ]);
    // Each run's keys, and every other key skipped.
    assertEquals(native.skipped, [...openai.selected, ...mixed.selected]);
    assertEquals(openai.skipped, [...native.selected, ...mixed.selected]);
    assertEquals(mixed.skipped, [...native.selected, ...openai.selected]);
    // A class is addressed by its submetric.
    assertEquals(
      mixed.selected.find((e) => e.key === "mixed_2min_latency_seconds_p95")
        ?.definition.metric,
      "transcription_latency_seconds{class:2min}",
    );
    assertEquals(selectEntries(entries, "openai", "mixed").selected, []);
    // The target: our own overhead at most 30 ms.
    const overhead = openai.selected.find((e) =>
      e.key === "openai_overhead_ms_p95"
    )!;
    assertEquals([overhead.definition.kind, overhead.allowed], ["ceiling", 30]);
  });
  await t.step("built-in keys are native, of the sample workload", () => {
    for (const d of Object.values(BUILTIN_DEFINITIONS)) {
      assertEquals(scenarioOf(d), "native");
      assertEquals(workloadOf(d), "sample");
    }
  });
  await t.step("a scenario's recording", async () => {
    const b = await loadBaseline(
      new URL("baseline_two_scenarios.json", TESTDATA).pathname,
    );
    assertEquals(scenarioRecord(b, "native").environment?.model, "tiny");
    assertEquals(scenarioRecord(b, "native").captured_at, "unknown");
    const openai = scenarioRecord(b, "openai");
    assertEquals(openai.environment?.model, "tiny.en-q8_0");
    assertEquals(openai.captured_at, "2026-12-06T12:00:00Z");
    // Without its own record, another scenario falls back to the top-level
    // environment but never to the top-level (native) distributions.
    const bare = scenarioRecord(repo, "openai");
    assert(repo.distributions !== undefined);
    assertEquals(bare.distributions, repo.scenarios?.openai?.distributions);
    assertEquals(
      bare.environment,
      repo.scenarios?.openai?.environment ?? repo.environment,
    );
    const { scenarios: _, ...noRecord } = b;
    assertEquals(scenarioRecord(noRecord, "openai"), {
      environment: b.environment,
    });
  });
});

Deno.test("definitions describe new keys without code changes", async () => {
  const b = await loadBaseline(
    new URL("baseline_definitions.json", TESTDATA).pathname,
  );
  const byKey = new Map(entriesOf(b, "b").map((e) => [e.key, e]));
  assertEquals(byKey.get("server_processing_ms_p95")?.allowed, 750);
  assertEquals(
    thresholdExpression(byKey.get("transcription_accuracy")!),
    "rate>=0.9",
  );
  assertEquals(
    thresholdExpression(byKey.get("dropped_iterations_count")!),
    "count<=0",
  );
});

Deno.test("parseBaseline names the file, key and expectation", async (t) => {
  const base = JSON.parse(await Deno.readTextFile(PYTHON));
  // deno-lint-ignore no-explicit-any
  const cases: [string, (b: Record<string, any>) => void, string][] = [
    [
      "latency tolerance below 1",
      (b) => b.tolerances.http_req_duration_ms_p95 = 0.9,
      "baseline.json: tolerances.http_req_duration_ms_p95 must be a number >= 1",
    ],
    [
      "tolerance as a string",
      (b) => b.tolerances.http_req_duration_ms_p95 = "1.2",
      "baseline.json: tolerances.http_req_duration_ms_p95 must be a number",
    ],
    [
      "missing tolerance",
      (b) => delete b.tolerances.transcription_success_rate,
      "baseline.json: tolerances.transcription_success_rate is missing",
    ],
    [
      "success floor above 1",
      (b) => b.tolerances.transcription_success_rate = 1.5,
      "baseline.json: tolerances.transcription_success_rate must be a number in [0, 1]",
    ],
    [
      "missing metrics",
      (b) => delete b.metrics,
      "baseline.json: metrics is missing",
    ],
    [
      "missing environment field",
      (b) => delete b.environment.model,
      "baseline.json: environment.model is missing",
    ],
    [
      "unknown key without definition",
      (b) => {
        b.metrics.foo_p99 = 1;
        b.tolerances.foo_p99 = 1;
      },
      "baseline.json: metrics.foo_p99 has no built-in definition; add definitions.foo_p99",
    ],
    [
      "tolerance without metric",
      (b) => b.tolerances.bar = 1.1,
      "baseline.json: tolerances.bar has no matching metrics.bar",
    ],
    [
      "zero latency baseline",
      (b) => b.metrics.http_req_duration_ms_avg = 0,
      "baseline.json: metrics.http_req_duration_ms_avg must be a number > 0",
    ],
    ["bad stat", (b) => {
      b.metrics.x = 1;
      b.tolerances.x = 1.1;
      b.definitions = {
        x: {
          metric: "x",
          stat: "p(99)",
          unit: "ms",
          direction: "lower_is_better",
          kind: "ratio",
        },
      };
    }, "baseline.json: definitions.x.stat must be one of avg, p(95)"],
    [
      "floor that is lower-is-better",
      (b) => {
        b.metrics.x = 1;
        b.tolerances.x = 1;
        b.definitions = {
          x: {
            metric: "x",
            stat: "max",
            unit: "ms",
            direction: "lower_is_better",
            kind: "floor",
          },
        };
      },
      "baseline.json: definitions.x.direction must be higher_is_better for kind floor",
    ],
    [
      "unknown scenario",
      (b) => {
        b.metrics.x = 1;
        b.tolerances.x = 1.5;
        b.definitions = {
          x: {
            metric: "x",
            stat: "p(95)",
            unit: "ms",
            direction: "lower_is_better",
            kind: "ratio",
            scenario: "grpc",
          },
        };
      },
      "baseline.json: definitions.x.scenario must be one of native, openai",
    ],
    [
      "a native record under scenarios",
      (b) => b.scenarios = { native: { captured_at: "now" } },
      "baseline.json: scenarios may only have the key openai (native is the top level)",
    ],
  ];
  for (const [name, mutate, message] of cases) {
    await t.step(name, () => {
      const b = structuredClone(base);
      mutate(b);
      let error: unknown;
      try {
        parseBaseline(JSON.stringify(b), "baseline.json");
      } catch (e) {
        error = e;
      }
      assert(
        error instanceof ConfigError,
        `expected ConfigError, got ${error}`,
      );
      assert(error.message.startsWith(message), `got: ${error.message}`);
    });
  }
  await t.step("not JSON", () => {
    let error: unknown;
    try {
      parseBaseline("{", "baseline.json");
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConfigError);
    assert(
      error.message.startsWith("baseline.json: is not valid JSON"),
      error.message,
    );
  });
  await t.step("missing file", async () => {
    const error = await rejectsWith(
      () => loadBaseline("/nonexistent/baseline.json"),
      ConfigError,
    );
    assertEquals(
      error.message,
      "/nonexistent/baseline.json: cannot read the baseline (no such file)",
    );
  });
});
