import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import { perfOptionsFrom, profileSettingsFrom } from "../run_options.ts";
import { capacityReport, capacityStep } from "../capacity/_testing.ts";
import { summarize } from "../capacity/report.ts";
import { factsOf, tick } from "./_testing.ts";
import {
  drift,
  judgeSmoke,
  judgeSoak,
  judgeSpike,
  profileK6Env,
  type ProfileSettings,
  sloWindows,
  stressVerdict,
} from "./mod.ts";
import { arrival } from "../../../perf/lib/env.js";

const noEnv = () => undefined;
const settings = (over: Partial<ProfileSettings> = {}): ProfileSettings => ({
  ...profileSettingsFrom({ profile: "load" }),
  ...over,
});

/** Jobs every `everyMs` from `t0` with latency `latency(i)` seconds. */
function jobs(
  n: number,
  t0: number,
  everyMs: number,
  latency: (i: number) => number,
) {
  return Array.from({ length: n }, (_, i) => ({
    submittedMs: t0 + i * everyMs,
    latencyS: latency(i),
  }));
}

Deno.test("profiles set their own defaults; flags and variables still win", () => {
  const smoke = perfOptionsFrom({ profile: "smoke" }, noEnv);
  assertEquals([smoke.duration, smoke.rate, smoke.warmup], ["20s", 1, "0s"]);
  assertEquals(perfOptionsFrom({ profile: "soak" }, noEnv).duration, "10m");
  assertEquals(perfOptionsFrom({ profile: "spike" }, noEnv).duration, "110s");
  const load = perfOptionsFrom({}, noEnv);
  assertEquals([load.duration, load.profile.profile], ["2m", "load"]);
  assertEquals(
    perfOptionsFrom({ profile: "soak", duration: "90s" }, noEnv).duration,
    "90s",
  );
  assertEquals(
    perfOptionsFrom(
      { profile: "smoke" },
      (n) => n === "DURATION" ? "45s" : undefined,
    )
      .duration,
    "45s",
  );
  const spike = perfOptionsFrom({
    profile: "spike",
    "spike-factor": "3",
    "spike-at": "10s",
    "spike-hold": "5s",
    slo: "1.5",
  }, noEnv);
  assertEquals(spike.profile.spikeFactor, 3);
  assertEquals(spike.sloGiven, true);
  assertEquals(profileK6Env(spike.profile), {
    THRESHOLDS: "none",
    LOAD_SHAPE: "spike",
    SPIKE_FACTOR: "3",
    SPIKE_AT: "10s",
    SPIKE_HOLD: "5s",
  });
  assertEquals(profileK6Env(load.profile), {
    THRESHOLDS: "baseline",
    LOAD_SHAPE: "constant",
  });
});

Deno.test("bad profile flags are refused naming the flag", () => {
  const refused = (flags: Record<string, string>, re: RegExp) => {
    const e = assertThrows(() => perfOptionsFrom(flags, noEnv));
    assert(e instanceof ConfigError, String(e));
    assertMatch((e as Error).message, re);
  };
  refused({ profile: "chaos" }, /--profile: must be one of smoke, load/);
  refused({ profile: "spike", "spike-factor": "0.5" }, /--spike-factor/);
  refused(
    { profile: "spike", "spike-at": "soon" },
    /--spike-at: must be a k6 duration/,
  );
  refused({ profile: "soak", "leak-limit": "-1" }, /--leak-limit/);
  refused(
    { "spike-factor": "3" },
    /--spike-factor applies to --profile spike, not load/,
  );
  refused(
    { profile: "smoke", "leak-limit": "5" },
    /--leak-limit applies to --profile soak/,
  );
  refused(
    { profile: "soak", repeat: "3" },
    /--repeat applies to the load profile/,
  );
});

Deno.test("k6 arrival: constant by default, a spike as one-second steps", () => {
  const env = {
    rate: 3,
    timeUnit: "1s",
    duration: "110s",
    preAllocatedVUs: 4,
    maxVUs: 12,
  };
  const g = globalThis as unknown as { __ENV: Record<string, string> };
  const saved = g.__ENV;
  try {
    g.__ENV = {};
    assertEquals(arrival(env, "30s").executor, "constant-arrival-rate");
    g.__ENV = {
      LOAD_SHAPE: "spike",
      SPIKE_FACTOR: "5",
      SPIKE_AT: "30s",
      SPIKE_HOLD: "20s",
    };
    const s = arrival(env, "30s") as Record<string, unknown>;
    assertEquals(s.executor, "ramping-arrival-rate");
    assertEquals(s.startRate, 3);
    assertEquals(s.stages, [
      { target: 3, duration: "30s" },
      { target: 15, duration: "1s" },
      { target: 15, duration: "19s" },
      { target: 3, duration: "1s" },
      { target: 3, duration: "59s" },
    ]);
    g.__ENV = { LOAD_SHAPE: "spike", SPIKE_AT: "100s", SPIKE_HOLD: "20s" };
    assertThrows(() => arrival(env, "30s"));
    g.__ENV = { LOAD_SHAPE: "ramp" };
    assertThrows(() => arrival(env, "30s"));
  } finally {
    g.__ENV = saved;
  }
});

Deno.test("smoke passes a clean run and names what failed otherwise", () => {
  const ok = judgeSmoke(
    factsOf({ latencies: jobs(20, 0, 1000, () => 1.05) }),
    settings({ profile: "smoke" }),
    { workload: false, sloGiven: false },
  );
  assertEquals(ok.pass, true);
  assertEquals(ok.checks.map((c) => c.name), [
    "jobs done",
    "accurate",
    "no 5xx",
    "none dropped",
    "latency SLO",
  ]);
  const bad = judgeSmoke(
    factsOf({
      latencies: jobs(20, 0, 1000, (i) => (i < 18 ? 1 : 3)),
      failed: 1,
      accuracyFails: 1,
      k6ServerErrors: 1,
    }),
    settings({ profile: "smoke" }),
    { workload: false, sloGiven: false },
  );
  assertEquals(
    bad.checks.filter((c) => !c.pass).map((c) => c.name),
    ["jobs done", "accurate", "no 5xx", "latency SLO"],
  );
  assertEquals(bad.pass, false);
  // A workload's smoke leaves the SLO out unless --slo is given.
  const mixed = judgeSmoke(
    factsOf({ latencies: jobs(5, 0, 1000, () => 30) }),
    settings({ profile: "smoke" }),
    { workload: true, sloGiven: false },
  );
  assertEquals(mixed.pass, true);
  assertMatch(mixed.notes[0]!, /latency SLO not judged/);
});

/** A soak's timeline: 10 min, workers growing `leakMibPerMin` after a warm-up. */
function soakTimeline(leakMibPerMin: number, redisKibPerJob = 2) {
  const out = [];
  for (let t = 0; t <= 600; t += 2) {
    const warm = Math.min(t, 60);
    const worker = 200 + warm * 0.5 + Math.max(0, t - 60) / 60 * leakMibPerMin +
      (t % 10 === 0 ? 1.5 : 0); // allocator noise
    out.push(tick(t, {
      api: [t * 0.05, 110 + (t % 30 === 0 ? 6 : 0)],
      "worker-1": [t * 0.3, worker],
      "worker-2": [t * 0.3, worker - 3],
      redis: [t * 0.01, 12 + t * 3 * redisKibPerJob / 1024],
      k6: [t * 0.02, 60 + t / 10],
    }, {
      completed: t * 3,
      storage_used_bytes: 1_000_000 + t * 3 * redisKibPerJob * 1024,
    }));
  }
  return out;
}

Deno.test("soak: a leak is caught, a flat service and Redis's retention are not", () => {
  const lat = jobs(1800, 0, 333, () => 1.05);
  const clean = judgeSoak(
    factsOf({ latencies: lat, timeline: soakTimeline(0) }),
    settings({ profile: "soak" }),
  );
  assertEquals(clean.pass, true, JSON.stringify(clean.checks));
  assert(Math.abs(clean.figures["growth_mib_per_hour.worker-1"]!) < 1);
  assert(Math.abs(clean.figures.redis_kib_per_job! - 2) < 0.01);
  // k6's own growth is not the service's.
  assertEquals(
    clean.checks.find((c) => c.name === "no leak")!.detail.includes("k6"),
    false,
  );
  const leaky = judgeSoak(
    factsOf({ latencies: lat, timeline: soakTimeline(1) }), // 60 MiB/h
    settings({ profile: "soak" }),
  );
  assertEquals(leaky.pass, false);
  assertEquals(leaky.checks.filter((c) => !c.pass).map((c) => c.name), [
    "no leak",
  ]);
  assert(Math.abs(leaky.figures["growth_mib_per_hour.worker-1"]! - 60) < 1);
});

Deno.test("soak: latency drift is the last quarter's median over the first judged one", () => {
  const pts = Array.from(
    { length: 100 },
    (_, i) => ({ t: i, v: i < 60 ? 1 : 1.5 }),
  );
  assertEquals(drift(pts), 1.5);
  assert(Number.isNaN(drift(pts.slice(0, 5))));
  const slower = judgeSoak(
    factsOf({
      latencies: jobs(1800, 0, 333, (i) => (i < 1200 ? 1 : 1.4)),
      timeline: soakTimeline(0),
    }),
    settings({ profile: "soak" }),
  );
  assertEquals(slower.checks.filter((c) => !c.pass).map((c) => c.name), [
    "no drift",
  ]);
});

Deno.test("spike: recovery from the last window that missed the SLO; lost vs refused", () => {
  const s = settings({ profile: "spike", spikeAt: "30s", spikeHold: "20s" });
  // 3/s before, 15/s in the burst (30–51 s), 3/s after until 110 s; latency
  // over the SLO for jobs submitted 40–60 s, refusals at 45–47 s.
  const t0 = 1_000_000;
  const lat = [
    ...jobs(90, t0, 333, () => 1.05),
    ...jobs(315, t0 + 30_000, 66, (i) => (i > 150 ? 3 : 1.2)),
    ...jobs(180, t0 + 51_000, 333, (i) => (i < 27 ? 2.8 : 1.05)),
  ].sort((a, b) => a.submittedMs - b.submittedMs);
  const refusedMs = [t0 + 45_000, t0 + 46_000, t0 + 47_000];
  const facts = factsOf({
    latencies: lat,
    failed: 3,
    refusedMs,
    firstRequestMs: t0,
    timeline: [
      tick(0, {}, { queued: 0 }),
      tick(40, {}, { queued: 37 }),
      tick(80, {}, {}),
    ],
  });
  const windows = sloWindows(facts, t0, t0 + 30_000, 2);
  assertEquals(windows[0]!.from, 30);
  assert(windows.some((w) => w.refused === 3 && !w.ok));
  const v = judgeSpike(facts, s);
  assertEquals(v.pass, true, JSON.stringify(v.checks));
  // Jobs submitted up to 51 + 27/3 = 60 s missed it: the window 55–60 s
  // ends 9 s after the burst (51 s).
  assertEquals(v.figures.recovery_s, 9);
  assertEquals(v.figures.peak_queue_depth, 37);
  assertEquals([v.figures.refused, v.figures.lost], [3, 0]);
  // A job that failed beyond the refusals is lost.
  assertEquals(
    judgeSpike({
      ...facts,
      summary: factsOf({ latencies: lat, failed: 4 }).summary,
    }, s)
      .checks.find((c) => c.name === "nothing lost")!.pass,
    false,
  );
  // Not recovered by the end of the run: fails.
  const stuck = judgeSpike(
    factsOf({
      latencies: jobs(300, t0, 333, (i) => (i < 90 ? 1 : 3)),
      firstRequestMs: t0,
    }),
    s,
  );
  assertEquals(
    stuck.checks.find((c) => c.name === "SLO recovered")!.pass,
    false,
  );
  assertEquals(stuck.figures.recovery_s, null);
  // Too slow to recover: over --recovery-limit.
  const slow = judgeSpike(facts, { ...s, recoveryLimitS: 5 });
  assertEquals(slow.pass, false);
});

Deno.test("stress: the breaking rate is the lowest failing rate above the capacity", () => {
  const steps = [
    capacityStep(1, 4, true),
    capacityStep(2, 6, true),
    capacityStep(3, 9, false),
    capacityStep(4, 7.5, true),
    capacityStep(5, 8, false),
  ];
  const v = stressVerdict(
    capacityReport(steps, summarize(steps, 13, "resolution reached")),
  );
  assertEquals(v.figures.capacity_per_s, 7.5);
  assertEquals(v.figures.breaking_rate_per_s, 8);
  assertMatch(v.notes[0]!, /broke at 8 jobs\/s/);
  const none = [capacityStep(1, 4, false)];
  const nv = stressVerdict(
    capacityReport(none, summarize(none, 13, "resolution reached")),
  );
  assertEquals(nv.pass, false);
});
