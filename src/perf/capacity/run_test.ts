import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import { CAPACITY_DEFAULTS, capacityOptionsFrom } from "./run.ts";

const noEnv = () => undefined;

Deno.test("capacityOptionsFrom validates the search flags, naming the flag", async (t) => {
  await t.step("defaults: long polling, 20 s steps from 4 jobs/s", () => {
    const o = capacityOptionsFrom({}, noEnv);
    assertEquals(o.search, {
      stepDuration: "20s",
      startRate: 4,
      rateFactor: 1.5,
      maxRate: 40,
      resolution: 0.5,
      budget: "6m",
      engineJobs: 120,
    });
    assertEquals(o.perf.longPoll, true);
    assertEquals(o.perf.pollInterval, Number(CAPACITY_DEFAULTS.pollInterval));
    assertEquals(o.perf.maxPolls, Number(CAPACITY_DEFAULTS.maxPolls));
    assertEquals(o.perf.warmup, "10s");
    assertEquals(o.perf.duration, "20s");
    assertEquals(o.perf.baseUrl, undefined);
  });
  await t.step("flags and the perf variables are read", () => {
    const env: Record<string, string> = {
      POLL_INTERVAL: "2",
      BASE_URL: "http://elsewhere:1",
      WORKERS: "3",
    };
    const o = capacityOptionsFrom({
      "step-duration": "5s",
      "start-rate": "1",
      "max-rate": "2",
      "engine-jobs": "0",
      warmup: "0s",
    }, (n) => env[n]);
    assertEquals(o.search.stepDuration, "5s");
    assertEquals([o.search.startRate, o.search.maxRate], [1, 2]);
    assertEquals(o.search.engineJobs, 0);
    assertEquals(o.perf.pollInterval, 2);
    assertEquals(o.perf.workers, 3);
    assertEquals(o.perf.warmup, "0s");
    assertEquals(o.perf.baseUrl, undefined);
  });
  await t.step("--api openai: one request per job, nothing polls", () => {
    const o = capacityOptionsFrom({ api: "openai" }, noEnv);
    assertEquals(o.perf.api, "openai");
    assertEquals(o.perf.longPoll, false);
    assertEquals(o.perf.warmup, "10s");
  });
  const bad: [Record<string, string>, RegExp][] = [
    [{ "step-duration": "soon" }, /--step-duration: must be a k6 duration/],
    [{ "start-rate": "0" }, /--start-rate: .*\(got "0"\)/],
    [{ "rate-factor": "1" }, /--rate-factor/],
    [{ "max-rate": "x" }, /--max-rate/],
    [{ resolution: "0" }, /--resolution/],
    [{ budget: "5" }, /--budget/],
    [{ "engine-jobs": "1.5" }, /--engine-jobs/],
    [
      { "start-rate": "10", "max-rate": "5" },
      /--max-rate \(5\) must be >= --start-rate \(10\)/,
    ],
    [{ "start-rate": "0.2" }, /--start-rate \(0\.2\) must be >= --resolution/],
    [{ resolution: "0.0005", "start-rate": "1" }, /--resolution/],
    [{ budget: "10s" }, /--budget \(10s\) must be at least --step-duration/],
    [{ rate: "5" }, /--rate can't be combined with --find-capacity/],
    [{ duration: "1m" }, /--duration can't be combined/],
    [{ "base-url": "http://x" }, /--base-url can't be combined/],
    [{ repeat: "2" }, /--repeat can't be combined/],
    [{ api: "soap" }, /--api/],
    [
      { api: "openai", "long-poll": "true" },
      /--long-poll applies to the native protocol's polling/,
    ],
    [{ workload: "mixed" }, /--workload can't be combined .*sample workload/],
    [{ workers: "0" }, /--workers \/ WORKERS/],
  ];
  for (const [flags, message] of bad) {
    await t.step(JSON.stringify(flags), () => {
      const error = assertThrows(() => capacityOptionsFrom(flags, noEnv));
      assert(error instanceof ConfigError, String(error));
      assertMatch(error.message, message);
    });
  }
});
