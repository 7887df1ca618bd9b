/**
 * Provisioning: `deno task setup` and the implicit setup other tasks run.
 *
 * @module
 */
export * from "./setup.ts";
export * from "./k6_install.ts";
export * from "./openai_python.ts";
