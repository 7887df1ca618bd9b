/**
 * Workload mixes of `deno task perf --workload`: the spec format, the
 * built audio with its known transcripts, and the manifest the k6 workload
 * scenario reads.
 *
 * @module
 */
export * from "./spec.ts";
export * from "./build.ts";
