/**
 * The connection guard in front of the API's HTTP server: time limits for
 * request heads, bodies and idle keep-alive connections (see `guard.ts`),
 * from HTTP/1.1 framing followed as bytes arrive (`framing.ts`).
 *
 * @module
 */
export {
  CONNECTION_HEADER,
  type CutReason,
  type Guard,
  type GuardOptions,
  type GuardStats,
  startGuard,
  tagHeads,
} from "./guard.ts";
export {
  type BodyMode,
  Framing,
  FramingError,
  type Head,
  parseHead,
  requestBody,
  responseBody,
} from "./framing.ts";
