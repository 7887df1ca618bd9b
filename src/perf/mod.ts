/**
 * The performance toolkit: the pinned k6 (found or installed), k6 summary
 * files in both formats, `baseline.json`, and the comparison of a run with
 * the baseline (`deno task assert`, `deno task baseline:update`).
 *
 * @module
 */
export * from "./k6_install.ts";
export * from "./baseline.ts";
export * from "./summary.ts";
export * from "./run_metadata.ts";
export * from "./assert.ts";
export {
  DEFAULT_BASELINE,
  DEFAULT_SUMMARY,
  parseAssertArgs,
  runAssert,
  type RunAssertOptions,
} from "./assert_main.ts";
export {
  buildBaseline,
  type BuildBaselineInput,
  parseBaselineUpdateArgs,
  runBaselineUpdate,
  type RunBaselineUpdateOptions,
} from "./baseline_update.ts";
