/**
 * Running the service's processes: the embedded stack (Redis, API, workers),
 * a private redis-server, and the child-process plumbing they share.
 *
 * @module
 */
export * from "./process.ts";
export * from "./redis_server.ts";
export * from "./stack.ts";
