/**
 * The openai scenario (perf/openai_scenario.js): how it reads the route's
 * answers (perf/lib/openai_response.js, imported here as k6 imports it), and
 * its options and thresholds as the real pinned k6 sees them.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { ensureK6 } from "../setup/mod.ts";
import {
  entriesOf,
  loadBaseline,
  selectEntries,
  thresholdExpression,
} from "./baseline/baseline.ts";
import {
  expectedModel,
  header,
  msValue,
  parseAliases,
  readTranscription,
} from "../../perf/lib/openai_response.js";
import { hasExpectedWords, words } from "../../perf/lib/words.js";
import { baselineThresholds } from "../../perf/lib/thresholds.js";
import { OPENAI_METRICS, SCENARIOS } from "./scenarios.ts";

const SCRIPT = SCENARIOS.openai.script;
const SCRIPT_EXCEPTION = 107; // errext/exitcodes/codes.go
const BASELINE = new URL("../../baseline.json", import.meta.url).pathname;

/** A 200 as the route answers it (headers as k6 canonicalizes them). */
function answer(over: {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  durationMs?: number;
} = {}) {
  return {
    status: over.status ?? 200,
    headers: over.headers ?? {
      "X-Model": "tiny.en-q8_0",
      "X-Job-Id": "6f1c0c7e-1d7a-4a53-9d0e-7b1c2f9e0a11",
      "X-Processing-Ms": "91.4",
      "X-Queue-Wait-Ms": "3",
      "Content-Type": "application/json",
    },
    body: over.body ?? JSON.stringify({ text: " Hello world." }),
    durationMs: over.durationMs ?? 101.25,
  };
}

Deno.test("readTranscription reads a success, its timings and our overhead", () => {
  const a = readTranscription(answer(), { model: "tiny.en-q8_0" });
  assertEquals(a.ok, true);
  assertEquals(a.problems, []);
  assertEquals(a.text, " Hello world.");
  assertEquals(a.model, "tiny.en-q8_0");
  assertEquals(a.jobId, "6f1c0c7e-1d7a-4a53-9d0e-7b1c2f9e0a11");
  assertEquals(a.processingMs, 91.4);
  assertEquals(a.queueWaitMs, 3);
  // 101.25 − 91.4 − 3
  assert(Math.abs(a.overheadMs! - 6.85) < 1e-9, `overhead ${a.overheadMs}`);
});

Deno.test("readTranscription finds headers whatever their case", () => {
  const a = readTranscription(
    answer({
      headers: {
        "x-model": "tiny.en-q8_0",
        "x-processing-ms": "80",
        "X-QUEUE-WAIT-MS": "12",
      },
      durationMs: 100,
    }),
    { model: "tiny.en-q8_0" },
  );
  assertEquals([a.ok, a.processingMs, a.queueWaitMs, a.overheadMs], [
    true,
    80,
    12,
    8,
  ]);
  assertEquals(header({ "Retry-After": "2" }, "retry-after"), "2");
  assertEquals(header({}, "X-Model"), undefined);
});

Deno.test("readTranscription takes only numbers >= 0 as milliseconds", () => {
  assertEquals(msValue("0"), 0);
  assertEquals(msValue("12.5"), 12.5);
  for (const bad of [undefined, "", "abc", "-3", "NaN", "1e3", "12ms"]) {
    assertEquals(msValue(bad), undefined, `${bad}`);
  }
  const a = readTranscription(
    answer({
      headers: {
        "X-Model": "tiny.en-q8_0",
        "X-Processing-Ms": "soon",
        "X-Queue-Wait-Ms": "3",
      },
    }),
  );
  // The user got the transcript; the missing timing is reported, and no
  // overhead can be computed without it.
  assertEquals(a.ok, true);
  assertEquals(a.overheadMs, undefined);
  assertEquals(a.problems, ["X-Processing-Ms is missing or not a number"]);
});

Deno.test("readTranscription reads OpenAI-shaped errors as failures", async (t) => {
  await t.step("429 under overload", () => {
    const a = readTranscription(answer({
      status: 429,
      headers: { "Retry-After": "1" },
      body: JSON.stringify({
        error: {
          message: "the queue is full; retry later",
          type: "rate_limit_exceeded",
          param: null,
          code: "queue_full",
        },
      }),
    }));
    assertEquals(a.ok, false);
    assertEquals(a.text, undefined);
    assertEquals(a.problems, [
      "status 429 rate_limit_exceeded (queue_full): the queue is full; retry later",
    ]);
  });
  await t.step("a body that is not JSON", () => {
    const a = readTranscription(answer({ status: 502, body: "Bad Gateway" }));
    assertEquals([a.ok, a.problems], [false, ["status 502"]]);
  });
  await t.step("a 200 without text", () => {
    const a = readTranscription(answer({ body: "{}" }));
    assertEquals(a.ok, false);
    assertEquals(a.problems, [
      "status 200 without a transcript (`text`) in the body",
    ]);
  });
  await t.step("no response at all (k6 status 0)", () => {
    const a = readTranscription({
      status: 0,
      headers: {},
      body: null,
      durationMs: 0,
    });
    assertEquals([a.ok, a.problems], [false, ["status 0"]]);
  });
});

Deno.test("readTranscription holds the route to the model asked for", () => {
  const other = answer({
    headers: {
      "X-Model": "base.en",
      "X-Processing-Ms": "1",
      "X-Queue-Wait-Ms": "1",
    },
  });
  const a = readTranscription(other, { model: "tiny.en-q8_0" });
  assertEquals(a.ok, false);
  assertEquals(a.problems, ["X-Model is base.en, asked for tiny.en-q8_0"]);
  // whisper-1 is the service's default, whichever model that is.
  assertEquals(readTranscription(other, { model: "whisper-1" }).ok, true);
});

Deno.test("readTranscription expects an alias's model (MODEL_ALIASES, as the service reads it)", () => {
  const aliases = parseAliases(" tiny=tiny.en-q8_0 ,whisper-1=base.en");
  assertEquals(aliases, { tiny: "tiny.en-q8_0", "whisper-1": "base.en" });
  assertEquals(parseAliases(undefined), {});
  assertEquals(parseAliases(""), {});
  assertEquals(expectedModel("tiny", aliases), "tiny.en-q8_0");
  assertEquals(expectedModel("whisper-1", aliases), "base.en");
  assertEquals(expectedModel("whisper-1", {}), undefined);
  assertEquals(expectedModel("tiny.en", aliases), "tiny.en");
  const served = answer(); // X-Model: tiny.en-q8_0
  assertEquals(readTranscription(served, { model: "tiny", aliases }).ok, true);
  assertEquals(readTranscription(served, { model: "tiny" }).problems, [
    "X-Model is tiny.en-q8_0, asked for tiny",
  ]);
  assertEquals(
    readTranscription(served, { model: "whisper-1", aliases }).problems,
    ["X-Model is tiny.en-q8_0, asked for whisper-1 (an alias of base.en)"],
  );
  for (const bad of ["tiny", "a=b=c", "=x"]) {
    let error: unknown;
    try {
      parseAliases(bad);
    } catch (e) {
      error = e;
    }
    assert(
      error instanceof Error && error.message.startsWith("MODEL_ALIASES must"),
      `${bad}: ${error}`,
    );
  }
});

Deno.test("words and hasExpectedWords judge a transcript as the native scenario does", () => {
  assertEquals(words(" Hello, world! It's 3."), [
    "hello",
    "world",
    "it's",
    "3",
  ]);
  assertEquals(words(undefined), []);
  assertEquals(hasExpectedWords(["hello", "world"], "Hello world."), true);
  assertEquals(hasExpectedWords(["hello", "world"], "Hello word."), false);
  assertEquals(hasExpectedWords(["hello"], undefined), false);
});

Deno.test("baselineThresholds takes only the running scenario's keys", async () => {
  const text = await Deno.readTextFile(BASELINE);
  const entries = entriesOf(await loadBaseline(BASELINE), BASELINE);
  for (const api of ["native", "openai"] as const) {
    const expected: Record<string, string[]> = {};
    for (const e of selectEntries(entries, api).selected) {
      (expected[e.definition.metric] ??= []).push(thresholdExpression(e));
    }
    (expected.dropped_iterations ??= []).push("count<1");
    (expected.http_req_failed ??= []).push("rate<0.02");
    assertEquals(baselineThresholds(() => text, BASELINE, api), expected);
  }
  const openai = baselineThresholds(() => text, BASELINE, "openai");
  // Every openai metric but the queue wait (recorded, not judged).
  assertEquals(
    Object.keys(openai).sort(),
    [
      "dropped_iterations",
      "http_req_failed",
      ...Object.values(OPENAI_METRICS).filter((m) =>
        m !== OPENAI_METRICS.queueWait
      ),
    ].sort(),
  );
});

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

Deno.test("openai scenario: constant arrival with the shared knobs and the openai thresholds", async () => {
  const r = await k6([
    "inspect",
    "-e",
    `BASELINE=${BASELINE}`,
    "-e",
    "ARRIVAL_RATE=25",
    "-e",
    "ARRIVAL_TIME_UNIT=10s",
    "-e",
    "DURATION=45s",
    "-e",
    "PRE_ALLOCATED_VUS=6",
    "-e",
    "MAX_VUS=9",
    SCRIPT,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const options = JSON.parse(r.stdout);
  const s = options.scenarios.openai_transcribe;
  assertEquals(
    [s.executor, s.rate, s.timeUnit, s.duration, s.preAllocatedVUs, s.maxVUs],
    ["constant-arrival-rate", 25, "10s", "45s", 6, 9],
  );
  assertEquals(Object.keys(options.scenarios), ["openai_transcribe"]);
  // The request timeout (60 s) plus 30 s to finish.
  assertEquals(s.gracefulStop, "1m30s");
  const text = await Deno.readTextFile(BASELINE);
  assertEquals(
    options.thresholds,
    baselineThresholds(() => text, BASELINE, "openai"),
  );
  for (const metric of Object.keys(options.thresholds)) {
    assert(
      !metric.startsWith("transcription_") && metric !== "http_req_duration",
      `a native key's metric in the openai thresholds: ${metric}`,
    );
  }
});

Deno.test("openai scenario rejects invalid environment in the init stage", async (t) => {
  const cases: [string, string, string][] = [
    ["ARRIVAL_RATE", "0", 'ARRIVAL_RATE must be an integer >= 1, got \\"0\\"'],
    ["DURATION", "2 minutes", "DURATION must be a k6 duration"],
    ["MAX_VUS", "2", "MAX_VUS (2) must be >= PRE_ALLOCATED_VUS (4)"],
    ["REQUEST_TIMEOUT", "0", "REQUEST_TIMEOUT must be a number >= 1"],
    ["MODEL_ALIASES", "tiny", "MODEL_ALIASES must be alias=model"],
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
