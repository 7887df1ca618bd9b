/**
 * Configuration: environment schemas for each component and the project's
 * cache folders.
 *
 * @module
 */
export * from "./env.ts";
export * from "./paths.ts";
