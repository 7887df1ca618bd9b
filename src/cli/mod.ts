/**
 * Shared command-line plumbing: progress bars and the top-level runner that
 * maps errors to exit codes.
 *
 * @module
 */
export * from "./flags.ts";
export * from "./progress.ts";
export * from "./run.ts";
