/**
 * A profile's verdict: named checks that pass or fail, the figures they
 * were judged on, and notes — written to `profile.json` in the run's
 * archive and printed as a few lines.
 */
import { join } from "node:path";
import { z } from "zod";
import { readJsonFile } from "../_json_file.ts";
import { type Profile, PROFILES } from "./profile.ts";

/** One judged criterion. */
export interface ProfileCheck {
  name: string;
  pass: boolean;
  /** The measured figure against the limit, in words. */
  detail: string;
}

/** The verdict of a smoke, soak, spike or stress run. */
export interface ProfileVerdict {
  profile: Profile;
  pass: boolean;
  checks: ProfileCheck[];
  /** The figures behind the checks and what else the profile reports. */
  figures: Record<string, number | null>;
  /** Things the reader should know (what wasn't judged and why). */
  notes: string[];
}

/** The verdict's file in a run folder. */
export const PROFILE_VERDICT_FILE = "profile.json";

/** The schema of `profile.json` (NaN figures are written as null). */
export const ProfileVerdictSchema = z.object({
  profile: z.enum(PROFILES),
  pass: z.boolean(),
  checks: z.array(z.object({
    name: z.string(),
    pass: z.boolean(),
    detail: z.string(),
  })),
  figures: z.record(z.string(), z.number().nullable()),
  notes: z.array(z.string()),
});

/**
 * The profile's verdict of the run in `runDir`; undefined when the run has
 * none (a load run).
 * @throws {ConfigError} naming the file when it is there but unreadable.
 */
export async function loadProfileVerdict(
  runDir: string,
): Promise<ProfileVerdict | undefined> {
  return await readJsonFile(
    join(runDir, PROFILE_VERDICT_FILE),
    ProfileVerdictSchema,
  );
}

/** A verdict that passes when every check does. */
export function verdictOf(
  profile: Profile,
  checks: ProfileCheck[],
  figures: ProfileVerdict["figures"],
  notes: string[] = [],
): ProfileVerdict {
  return {
    profile,
    pass: checks.length > 0 && checks.every((c) => c.pass),
    checks,
    figures,
    notes,
  };
}

/** Writes `profile.json` into `runDir`. */
export async function writeProfileVerdict(
  runDir: string,
  v: ProfileVerdict,
): Promise<void> {
  await Deno.writeTextFile(
    join(runDir, PROFILE_VERDICT_FILE),
    JSON.stringify(v, null, 2) + "\n",
  );
}

/** The verdict as lines for the terminal. */
export function describeVerdict(v: ProfileVerdict): string[] {
  return [
    `${v.profile}: ${v.pass ? "PASS" : "FAIL"}`,
    ...v.checks.map((c) =>
      `  ${c.pass ? "pass" : "FAIL"}  ${c.name.padEnd(16)} ${c.detail}`
    ),
    ...v.notes.map((n) => `  note: ${n}`),
  ];
}

/** `x` with `digits` decimals, or `—` when it isn't a number. */
export function fmt(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x)
    ? "—"
    : x.toFixed(digits);
}
