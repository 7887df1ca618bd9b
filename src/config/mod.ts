/**
 * Configuration: environment schemas for each component, the project's
 * cache folders, and project-local pip installs into them.
 *
 * @module
 */
export * from "./env.ts";
export * from "./paths.ts";
export * from "./machine.ts";
export * from "./pip.ts";
