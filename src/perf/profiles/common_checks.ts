/**
 * Checks more than one profile makes: every job done, no server error, and
 * the latency SLO.
 */
import { percentile } from "../../stats/mod.ts";
import { SCENARIOS } from "../scenarios.ts";
import { rateCounts, type RunFacts, serviceDelta } from "./facts.ts";
import { fmt, type ProfileCheck } from "./verdict.ts";

/** Iterations, successes and failures of the run's success Rate. */
export function outcomes(f: RunFacts): {
  iterations: number;
  done: number;
  failed: number;
} {
  const r = rateCounts(f.summary, SCENARIOS[f.api].success);
  return { iterations: r.passes + r.fails, done: r.passes, failed: r.fails };
}

/** No 5xx (nor a request without an answer) seen by k6 or counted by the API. */
export function noServerErrors(f: RunFacts): ProfileCheck {
  const api = serviceDelta(f.timeline, (s) => s.http_5xx);
  return {
    name: "no 5xx",
    pass: f.k6ServerErrors === 0 && api === 0,
    detail:
      `${f.k6ServerErrors} answered 5xx or not at all (k6), ${api} 5xx counted by the API`,
  };
}

/** At least `floor` of the iterations got their transcript. */
export function jobsDone(f: RunFacts, floor = 1): ProfileCheck {
  const o = outcomes(f);
  const rate = o.iterations ? o.done / o.iterations : 0;
  return {
    name: "jobs done",
    pass: o.iterations > 0 && rate >= floor,
    detail: `${o.done} of ${o.iterations} (${fmt(rate * 100, 1)} %, at least ${
      fmt(floor * 100, 1)
    } %)`,
  };
}

/** End-to-end latency p95 at most `sloS`. */
export function withinSlo(f: RunFacts, sloS: number): ProfileCheck {
  const p95 = percentile(f.latencies.map((l) => l.latencyS), 95);
  return {
    name: "latency SLO",
    pass: f.latencies.length > 0 && p95 <= sloS,
    detail: `p95 ${
      fmt(p95, 3)
    } s (at most ${sloS} s) over ${f.latencies.length} jobs`,
  };
}
