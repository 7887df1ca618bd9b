/**
 * `baseline.json` and the judgement of a run against it: the baseline's
 * schema and loading (`baseline.ts`), the comparison (`assert.ts`), the
 * `deno task assert` command (`assert_command.ts`), and recording a baseline
 * from runs (`update.ts`, `deno task baseline:update`).
 *
 * @module
 */
export * from "./baseline.ts";
export * from "./assert.ts";
export {
  DEFAULT_BASELINE,
  DEFAULT_SUMMARY,
  parseAssertArgs,
  runAssert,
  type RunAssertOptions,
} from "./assert_command.ts";
export {
  buildBaseline,
  type BuildBaselineInput,
  buildGroupBaseline,
  type GroupRun,
} from "./update.ts";
export {
  parseBaselineUpdateArgs,
  runBaselineUpdate,
  type RunBaselineUpdateOptions,
  summaryFolders,
} from "./update_command.ts";
