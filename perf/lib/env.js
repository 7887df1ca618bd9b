/**
 * The environment both scenarios read, validated in the init stage: a bad
 * value throws an error naming the variable (k6 exit 107).
 *
 * - BASE_URL           service base URL                 (default http://localhost:8001)
 * - ARRIVAL_RATE       iterations started per time unit (default 3, a positive integer)
 * - ARRIVAL_TIME_UNIT  the time unit of ARRIVAL_RATE, k6 syntax (default 1s;
 *                      e.g. ARRIVAL_RATE=25 ARRIVAL_TIME_UNIT=2s is 12.5/s)
 * - DURATION           scenario duration, k6 syntax     (default 2m; e.g. 90s, 1m30s)
 * - PRE_ALLOCATED_VUS  VUs allocated up front           (default 4)
 * - MAX_VUS            most VUs k6 may use              (default 12)
 * - WHISPER_MODEL      the model every job asks for     (default tiny.en-q8_0)
 * - UPLOAD_USER_ID     the virtual users' identity      (default perf-tester)
 * - BASELINE           baseline.json the thresholds come from; relative paths
 *                      resolve against the scenario script's folder
 *                      (default ../baseline.json)
 */

/** Reads an env var as a finite number >= min; throws naming the variable. */
export function numberEnv(name, fallback, { min = 0, integer = false } = {}) {
  const raw = __ENV[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (
    !/^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(raw) || !Number.isFinite(n) ||
    n < min || (integer && !Number.isInteger(n))
  ) {
    throw new Error(
      `${name} must be ${
        integer ? "an integer" : "a number"
      } >= ${min}, got "${raw}"`,
    );
  }
  return n;
}

/** Parses a k6 duration ("2m", "90s", "1m30s", "500ms", "1h"); returns seconds. */
export function durationSeconds(name, raw) {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  const compact = raw.trim();
  let total = 0;
  let consumed = 0;
  for (const m of compact.matchAll(re)) {
    if (m.index !== consumed) break;
    consumed += m[0].length;
    const v = Number(m[1]);
    total += m[2] === "h"
      ? v * 3600
      : m[2] === "m"
      ? v * 60
      : m[2] === "s"
      ? v
      : v / 1000;
  }
  if (compact === "" || consumed !== compact.length || !(total > 0)) {
    throw new Error(
      `${name} must be a k6 duration such as "2m", "90s" or "1m30s", got "${raw}"`,
    );
  }
  return total;
}

/** The shared variables, validated. */
export function arrivalEnv() {
  const env = {
    baseUrl: (__ENV.BASE_URL || "http://localhost:8001").replace(/\/+$/, ""),
    rate: numberEnv("ARRIVAL_RATE", 3, { min: 1, integer: true }),
    timeUnit: __ENV.ARRIVAL_TIME_UNIT || "1s",
    duration: __ENV.DURATION || "2m",
    preAllocatedVUs: numberEnv("PRE_ALLOCATED_VUS", 4, {
      min: 1,
      integer: true,
    }),
    maxVUs: numberEnv("MAX_VUS", 12, { min: 1, integer: true }),
    model: __ENV.WHISPER_MODEL || "tiny.en-q8_0",
    userId: __ENV.UPLOAD_USER_ID || "perf-tester",
    baselinePath: __ENV.BASELINE || "../baseline.json",
  };
  durationSeconds("ARRIVAL_TIME_UNIT", env.timeUnit);
  durationSeconds("DURATION", env.duration); // validates; k6 parses it again
  if (env.maxVUs < env.preAllocatedVUs) {
    throw new Error(
      `MAX_VUS (${env.maxVUs}) must be >= PRE_ALLOCATED_VUS (${env.preAllocatedVUs})`,
    );
  }
  return env;
}

/**
 * The arrival of users for {@linkcode arrivalEnv}'s settings, by
 * `LOAD_SHAPE`:
 * - `constant` (default): a `constant-arrival-rate` scenario;
 * - `spike`: the rate, then `SPIKE_FACTOR` × the rate from `SPIKE_AT` for
 *   `SPIKE_HOLD`, then the rate again until `DURATION` (a
 *   `ramping-arrival-rate` scenario with one-second steps up and down).
 *
 * `gracefulStop` lets iterations started near the end finish, so the
 * summary isn't skewed by interrupted iterations.
 */
export function arrival(env, gracefulStop) {
  const shape = __ENV.LOAD_SHAPE || "constant";
  const common = {
    timeUnit: env.timeUnit,
    preAllocatedVUs: env.preAllocatedVUs,
    maxVUs: env.maxVUs,
    gracefulStop,
  };
  if (shape === "constant") {
    return Object.assign({
      executor: "constant-arrival-rate",
      rate: env.rate,
      duration: env.duration,
    }, common);
  }
  if (shape !== "spike") {
    throw new Error(`LOAD_SHAPE must be constant or spike, got "${shape}"`);
  }
  const factor = numberEnv("SPIKE_FACTOR", 5, { min: 1 });
  const at = durationSeconds("SPIKE_AT", __ENV.SPIKE_AT || "30s");
  const hold = durationSeconds("SPIKE_HOLD", __ENV.SPIKE_HOLD || "20s");
  const total = durationSeconds("DURATION", env.duration);
  const after = total - at - hold - 1;
  if (hold < 2 || after < 1) {
    throw new Error(
      `SPIKE_HOLD (${hold} s) must be at least 2 s, and SPIKE_AT + SPIKE_HOLD ` +
        `(${at + hold} s) at least 2 s shorter than DURATION (${total} s)`,
    );
  }
  const peak = Math.max(env.rate, Math.round(env.rate * factor));
  return Object.assign({
    executor: "ramping-arrival-rate",
    startRate: env.rate,
    stages: [
      { target: env.rate, duration: `${at}s` },
      { target: peak, duration: "1s" },
      { target: peak, duration: `${hold - 1}s` },
      { target: env.rate, duration: "1s" },
      { target: env.rate, duration: `${after}s` },
    ],
  }, common);
}

/** The trend statistics every summary exports. */
export const SUMMARY_TREND_STATS = [
  "avg",
  "min",
  "med",
  "max",
  "p(90)",
  "p(95)",
];
