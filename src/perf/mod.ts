/**
 * The performance toolkit: the pinned k6 (found or installed), k6 summary
 * files in both formats, `baseline.json` (optionally with per-run
 * distributions), the comparison of a run with the baseline (`deno task
 * assert`, `deno task baseline:update`), fresh Redis state between repeated
 * runs, the run history with its trend chart (`deno task trend`), and the
 * capacity search (`deno task perf --find-capacity`) with its CPU accounting.
 *
 * @module
 */

export * from "./baseline/mod.ts";
export * from "./summary.ts";
export * from "./run_metadata.ts";
export * from "./history/mod.ts";
export * from "./reset_state.ts";
// The capacity runner itself (capacity/run.ts) loads the engine: the perf task
// imports it directly, so tools that only read results stay light.
export * from "./capacity/mod.ts";
export * from "./proc_cpu.ts";
export * from "./proc_memory.ts";
