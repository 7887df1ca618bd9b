/**
 * Judges a finished run by its profile (smoke, soak, spike) and writes the
 * verdict beside k6's files; the load profile is judged against the
 * baseline instead (baseline/assert.ts), stress by the capacity search.
 */
import type { Api } from "../scenarios.ts";
import { loadRunFacts } from "./facts.ts";
import type { ProfileSettings } from "./profile.ts";
import { judgeSmoke } from "./smoke.ts";
import { judgeSoak } from "./soak.ts";
import { judgeSpike } from "./spike.ts";
import { type ProfileVerdict, writeProfileVerdict } from "./verdict.ts";

/** What {@linkcode judgeProfile} needs of the run's options. */
export interface JudgedRun {
  api: Api;
  profile: ProfileSettings;
  sloGiven: boolean;
  /** The run was a workload mix (`--workload` other than sample). */
  workload: boolean;
}

/**
 * The verdict of the run in `runDir` by its profile, written to
 * `profile.json` there.
 * @throws {Error} for the load and stress profiles, judged elsewhere.
 */
export async function judgeProfile(
  runDir: string,
  run: JudgedRun,
): Promise<ProfileVerdict> {
  const facts = await loadRunFacts(runDir, run.api);
  const s = run.profile;
  let v: ProfileVerdict;
  switch (s.profile) {
    case "smoke":
      v = judgeSmoke(facts, s, run);
      break;
    case "soak":
      v = judgeSoak(facts, s);
      break;
    case "spike":
      v = judgeSpike(facts, s);
      break;
    default:
      throw new Error(`the ${s.profile} profile is not judged per run`);
  }
  await writeProfileVerdict(runDir, v);
  return v;
}
