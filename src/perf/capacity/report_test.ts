import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import {
  CapacityReportSchema,
  describeResult,
  engineReference,
  k6Share,
  renderStepTable,
  resultLine,
  stepCpu,
  summarize,
} from "./report.ts";
import { capacityReport, capacityStep } from "./_testing.ts";

Deno.test("stepCpu and k6Share group the processes", () => {
  const cpu = stepCpu({
    seconds: 20,
    components: {
      api: 0.2,
      "worker-1": 0.7,
      "worker-2": 0.6,
      redis: 0.05,
      k6: 0.25,
      orchestrator: 0.02,
    },
    machine: 1.9,
    cpus: 2,
  });
  assert(Math.abs(cpu.workers - 1.3) < 1e-9);
  assert(Math.abs(cpu.service - 1.55) < 1e-9);
  assertEquals(cpu.orchestrator, 0.02);
  assert(Math.abs(cpu.other - 0.08) < 1e-9);
  assert(Math.abs(k6Share(cpu)! - 0.25 / 1.8) < 1e-9);
  assertEquals(k6Share({ ...cpu, service: 0, k6: 0 }), null);
});

Deno.test("summarize reports the capacity, the k6 adjustment and the goals", async (t) => {
  const steps = [
    capacityStep(1, 4, true),
    capacityStep(2, 6, true),
    capacityStep(3, 9, false),
    capacityStep(4, 7.5, true),
    capacityStep(5, 8, false),
  ];
  await t.step("a capacity", () => {
    const r = summarize(steps, 10, "resolution reached");
    assertEquals(r.capacity_per_s, 7.5);
    assertEquals(r.capacity_step, 4);
    const share = steps[3]!.k6_share!;
    assertEquals(r.k6_share, share);
    assertEquals(r.capacity_without_k6_per_s, 7.5 / (1 - share));
    assertEquals(r.engine_ratio, 0.75);
    assertEquals(r.engine_ratio_without_k6, 7.5 / (1 - share) / 10);
    assertEquals(r.goals.jobs_per_s_met, false);
    assertEquals(r.goals.engine_ratio_met, false);
    assertEquals(r.goals.engine_ratio_without_k6_met, false);
    const report = CapacityReportSchema.parse(capacityReport(steps, r));
    assertEquals(
      resultLine(report),
      "capacity: 7.5 jobs/s (engine 13.00 jobs/s, ratio 0.75)",
    );
    const table = renderStepTable(report.steps);
    assertEquals(table.split("\n").length, 6);
    assertMatch(table, /k6 share/);
    assertMatch(table, /FAIL: p95 3 s > 2 s/);
  });
  await t.step("the ratio as measured and without k6 are judged apart", () => {
    // 7.5 jobs/s against the engine's 8.5: 0.882 as measured, 0.956 with
    // k6's 7.7 % share given back; the goal is met on the second only.
    const r = summarize(steps, 8.5, "resolution reached");
    assertEquals(r.goals.engine_ratio_met, false);
    assertEquals(r.goals.engine_ratio_without_k6_met, true);
    const report = CapacityReportSchema.parse(capacityReport(steps, r));
    report.engine.jobs_per_s = 8.5;
    assertEquals(
      describeResult(report).at(-1),
      "capacity: engine alone 8.50 jobs/s; ratio 0.882: goal ≥ 0.9 NOT met; " +
        "without k6 0.956: met",
    );
  });
  await t.step(
    "two engine readings: the ratio against their mean, the drift shown",
    () => {
      const engine = {
        jobs_per_s: 9,
        after_jobs_per_s: 8,
        streams: 2,
        jobs: 120,
      };
      assertEquals(engineReference(engine), 8.5);
      assertEquals(engineReference({ ...engine, after_jobs_per_s: null }), 9);
      const r = summarize(steps, engineReference(engine), "resolution reached");
      assertEquals(r.engine_ratio, 7.5 / 8.5);
      const report = CapacityReportSchema.parse({
        ...capacityReport(steps, r),
        engine,
      });
      assertEquals(
        describeResult(report).at(-1),
        "capacity: engine alone 9.00 jobs/s before the steps, 8.00 after " +
          "(-11.1 %), mean 8.50; ratio 0.882: goal ≥ 0.9 NOT met; " +
          "without k6 0.956: met",
      );
      assertEquals(
        resultLine(report),
        "capacity: 7.5 jobs/s (engine 8.50 jobs/s, ratio 0.88)",
      );
    },
  );
  await t.step("none passed", () => {
    const r = summarize(
      [capacityStep(1, 4, false)],
      null,
      "resolution reached",
    );
    assertEquals(r.capacity_per_s, null);
    assertEquals(r.engine_ratio, null);
    assertEquals(r.goals.engine_ratio_met, null);
    assertEquals(r.goals.engine_ratio_without_k6_met, null);
    const report = capacityReport([capacityStep(1, 4, false)], r);
    report.engine = { jobs_per_s: null, streams: 0, jobs: 0 };
    assertEquals(
      resultLine(CapacityReportSchema.parse(report)),
      "capacity: none (engine not measured)",
    );
  });
});

Deno.test("the report names the protocol the steps drove", async (t) => {
  const steps = [capacityStep(1, 4, true)];
  const r = summarize(steps, 8, "resolution reached");
  const criteriaLine = (report: unknown) =>
    describeResult(CapacityReportSchema.parse(report))[1]!;
  await t.step("an archive from before --api: native, long polling", () => {
    const old = capacityReport(steps, r) as { setup: Record<string, unknown> };
    delete old.setup.api;
    const report = CapacityReportSchema.parse(old);
    assertEquals(report.setup.api, "native");
    assertMatch(criteriaLine(old), /, long polling on$/);
  });
  await t.step("--api openai: one request per job", () => {
    const report = capacityReport(steps, r);
    report.setup = { ...report.setup, api: "openai", long_poll: false };
    assertMatch(
      criteriaLine(report),
      /, one request per job \(--api openai\)$/,
    );
  });
  await t.step("an unknown protocol is refused", () => {
    const report = capacityReport(steps, r);
    const bad = { ...report, setup: { ...report.setup, api: "soap" } };
    assert(!CapacityReportSchema.safeParse(bad).success);
  });
});
