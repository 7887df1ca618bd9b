/**
 * The run history: one line per `deno task perf` run appended to
 * `history.jsonl` (`history.ts`), and its trend chart (`trend.ts`, drawn by
 * `deno task trend`).
 *
 * @module
 */
export * from "./history.ts";
export * from "./trend.ts";
