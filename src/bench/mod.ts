/**
 * Benchmarks (`deno task bench`): engine and service figures for the sample,
 * and the engine-only throughput other tools compare with; `deno task
 * bench:long`: long recordings through the stack against faster-whisper.
 *
 * @module
 */
export * from "./engine_throughput.ts";
export * from "./long_corpus.ts";
export * from "./long_report.ts";
export * from "./long_bench.ts";
export * from "./long_clients.ts";
export * from "./peer_faster_whisper.ts";
