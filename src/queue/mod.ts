/**
 * The Redis side of the service: upload sessions, chunks, audio and job
 * records ({@linkcode Store}), the BullMQ queue of job ids
 * ({@linkcode TranscribeQueue}), job-finished events for long polling,
 * worker heartbeats, admission control ({@linkcode Admission}), and the
 * pieces of long recordings ({@linkcode PieceStore}, {@linkcode stitchPieces}).
 *
 * @module
 */
export * from "./admission.ts";
export * from "./events.ts";
export * from "./heartbeat.ts";
export * from "./keys.ts";
export * from "./pieces.ts";
export * from "./queue.ts";
export * from "./records.ts";
export * from "./storage.ts";
export * from "./redis.ts";
export * from "./stitch.ts";
export * from "./store.ts";
