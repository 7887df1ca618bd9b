import { assertEquals, assertMatch, assertThrows } from "../testing/assert.ts";
import { ConfigError } from "../errors/mod.ts";
import { arrivalRateEnv } from "./k6_run.ts";
import {
  dashboardPeriod,
  FAULT_ENV,
  faultEnv,
  perfOptionsFrom,
} from "./run_options.ts";

const noEnv = () => undefined;

Deno.test("perfOptionsFrom reads --repeat and the fault flags, all off by default", async (t) => {
  await t.step("defaults", () => {
    const o = perfOptionsFrom({}, noEnv);
    assertEquals(o.repeat, 1);
    assertEquals(o.faultProcessingDelayMs, 0);
    assertEquals(o.faultApiDelayMs, 0);
  });
  await t.step("flags", () => {
    const o = perfOptionsFrom({
      repeat: "3",
      "fault-processing-delay-ms": "250",
      "fault-api-delay-ms": "40",
    }, noEnv);
    assertEquals([o.repeat, o.faultProcessingDelayMs, o.faultApiDelayMs], [
      3,
      250,
      40,
    ]);
  });
  await t.step(
    "fault variables in the environment don't switch faults on",
    () => {
      const env: Record<string, string> = {
        FAULT_INJECTION: "test-only",
        FAULT_PROCESSING_DELAY_MS: "500",
        FAULT_LEAK_KIB_PER_JOB: "64",
      };
      const o = perfOptionsFrom({}, (n) => env[n]);
      assertEquals(faultEnv(o), {
        FAULT_INJECTION: "off",
        FAULT_PROCESSING_DELAY_MS: "0",
        FAULT_API_DELAY_MS: "0",
        FAULT_PROCESSING_HANG: "0",
        FAULT_LEAK_KIB_PER_JOB: "0",
      });
    },
  );
  await t.step("a warm-up by default only for repeats", () => {
    assertEquals(perfOptionsFrom({}, noEnv).warmup, "0s");
    assertEquals(perfOptionsFrom({ repeat: "3" }, noEnv).warmup, "5s");
    assertEquals(
      perfOptionsFrom({ repeat: "3", warmup: "0" }, noEnv).warmup,
      "0",
    );
    const e = assertThrows(() => perfOptionsFrom({ warmup: "soon" }, noEnv));
    assertMatch((e as Error).message, /--warmup/);
  });
  await t.step("invalid values name the flag", () => {
    const e = assertThrows(() => perfOptionsFrom({ repeat: "0" }, noEnv));
    assertMatch((e as Error).message, /--repeat/);
    const f = assertThrows(() =>
      perfOptionsFrom({ "fault-api-delay-ms": "-1" }, noEnv)
    );
    assertMatch((f as Error).message, /--fault-api-delay-ms/);
  });
  await t.step(
    "--fresh-stacks: off by default, refused with --base-url",
    () => {
      assertEquals(perfOptionsFrom({ repeat: "3" }, noEnv).freshStacks, false);
      assertEquals(
        perfOptionsFrom({ repeat: "3", "fresh-stacks": true }, noEnv)
          .freshStacks,
        true,
      );
      const e = assertThrows(() =>
        perfOptionsFrom({
          "base-url": "http://example.com",
          "fresh-stacks": true,
        }, noEnv)
      );
      assertEquals(e instanceof ConfigError, true);
      assertMatch((e as Error).message, /--fresh-stacks/);
    },
  );
  await t.step("faults need the embedded stack", () => {
    const e = assertThrows(() =>
      perfOptionsFrom({
        "base-url": "http://example.com",
        "fault-processing-delay-ms": "10",
      }, noEnv)
    );
    assertEquals(e instanceof ConfigError, true);
  });
});

Deno.test("perfOptionsFrom --api: native by default, openai on request, anything else refused naming the flag", async (t) => {
  await t.step("default", () => {
    assertEquals(perfOptionsFrom({}, noEnv).api, "native");
  });
  await t.step("each protocol", () => {
    assertEquals(perfOptionsFrom({ api: "native" }, noEnv).api, "native");
    const o = perfOptionsFrom({
      api: "openai",
      rate: "5",
      duration: "30s",
      repeat: "3",
      workers: "2",
      model: "tiny.en",
    }, noEnv);
    assertEquals([o.api, o.rate, o.duration, o.repeat, o.workers, o.model], [
      "openai",
      5,
      "30s",
      3,
      2,
      "tiny.en",
    ]);
  });
  await t.step("a bad value", () => {
    for (const bad of ["OpenAI", "grpc", ""]) {
      const e = assertThrows(() => perfOptionsFrom({ api: bad }, noEnv));
      assertEquals(e instanceof ConfigError, true);
      assertMatch(
        (e as Error).message,
        new RegExp(`--api: must be one of native, openai \\(got "${bad}"\\)`),
      );
    }
  });
  await t.step("the polling flags don't apply to openai", () => {
    for (
      const [flag, value] of [
        ["long-poll", true],
        ["poll-interval", "2"],
        ["max-polls", "5"],
      ] as const
    ) {
      const e = assertThrows(() =>
        perfOptionsFrom({ api: "openai", [flag]: value }, noEnv)
      );
      assertEquals(e instanceof ConfigError, true);
      assertMatch((e as Error).message, new RegExp(`^--${flag} applies to`));
      // ...and still do to native.
      assertEquals(perfOptionsFrom({ [flag]: value }, noEnv).api, "native");
    }
  });
});

Deno.test("faultEnv sets the switch only when a fault is asked for", () => {
  assertEquals(
    faultEnv({
      faultProcessingDelayMs: 120,
      faultApiDelayMs: 0,
      faultLeakKibPerJob: 0,
    }),
    {
      [FAULT_ENV.switch]: "test-only",
      [FAULT_ENV.processingDelayMs]: "120",
      [FAULT_ENV.apiDelayMs]: "0",
      [FAULT_ENV.processingHang]: "0",
      [FAULT_ENV.leakKibPerJob]: "0",
    },
  );
  const leak = faultEnv({
    faultProcessingDelayMs: 0,
    faultApiDelayMs: 0,
    faultLeakKibPerJob: 256,
  });
  assertEquals(leak[FAULT_ENV.switch], "test-only");
  assertEquals(leak[FAULT_ENV.leakKibPerJob], "256");
  assertEquals(
    faultEnv({
      faultProcessingDelayMs: 0,
      faultApiDelayMs: 0,
      faultLeakKibPerJob: 0,
    })[FAULT_ENV.switch],
    "off",
  );
});

Deno.test("dashboardPeriod gives short runs enough periods for the report", () => {
  assertEquals(dashboardPeriod(10), "1s");
  assertEquals(dashboardPeriod(30), "3s");
  assertEquals(dashboardPeriod(120), "10s");
  assertEquals(dashboardPeriod(3600), "10s");
});

Deno.test("arrivalRateEnv expresses fractional rates per a longer time unit", () => {
  assertEquals(arrivalRateEnv(3), {
    ARRIVAL_RATE: "3",
    ARRIVAL_TIME_UNIT: "1s",
  });
  assertEquals(arrivalRateEnv(12.5), {
    ARRIVAL_RATE: "125",
    ARRIVAL_TIME_UNIT: "10s",
  });
  assertEquals(arrivalRateEnv(0.25), {
    ARRIVAL_RATE: "25",
    ARRIVAL_TIME_UNIT: "100s",
  });
  assertThrows(() => arrivalRateEnv(0));
  assertThrows(() => arrivalRateEnv(1 / 3));
});
