/**
 * Benchmarks (`deno task bench`): engine and service figures for the sample,
 * and the engine-only throughput other tools compare with.
 *
 * @module
 */
export * from "./stats.ts";
export * from "./engine_throughput.ts";
