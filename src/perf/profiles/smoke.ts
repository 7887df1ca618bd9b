/**
 * The smoke test's verdict: a short run where every job must come back,
 * accurate, within the SLO, with no server error and no iteration dropped.
 */
import { rateCounts, type RunFacts } from "./facts.ts";
import { jobsDone, noServerErrors, withinSlo } from "./common_checks.ts";
import type { ProfileSettings } from "./profile.ts";
import {
  type ProfileCheck,
  type ProfileVerdict,
  verdictOf,
} from "./verdict.ts";

/** The accuracy Rate of each protocol's scenario. */
const ACCURACY = {
  native: "transcription_accuracy",
  openai: "openai_accuracy",
};

/**
 * Judges a smoke run. `workload`: the run was a mix of recordings, whose
 * long classes can't meet a short-clip SLO — the SLO is then left to the
 * load profile's per-class keys unless `sloGiven`.
 */
export function judgeSmoke(
  f: RunFacts,
  s: ProfileSettings,
  o: { workload: boolean; sloGiven: boolean },
): ProfileVerdict {
  const accuracy = rateCounts(f.summary, ACCURACY[f.api]);
  const dropped = f.summary.metrics.get("dropped_iterations")?.values.count ??
    0;
  const checks: ProfileCheck[] = [
    jobsDone(f),
    {
      name: "accurate",
      pass: accuracy.fails === 0 && accuracy.passes > 0,
      detail: `${accuracy.passes} of ${
        accuracy.passes + accuracy.fails
      } transcripts as expected`,
    },
    noServerErrors(f),
    {
      name: "none dropped",
      pass: dropped === 0,
      detail: `${dropped} iterations k6 could not start (too few VUs)`,
    },
  ];
  const notes: string[] = [];
  if (!o.workload || o.sloGiven) checks.push(withinSlo(f, s.sloS));
  else {
    notes.push(
      "latency SLO not judged: a workload mixes recording lengths (give --slo to judge every class by one limit)",
    );
  }
  return verdictOf("smoke", checks, {
    iterations: accuracy.passes + accuracy.fails,
    dropped,
  }, notes);
}
