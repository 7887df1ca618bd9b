/**
 * `verdict.json` in a run's archive: what `deno task perf` concluded about
 * the run — pass, regression, not judged or failed, why, its exit code,
 * and the assert's whole result when there was one — so `deno task report`
 * rebuilds the page with the verdict the run actually got.
 */
import { join } from "node:path";
import { z } from "zod";
import { readJsonFile } from "../_json_file.ts";
import { type AssertResult, MetricDefinitionSchema } from "../baseline/mod.ts";
import { VERDICTS } from "../history/mod.ts";
import { APIS } from "../scenarios.ts";

/** The file name in a run folder. */
export const VERDICT_FILE = "verdict.json";

/** A number that JSON wrote as `null` because it was NaN. */
const maybeNaN = z.number().nullable().transform((v) => v ?? NaN);

const KeyResultSchema = z.looseObject({
  key: z.string(),
  definition: MetricDefinitionSchema,
  baseline: z.number(),
  tolerance: z.number(),
  allowed: maybeNaN,
  actual: maybeNaN,
  margin: maybeNaN,
  pass: z.boolean(),
  note: z.string().optional(),
  interval: z.object({
    ratio: maybeNaN,
    lo: maybeNaN,
    hi: maybeNaN,
    confidence: z.number(),
  }).optional(),
});

const AssertResultSchema = z.looseObject({
  verdict: z.enum(["pass", "regression"]),
  scenario: z.object({
    api: z.enum(APIS),
    workload: z.string().optional(),
    from: z.string(),
  }),
  keys: z.array(KeyResultSchema),
  skipped: z.array(z.object({
    key: z.string(),
    scenario: z.enum(APIS),
    workload: z.string(),
  })),
  thresholdsFailed: z.array(z.string()),
  warnings: z.array(z.string()),
  thresholdsCovered: z.boolean(),
});

/** The schema of `verdict.json`. */
export const RunVerdictSchema = z.object({
  verdict: z.enum(VERDICTS),
  reason: z.string(),
  /** `deno task perf`'s exit code for this run (0 pass, 1, 2). */
  code: z.number().int(),
  /** The baseline file the run was judged against. */
  baseline: z.string().optional(),
  /** The assert's result; absent when the run wasn't judged. */
  assert: AssertResultSchema.optional(),
});
/** A run's verdict as archived. */
export interface RunVerdict {
  verdict: typeof VERDICTS[number];
  reason: string;
  code: number;
  baseline?: string;
  assert?: AssertResult;
}

/** Writes `verdict.json` into `runDir`. */
export async function writeRunVerdict(
  runDir: string,
  verdict: RunVerdict,
): Promise<void> {
  await Deno.writeTextFile(
    join(runDir, VERDICT_FILE),
    JSON.stringify(verdict, null, 2) + "\n",
  );
}

/**
 * Reads `verdict.json` from `runDir`; undefined when the run has none (an
 * older archive, or a run stopped before its verdict).
 * @throws {ConfigError} naming the file when it exists but is not valid.
 */
export async function loadRunVerdict(
  runDir: string,
): Promise<RunVerdict | undefined> {
  return await readJsonFile(join(runDir, VERDICT_FILE), RunVerdictSchema) as
    | RunVerdict
    | undefined;
}
