/**
 * The stress test's verdict, from the capacity search's report: the rising
 * rates of its steps until the SLO (the search's criteria) breaks; the
 * breaking rate is the lowest rate that failed above the capacity.
 */
import type { CapacityReport } from "../capacity/report.ts";
import {
  fmt,
  type ProfileCheck,
  type ProfileVerdict,
  verdictOf,
} from "./verdict.ts";

/** Judges a stress run (`--profile stress`, the capacity search). */
export function stressVerdict(r: CapacityReport): ProfileVerdict {
  const capacity = r.result.capacity_per_s;
  const failed = r.steps.filter((s) =>
    !s.pass && (capacity === null || s.rate_per_s > capacity)
  );
  const breaking = failed.length
    ? Math.min(...failed.map((s) => s.rate_per_s))
    : null;
  const c = r.criteria;
  const slo = `success ≥ ${
    fmt(c.min_success_rate * 100, 1)
  } %, p95 ≤ ${c.max_latency_p95_s} s, throughput ≥ ${
    fmt(c.min_throughput_ratio * 100, 0)
  } % of the rate`;
  const checks: ProfileCheck[] = [
    {
      name: "capacity",
      pass: capacity !== null,
      detail: capacity === null
        ? `no rate met the SLO (${slo})`
        : `${capacity} jobs/s sustained (the project's goal on 2 cores: ${r.result.goals.min_jobs_per_s}, ${
          r.result.goals.jobs_per_s_met ? "met" : "not met"
        })`,
    },
  ];
  const notes = [
    breaking === null
      ? `the SLO held up to ${r.setup.max_rate_per_s} jobs/s (--max-rate): no breaking rate found (${r.result.stop_reason})`
      : `the SLO (${slo}) broke at ${breaking} jobs/s`,
  ];
  return verdictOf("stress", checks, {
    capacity_per_s: capacity,
    breaking_rate_per_s: breaking,
    engine_ratio: r.result.engine_ratio,
  }, notes);
}
