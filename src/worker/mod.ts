/**
 * The transcription worker: takes jobs from the queue, runs whisper.cpp, and
 * stores each transcript exactly once. A long recording is split at pauses
 * into pieces queued for any worker (`pieces.ts`); each piece is stored once
 * and the worker that stores the last one stitches the transcript.
 *
 * @module
 */
export {
  type RunningWorker,
  startWorker,
  type WorkerOptions,
} from "./worker.ts";
