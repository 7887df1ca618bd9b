/**
 * Benchmarks (`deno task bench`): engine and service figures for the sample.
 *
 * @module
 */
export * from "./stats.ts";
