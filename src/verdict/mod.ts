/**
 * Verdict quality: raw per-iteration samples, bootstrap intervals of the
 * change between runs, and comparison reports (`deno task compare`).
 *
 * @module
 */
export * from "./bootstrap.ts";
export * from "./compare.ts";
export * from "./render.ts";
export * from "./samples.ts";
