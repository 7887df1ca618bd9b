/**
 * The transcription worker: takes jobs from the queue, runs whisper.cpp, and
 * stores each transcript exactly once.
 *
 * @module
 */
export {
  type RunningWorker,
  startWorker,
  type WorkerOptions,
} from "./worker.ts";
