import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import {
  type AssertResult,
  evaluateRun,
  IncompleteRunError,
  renderTable,
} from "./assert.ts";
import { runAssert } from "./assert_command.ts";
import { loadBaseline, thresholdExpression } from "./baseline.ts";
import { loadRunMetadata, type RunMetadata } from "../run_metadata.ts";
import { loadSummary } from "../summary.ts";
import { TESTDATA } from "../_testing.ts";

const path = (p: string) => new URL(p, TESTDATA).pathname;
const runPath = (name: string) => path(`runs/${name}/summary.json`);

interface Case {
  name: string;
  run: string;
  baseline: string;
  /** Changes to the run's metadata.json; null drops it. */
  metadata?: Partial<RunMetadata> | null;
  verdict?: AssertResult["verdict"];
  failedKeys?: string[];
  thresholdsFailed?: string[];
  error?: [new (...a: never[]) => Error, string];
}

const CASES: Case[] = [
  {
    name: "legacy passing run",
    run: "legacy_pass",
    baseline: "baseline_python.json",
    verdict: "pass",
    failedKeys: [],
    thresholdsFailed: [],
  },
  {
    name: "legacy passing run with the scenario's defaults (3/s for 2 min)",
    run: "legacy_pass_2m",
    baseline: "baseline_python.json",
    verdict: "pass",
    failedKeys: [],
    thresholdsFailed: [],
  },
  {
    name: "v1 passing run",
    run: "v1_pass",
    baseline: "baseline_python.json",
    verdict: "pass",
    failedKeys: [],
    thresholdsFailed: [],
  },
  {
    name: "legacy run against a tight baseline regresses",
    run: "legacy_regression",
    baseline: "tight_baseline.json",
    verdict: "regression",
    failedKeys: ["http_req_duration_ms_avg", "http_req_duration_ms_p95"],
    thresholdsFailed: [
      "http_req_duration: avg<=0.6",
      "http_req_duration: p(95)<=1.2",
    ],
  },
  {
    // Issue 16: a summary judged against another baseline than the one
    // its k6 thresholds were derived from is judged by that baseline only.
    name:
      "a run whose k6 thresholds came from another baseline passes on this one's keys",
    run: "legacy_regression",
    baseline: "baseline_python.json",
    verdict: "pass",
    failedKeys: [],
    thresholdsFailed: [],
  },
  {
    name: "v1 run against a tight baseline regresses",
    run: "v1_regression",
    baseline: "tight_baseline.json",
    verdict: "regression",
    failedKeys: [
      "http_req_duration_ms_avg",
      "http_req_duration_ms_p95",
      "transcription_latency_seconds_avg",
      "transcription_latency_seconds_p95",
    ],
    thresholdsFailed: [
      "k6 exited with 99 (thresholds failed); a v1 summary doesn't say which",
    ],
  },
  {
    name: "unreachable service: no samples fail, k6 thresholds failed",
    run: "legacy_unreachable",
    baseline: "baseline_python.json",
    verdict: "regression",
    failedKeys: [
      "http_req_duration_ms_avg",
      "http_req_duration_ms_p95",
      "transcription_latency_seconds_avg",
      "transcription_latency_seconds_p95",
      "transcription_success_rate",
    ],
    thresholdsFailed: [
      "http_req_failed: rate<0.02",
      "transcription_success_rate: rate>=0.95",
    ],
  },
  {
    name: "v1 unreachable service",
    run: "v1_unreachable",
    baseline: "baseline_python.json",
    verdict: "regression",
    failedKeys: [
      "http_req_duration_ms_avg",
      "http_req_duration_ms_p95",
      "transcription_latency_seconds_avg",
      "transcription_latency_seconds_p95",
      "transcription_success_rate",
    ],
  },
  {
    name: "definitions judge new keys (the service's transcript is wrong)",
    run: "legacy_pass",
    baseline: "baseline_definitions.json",
    verdict: "regression",
    failedKeys: ["transcription_accuracy"],
    thresholdsFailed: [],
  },
  {
    name: "interrupted legacy run (k6 exit 105)",
    run: "legacy_interrupted",
    baseline: "baseline_python.json",
    error: [IncompleteRunError, "k6 exited with 105"],
  },
  {
    name: "interrupted legacy run found by its iteration count",
    run: "legacy_interrupted",
    baseline: "baseline_python.json",
    metadata: { k6_exit_code: undefined },
    error: [
      IncompleteRunError,
      "21 iterations (21 completed + 0 dropped) of the 90 planned",
    ],
  },
  {
    name: "interrupted v1 run found by its duration",
    run: "v1_interrupted",
    baseline: "baseline_python.json",
    metadata: { k6_exit_code: undefined },
    error: [IncompleteRunError, "the run lasted 7.9 s of the planned 30 s"],
  },
  {
    name: "metadata saying interrupted",
    run: "legacy_pass",
    baseline: "baseline_python.json",
    metadata: { interrupted: true },
    error: [IncompleteRunError, "the run was interrupted"],
  },
];

async function load(c: Case) {
  const summaryFile = runPath(c.run);
  const meta = await loadRunMetadata(summaryFile);
  let metadata: RunMetadata | undefined = meta?.metadata;
  if (c.metadata === null) metadata = undefined;
  else if (c.metadata) metadata = { ...metadata, ...c.metadata };
  return {
    summary: await loadSummary(summaryFile),
    summaryFile,
    baseline: await loadBaseline(path(c.baseline)),
    baselineFile: c.baseline,
    metadata,
    metadataFile: meta?.path,
  };
}

Deno.test("evaluateRun judges real k6 runs", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const input = await load(c);
      if (c.error) {
        let error: unknown;
        try {
          evaluateRun(input);
        } catch (e) {
          error = e;
        }
        assert(error instanceof c.error[0], `got ${error}`);
        assert(error.message.includes(c.error[1]), error.message);
        return;
      }
      const result = evaluateRun(input);
      assertEquals(result.verdict, c.verdict);
      assertEquals(
        result.keys.filter((k) => !k.pass).map((k) => k.key),
        c.failedKeys,
      );
      if (c.thresholdsFailed) {
        assertEquals(result.thresholdsFailed.sort(), c.thresholdsFailed);
      }
    });
  }
});

Deno.test("evaluateRun agrees with the thresholds k6 derived from the same baseline", async (t) => {
  for (
    const [run, file] of [
      ["legacy_pass", "baseline_python.json"],
      ["legacy_regression", "tight_baseline.json"],
    ] as const
  ) {
    await t.step(run, async () => {
      const input = await load({ name: run, run, baseline: file });
      const result = evaluateRun(input);
      for (const k of result.keys) {
        const name = `${k.definition.metric}: ${thresholdExpression(k)}`;
        assertEquals(input.summary.thresholds.get(name), !k.pass, name);
      }
    });
  }
});

Deno.test("evaluateRun warns about a different environment or no metadata", async () => {
  const result = evaluateRun(
    await load({
      name: "",
      run: "legacy_pass",
      baseline: "baseline_python.json",
    }),
  );
  assertEquals(result.warnings.length, 1);
  for (
    const part of [
      'model: baseline "tiny", run "tiny.en"',
      "duration_seconds: baseline 120, run 30",
      "cpu_count: baseline 8, run 2",
    ]
  ) {
    assert(result.warnings[0]!.includes(part), result.warnings[0]);
  }
  const none = evaluateRun(
    await load({
      name: "",
      run: "legacy_pass",
      baseline: "baseline_python.json",
      metadata: null,
    }),
  );
  assert(
    none.warnings[0]!.startsWith("no metadata.json beside"),
    none.warnings[0],
  );
});

Deno.test("evaluateRun: a workload run is compared on the machine, not the sample's rate and duration", async () => {
  const input = await load({
    name: "",
    run: "legacy_pass",
    baseline: "baseline_python.json",
  });
  // The same baseline's keys, declared as the mixed workload's.
  const definitions: Record<string, unknown> = {};
  for (const key of Object.keys(input.baseline.metrics)) {
    const builtin = {
      http_req_duration_ms_avg: ["http_req_duration", "avg", "ms", "ratio"],
      http_req_duration_ms_p95: ["http_req_duration", "p(95)", "ms", "ratio"],
      transcription_latency_seconds_avg: [
        "transcription_latency_seconds",
        "avg",
        "s",
        "ratio",
      ],
      transcription_latency_seconds_p95: [
        "transcription_latency_seconds",
        "p(95)",
        "s",
        "ratio",
      ],
      transcription_success_rate: [
        "transcription_success_rate",
        "rate",
        "ratio",
        "floor",
      ],
    }[key]!;
    definitions[key] = {
      metric: builtin[0],
      stat: builtin[1],
      unit: builtin[2],
      kind: builtin[3],
      direction: key.endsWith("success_rate")
        ? "higher_is_better"
        : "lower_is_better",
      workload: "mixed",
    };
  }
  const result = evaluateRun({
    ...input,
    baseline: { ...input.baseline, definitions } as typeof input.baseline,
    scenario: { api: "native", workload: "mixed", from: "a test" },
  });
  assertEquals(result.warnings.length, 1);
  assert(result.warnings[0]!.includes("cpu_count: baseline 8, run 2"));
  assertEquals(result.warnings[0]!.includes("duration_seconds"), false);
  assertEquals(result.warnings[0]!.includes("arrival_rate"), false);
});

Deno.test("evaluateRun: a missing metric is unusable input", async () => {
  const input = await load({
    name: "",
    run: "legacy_pass",
    baseline: "baseline_python.json",
  });
  input.summary = await loadSummary(
    path("malformed/legacy_missing_metric.json"),
  );
  input.summaryFile = "latest.json";
  let error: unknown;
  try {
    evaluateRun(input);
  } catch (e) {
    error = e;
  }
  assert(
    error instanceof ConfigError && !(error instanceof IncompleteRunError),
  );
  assertEquals(
    error.message,
    'latest.json: metric "transcription_latency_seconds" (needed by baseline key transcription_latency_seconds_avg) is missing; the scenario must define it and the run must record it',
  );
});

Deno.test("renderTable shows baseline, allowed, actual, margin and verdict", async () => {
  const result = evaluateRun(
    await load({
      name: "",
      run: "legacy_regression",
      baseline: "tight_baseline.json",
    }),
  );
  const table = renderTable(result);
  const lines = table.split("\n");
  assertEquals(lines[0]!.split(/\s{2,}/), [
    "metric",
    "baseline",
    "allowed",
    "actual",
    "margin",
    "result",
  ]);
  const p95 = lines.find((l) => l.startsWith("http_req_duration_ms_p95"))!;
  assertEquals(p95.split(/\s{2,}/).slice(1, 3), ["1 ms", "≤ 1.2 ms"]);
  assert(p95.endsWith("FAIL"));
  assert(
    lines.find((l) => l.startsWith("transcription_success_rate"))!.includes(
      "≥ 95.0%",
    ),
  );
  assert(table.includes("k6 threshold failed: http_req_duration: avg<=0.6"));
  assert(
    table.endsWith(
      "verdict: REGRESSION (2 key(s) failed, 2 k6 threshold(s) failed)",
    ),
  );
});

Deno.test("runAssert writes GitHub annotations and the step summary", async () => {
  const stepSummary = await Deno.makeTempFile();
  try {
    const out: string[] = [];
    const { code } = await runAssert({
      summaryPath: runPath("legacy_regression"),
      baselinePath: path("tight_baseline.json"),
      env: (n) =>
        ({ GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: stepSummary })[n],
      out: (l) => out.push(l),
      err: () => {},
    });
    assertEquals(code, 1);
    const errors = out.filter((l) => l.startsWith("::error "));
    assertEquals(errors.length, 4);
    assert(
      errors[0]!.startsWith(
        "::error title=Performance regression::http_req_duration_ms_avg: ",
      ),
    );
    assert(
      out.some((l) =>
        l.startsWith(
          "::warning title=Performance baseline::the run's environment differs",
        )
      ),
    );
    const md = await Deno.readTextFile(stepSummary);
    assert(md.startsWith("### Performance vs baseline: ❌ regression"));
    assert(
      md.includes("| metric | baseline | allowed | actual | margin | result |"),
    );
    assert(md.includes("| http_req_duration_ms_p95 | 1 ms | ≤ 1.2 ms |"));
  } finally {
    await Deno.remove(stepSummary);
  }
});

async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../tasks/assert.ts", import.meta.url).pathname,
      ...args,
    ],
    env: { GITHUB_ACTIONS: "false" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("deno task assert exits 0 pass, 1 regression, 2 unusable input", async (t) => {
  const cases: [string, string[], number, string][] = [
    [
      "pass",
      [runPath("legacy_pass"), "--baseline", path("baseline_python.json")],
      0,
      "verdict: PASS",
    ],
    [
      "regression",
      [runPath("v1_regression"), "--baseline", path("tight_baseline.json")],
      1,
      "verdict: REGRESSION",
    ],
    [
      "missing summary",
      ["/nonexistent/latest.json"],
      2,
      "assert: /nonexistent/latest.json: cannot read the k6 summary",
    ],
    ["invalid JSON", [path("malformed/not_json.txt")], 2, "is not valid JSON"],
    [
      "missing metric",
      [path("malformed/legacy_missing_metric.json")],
      2,
      'metric "transcription_latency_seconds"',
    ],
    [
      "interrupted run",
      [runPath("legacy_interrupted")],
      2,
      "k6 exited with 105",
    ],
    [
      "invalid baseline",
      [
        runPath("legacy_pass"),
        "--baseline",
        path("malformed/not_a_summary.json"),
      ],
      2,
      "not_a_summary.json: description is missing",
    ],
    ["unknown flag", ["--bogus"], 2, "usage: deno task assert"],
  ];
  for (const [name, args, code, text] of cases) {
    await t.step(name, async () => {
      const r = await cli(args);
      assertEquals(r.code, code, r.stdout + r.stderr);
      assert((r.stdout + r.stderr).includes(text), r.stdout + r.stderr);
    });
  }
});

Deno.test("evaluateRun judges a run only on its own scenario's keys and says which it skipped", async (t) => {
  const TWO = "baseline_two_scenarios.json";
  const OPENAI_KEYS = [
    "openai_request_duration_ms_p95",
    "openai_server_processing_ms_p95",
    "openai_overhead_ms_p95",
    "openai_success_rate",
    "openai_accuracy",
  ];
  const NATIVE_KEYS = [
    "http_req_duration_ms_avg",
    "http_req_duration_ms_p95",
    "transcription_latency_seconds_avg",
    "transcription_latency_seconds_p95",
    "transcription_success_rate",
  ];
  await t.step(
    "a native run: the native keys, exactly as without openai keys",
    async () => {
      const input = await load({ name: "", run: "legacy_pass", baseline: TWO });
      const result = evaluateRun(input);
      assertEquals(result.scenario.api, "native");
      assertEquals(result.keys.map((k) => k.key), NATIVE_KEYS);
      assertEquals(
        result.skipped,
        OPENAI_KEYS.map((key) => ({
          key,
          scenario: "openai",
          workload: "sample",
        })),
      );
      // The same run as a workload's: none of these keys are its own.
      const refused = assertThrows(() =>
        evaluateRun({
          ...input,
          scenario: { api: "native", workload: "mixed", from: "a test" },
        })
      );
      assert(refused instanceof ConfigError);
      assert(
        refused.message.includes(
          `has no keys for the native, workload mixed scenario (the run's, from a test); add them (definitions with "scenario": "native", "workload": "mixed"`,
        ),
        refused.message,
      );
      const alone = evaluateRun(
        await load({
          name: "",
          run: "legacy_pass",
          baseline: "baseline_python.json",
        }),
      );
      assertEquals(result.verdict, alone.verdict);
      assertEquals(result.keys, alone.keys);
      assertEquals(alone.skipped, []);
      assertEquals(result.warnings, alone.warnings);
    },
  );
  await t.step(
    "an openai run: the openai keys, with sensible values",
    async () => {
      const result = evaluateRun(
        await load({ name: "", run: "openai_pass", baseline: TWO }),
      );
      assertEquals(result.scenario, {
        api: "openai",
        from: "metadata.json (api)",
      });
      assertEquals(result.verdict, "pass");
      assertEquals(result.keys.map((k) => k.key), OPENAI_KEYS);
      assertEquals(result.skipped.map((s) => s.key), NATIVE_KEYS);
      const actual = Object.fromEntries(
        result.keys.map((k) => [k.key, k.actual]),
      );
      const request = actual.openai_request_duration_ms_p95!;
      const processing = actual.openai_server_processing_ms_p95!;
      const overhead = actual.openai_overhead_ms_p95!;
      // The tiny model on 2 cores: a 1 s clip in tens of milliseconds, and the
      // request lasts at least as long as its processing.
      assert(processing > 20 && processing < 1000, `processing ${processing}`);
      assert(request >= processing, `request ${request} ms < ${processing} ms`);
      assert(overhead > 0 && overhead < 30, `overhead ${overhead}`);
      assertEquals(actual.openai_success_rate, 1);
      assertEquals(actual.openai_accuracy, 1);
      // Compared with the openai recording's environment, not the native one.
      assertEquals(result.warnings.length, 1);
      assert(
        result.warnings[0]!.includes("duration_seconds: baseline 120, run 20"),
        result.warnings[0],
      );
      assert(!result.warnings[0]!.includes("model"), result.warnings[0]);
      const table = renderTable(result);
      assert(
        table.includes(
          "skipped 5 key(s) of the native scenario (this run is openai, from " +
            "metadata.json (api)): http_req_duration_ms_avg, " +
            "http_req_duration_ms_p95, transcription_latency_seconds_avg, " +
            "transcription_latency_seconds_p95, transcription_success_rate",
        ),
        table,
      );
      assert(table.endsWith("verdict: PASS"), table);
    },
  );
  await t.step(
    "an openai run without metadata is recognised by its metrics",
    async () => {
      const result = evaluateRun(
        await load({
          name: "",
          run: "openai_pass",
          baseline: TWO,
          metadata: null,
        }),
      );
      assertEquals(result.scenario, {
        api: "openai",
        from: "the summary's metrics",
      });
      assertEquals(result.keys.map((k) => k.key), OPENAI_KEYS);
    },
  );
  await t.step("an openai regression fails on the openai keys", async () => {
    const input = await load({ name: "", run: "openai_pass", baseline: TWO });
    input.baseline.metrics.openai_request_duration_ms_p95 = 40;
    input.baseline.tolerances.openai_overhead_ms_p95 = 1;
    const result = evaluateRun(input);
    assertEquals(result.verdict, "regression");
    assertEquals(
      result.keys.filter((k) => !k.pass).map((k) => k.key),
      ["openai_request_duration_ms_p95", "openai_overhead_ms_p95"],
    );
  });
  await t.step(
    "a baseline without the run's scenario's keys is unusable",
    async () => {
      let error: unknown;
      try {
        evaluateRun(
          await load({
            name: "",
            run: "openai_pass",
            baseline: "baseline_python.json",
          }),
        );
      } catch (e) {
        error = e;
      }
      assert(error instanceof ConfigError, `got ${error}`);
      assert(
        error.message.startsWith(
          "baseline_python.json: has no keys for the openai scenario (the run's, from metadata.json (api))",
        ),
        error.message,
      );
    },
  );
  await t.step("deno task assert names the scenario", async () => {
    const out: string[] = [];
    const { code } = await runAssert({
      summaryPath: runPath("openai_pass"),
      baselinePath: path(TWO),
      env: () => undefined,
      out: (l) => out.push(l),
      err: () => {},
    });
    assertEquals(code, 0, out.join("\n"));
    assert(out.includes("scenario: openai (from metadata.json (api))"), out[1]);
  });
});

Deno.test("assert with another baseline ignores the run's own thresholds on that baseline's metrics, and says so", async () => {
  const input = await load({
    name: "other baseline",
    run: "legacy_regression",
    baseline: "baseline_python.json",
  });
  const result = evaluateRun(input);
  assertEquals(result.verdict, "pass");
  assertEquals(result.thresholdsFailed, []);
  const said = result.warnings.filter((w) =>
    /came from the baseline the run was made with/.test(w)
  );
  assertEquals(said.length, 2, result.warnings.join("\n"));
  assert(said.every((w) => w.includes("baseline_python.json")));
  // The baseline the thresholds were derived from still counts them.
  const tight = evaluateRun(
    await load({
      name: "tight",
      run: "legacy_regression",
      baseline: "tight_baseline.json",
    }),
  );
  assertEquals(tight.thresholdsFailed.sort(), [
    "http_req_duration: avg<=0.6",
    "http_req_duration: p(95)<=1.2",
  ]);
});
