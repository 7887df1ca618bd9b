/**
 * The k6 scenario's own checks, run with the real pinned k6. Load against
 * the real service is exercised by `deno task perf`; the runs captured from
 * it live in testdata/runs/.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { ensureK6 } from "../setup/mod.ts";
import {
  entriesOf,
  loadBaseline,
  selectEntries,
  thresholdExpression,
} from "./baseline/baseline.ts";

const SCRIPT = new URL("../../perf/transcription_scenario.js", import.meta.url)
  .pathname;
const SCRIPT_EXCEPTION = 107; // errext/exitcodes/codes.go

async function k6(args: string[]) {
  const out = await new Deno.Command(await ensureK6(), {
    args,
    env: { K6_NO_USAGE_REPORT: "true" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("transcription scenario rejects invalid environment in the init stage", async (t) => {
  const cases: [string, string, string][] = [
    [
      "ARRIVAL_RATE",
      "abc",
      'ARRIVAL_RATE must be an integer >= 1, got \\"abc\\"',
    ],
    ["ARRIVAL_RATE", "0", 'ARRIVAL_RATE must be an integer >= 1, got \\"0\\"'],
    [
      "ARRIVAL_RATE",
      "2.5",
      'ARRIVAL_RATE must be an integer >= 1, got \\"2.5\\"',
    ],
    ["DURATION", "2 minutes", "DURATION must be a k6 duration"],
    ["ARRIVAL_TIME_UNIT", "soon", "ARRIVAL_TIME_UNIT must be a k6 duration"],
    ["POLL_INTERVAL", "-1", "POLL_INTERVAL must be a number >= 0"],
    ["MAX_POLLS", "x", "MAX_POLLS must be an integer >= 1"],
    ["LONG_POLL", "yes", "LONG_POLL must be 0 or 1"],
    ["BASELINE", "/nonexistent/baseline.json", "BASELINE: cannot read"],
  ];
  for (const [name, value, message] of cases) {
    await t.step(`${name}=${value}`, async () => {
      const r = await k6(["run", "-q", "-e", `${name}=${value}`, SCRIPT]);
      assertEquals(r.code, SCRIPT_EXCEPTION, r.stderr);
      assert(r.stderr.includes(message), r.stderr);
    });
  }
});

Deno.test("transcription scenario derives its thresholds from the baseline", async (t) => {
  for (
    const file of [
      "baseline.json",
      "src/perf/testdata/baseline_definitions.json",
    ]
  ) {
    await t.step(file, async () => {
      const path = new URL(`../../${file}`, import.meta.url).pathname;
      const r = await k6(["inspect", "-e", `BASELINE=${path}`, SCRIPT]);
      assertEquals(r.code, 0, r.stderr);
      const options = JSON.parse(r.stdout);
      const expected: Record<string, string[]> = {};
      // Only the native scenario's keys: baseline.json has openai keys too.
      const { selected } = selectEntries(
        entriesOf(await loadBaseline(path), path),
        "native",
      );
      for (const e of selected) {
        (expected[e.definition.metric] ??= []).push(thresholdExpression(e));
      }
      (expected.dropped_iterations ??= []).push("count<1");
      (expected.http_req_failed ??= []).push("rate<0.02");
      assertEquals(options.thresholds, expected);
      assertEquals(
        options.scenarios.submit_and_poll.executor,
        "constant-arrival-rate",
      );
      assertEquals(options.scenarios.submit_and_poll.rate, 3);
      assertEquals(options.scenarios.submit_and_poll.timeUnit, "1s");
      assertEquals(options.scenarios.submit_and_poll.duration, "2m0s");
    });
  }
});

Deno.test("transcription scenario takes a time unit for fractional rates", async () => {
  const r = await k6([
    "inspect",
    "-e",
    "ARRIVAL_RATE=125",
    "-e",
    "ARRIVAL_TIME_UNIT=10s",
    SCRIPT,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const scenario = JSON.parse(r.stdout).scenarios.submit_and_poll;
  assertEquals([scenario.rate, scenario.timeUnit], [125, "10s"]);
});
