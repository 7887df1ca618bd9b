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
      };
      const o = perfOptionsFrom({}, (n) => env[n]);
      assertEquals(faultEnv(o), {
        FAULT_INJECTION: "off",
        FAULT_PROCESSING_DELAY_MS: "0",
        FAULT_API_DELAY_MS: "0",
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

Deno.test("faultEnv sets the switch only when a delay is asked for", () => {
  assertEquals(
    faultEnv({ faultProcessingDelayMs: 120, faultApiDelayMs: 0 }),
    {
      [FAULT_ENV.switch]: "test-only",
      [FAULT_ENV.processingDelayMs]: "120",
      [FAULT_ENV.apiDelayMs]: "0",
    },
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
