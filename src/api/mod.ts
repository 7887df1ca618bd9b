/**
 * The HTTP API: chunked uploads, jobs, long polling, health and metrics.
 * {@linkcode createApp} builds the Hono app from injected dependencies;
 * {@linkcode startApi} runs it against Redis.
 *
 * @module
 */
export { type ApiDeps, type AudioCheck, createApp } from "./app.ts";
export {
  ANONYMOUS,
  hashKey,
  IdentityResolver,
  parseApiKeys,
} from "./identity.ts";
export { type ApiServer, startApi } from "./server.ts";
