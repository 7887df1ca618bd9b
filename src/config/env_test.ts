import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../testing/assert.ts";
import { ConfigError } from "../errors/mod.ts";
import { ApiConfigSchema, parseEnv, WorkerConfigSchema } from "./env.ts";

Deno.test("config defaults and coercion", () => {
  const api = parseEnv(ApiConfigSchema, { PORT: "0", CHUNK_SIZE: "4096" });
  assertEquals(api.PORT, 0);
  assertEquals(api.CHUNK_SIZE, 4096);
  assertEquals(api.AUTH_MODE, "open");
  const worker = parseEnv(WorkerConfigSchema, {});
  assertEquals(worker.WORKER_CONCURRENCY, 1);
  assertEquals(worker.AUDIO_CTX, "auto");
  // An hour-long podcast fits, in the API and in the worker that decodes it,
  // and no longer than an identity's audio quota.
  assertEquals(api.MAX_AUDIO_DURATION_S, 7200);
  assertEquals(api.MAX_AUDIO_DURATION_S, api.QUOTA_AUDIO_S);
  assertEquals(
    parseEnv(WorkerConfigSchema, { MAX_AUDIO_DURATION_S: "5400" })
      .MAX_AUDIO_DURATION_S,
    5400,
  );
  assertEquals(worker.MAX_AUDIO_DURATION_S, 7200);
});

Deno.test("config errors name the variable and the expectation", () => {
  const e = assertThrows(() =>
    parseEnv(WorkerConfigSchema, {
      WORKER_CONCURRENCY: "lots",
      REDIS_URL: "localhost",
    })
  );
  assert(e instanceof ConfigError);
  assertMatch(e.message, /WORKER_CONCURRENCY="lots"/);
  assertMatch(
    e.message,
    /REDIS_URL="localhost": must look like redis:\/\/host:port/,
  );
});

Deno.test("REDIS_URL takes a redis:// URL or the absolute path of a Unix socket", () => {
  const byPath = parseEnv(WorkerConfigSchema, {
    REDIS_URL: "/tmp/stack/redis.sock",
  });
  assertEquals(byPath.REDIS_URL, "/tmp/stack/redis.sock");
  const e = assertThrows(() =>
    parseEnv(WorkerConfigSchema, { REDIS_URL: "tmp/redis.sock" })
  );
  assertMatch((e as Error).message, /absolute path of Redis's Unix socket/);
});

Deno.test("fault injection can't be enabled by accident", () => {
  const noSwitch = assertThrows(() =>
    parseEnv(WorkerConfigSchema, { FAULT_PROCESSING_DELAY_MS: "50" })
  );
  assertMatch(
    (noSwitch as Error).message,
    /FAULT_PROCESSING_DELAY_MS.*FAULT_INJECTION=test-only/,
  );
  const prod = assertThrows(() =>
    parseEnv(ApiConfigSchema, {
      FAULT_INJECTION: "test-only",
      FAULT_API_DELAY_MS: "5",
      DEPLOYMENT_ENV: "production",
    })
  );
  assertMatch(
    (prod as Error).message,
    /refused when DEPLOYMENT_ENV=production/,
  );
  const ok = parseEnv(WorkerConfigSchema, {
    FAULT_INJECTION: "test-only",
    FAULT_PROCESSING_DELAY_MS: "50",
  });
  assertEquals(ok.FAULT_PROCESSING_DELAY_MS, 50);
  assertEquals(parseEnv(ApiConfigSchema, {}).FAULT_API_DELAY_MS, 0);
  const leak = assertThrows(() =>
    parseEnv(WorkerConfigSchema, { FAULT_LEAK_KIB_PER_JOB: "64" })
  );
  assertMatch(
    (leak as Error).message,
    /FAULT_LEAK_KIB_PER_JOB.*FAULT_INJECTION=test-only/,
  );
  assertEquals(
    parseEnv(WorkerConfigSchema, {
      FAULT_INJECTION: "test-only",
      FAULT_LEAK_KIB_PER_JOB: "64",
    }).FAULT_LEAK_KIB_PER_JOB,
    64,
  );
});

Deno.test("config AUDIO_CTX_MIN_LOGPROB takes a log-probability or off", () => {
  assertEquals(
    parseEnv(WorkerConfigSchema, {}).AUDIO_CTX_MIN_LOGPROB,
    undefined,
  );
  assertEquals(
    parseEnv(WorkerConfigSchema, { AUDIO_CTX_MIN_LOGPROB: "-0.8" })
      .AUDIO_CTX_MIN_LOGPROB,
    -0.8,
  );
  assertEquals(
    parseEnv(WorkerConfigSchema, { AUDIO_CTX_MIN_LOGPROB: "off" })
      .AUDIO_CTX_MIN_LOGPROB,
    -Infinity,
  );
  for (const bad of ["0.5", "-31", "low"]) {
    const e = assertThrows(() =>
      parseEnv(WorkerConfigSchema, { AUDIO_CTX_MIN_LOGPROB: bad })
    );
    assertMatch((e as Error).message, /AUDIO_CTX_MIN_LOGPROB=/);
  }
});
