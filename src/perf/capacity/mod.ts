/**
 * The capacity search of `deno task perf --find-capacity`: short long-poll
 * steps at rising then bisected rates (`search.ts`), each judged on
 * success, p95 and keeping up (`step.ts`), with per-component CPU, the
 * engine alone measured in the same session, and the report, table and SVG
 * chart (`report.ts`, `chart.ts`). `run.ts` runs it on a stack; it loads the
 * engine, so it is imported directly (by `deno task perf`), not from here.
 *
 * @module
 */
export * from "./search.ts";
export * from "./step.ts";
export * from "./report.ts";
export * from "./chart.ts";
