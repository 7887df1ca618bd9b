/** Test helpers of the capacity search's tests. */
import type { CapacityReport, CapacityStep } from "./report.ts";

/** A capacity step for tests: latency grows with the rate, CPU with it too. */
export function capacityStep(
  index: number,
  rate: number,
  pass: boolean,
  p95: number | null = pass ? 0.4 : 3,
): CapacityStep {
  const service = Math.min(1.8, rate * 0.12);
  const k6 = rate * 0.01;
  return {
    index,
    rate_per_s: rate,
    duration_s: 20,
    offered: Math.round(rate * 20),
    completed: Math.round(rate * 20),
    failed: 0,
    dropped: 0,
    success_rate: 1,
    throughput_per_s: rate,
    latency_s: {
      p50: p95 === null ? null : p95 / 2,
      p95,
      p99: p95 === null ? null : p95 * 1.3,
    },
    cpu_cores: {
      api: service * 0.1,
      workers: service * 0.85,
      redis: service * 0.05,
      k6,
      service,
      orchestrator: 0.01,
      machine: service + k6 + 0.06,
      other: 0.05,
    },
    k6_share: k6 / (service + k6),
    pass,
    reasons: pass ? [] : [`p95 ${p95} s > 2 s`],
    k6_exit_code: 99,
    run_dir: `steps/${String(index).padStart(2, "0")}-${rate}`,
  };
}

/** A capacity report for tests around `steps`. */
export function capacityReport(
  steps: CapacityStep[],
  result: CapacityReport["result"],
): CapacityReport {
  return {
    kind: "capacity",
    started_at: "2026-11-29T12:00:00.000Z",
    finished_at: "2026-11-29T12:05:00.000Z",
    elapsed_s: 300,
    machine: { cpus: 2, cpu_model: "test CPU" },
    setup: {
      model: "tiny.en",
      api: "native",
      workers: 2,
      long_poll: true,
      poll_wait_s: 5,
      max_polls: 6,
      step_duration_s: 20,
      warmup_s: 10,
      start_rate_per_s: 4,
      rate_factor: 1.5,
      max_rate_per_s: 40,
      resolution_per_s: 0.5,
      budget_s: 360,
    },
    criteria: {
      min_success_rate: 0.999,
      max_latency_p95_s: 2,
      min_throughput_ratio: 0.97,
    },
    engine: { jobs_per_s: 13, streams: 2, jobs: 120 },
    steps,
    result,
    method: "test",
  };
}
