/** Redis key names, all under one configurable prefix. */

/** Builds every key the service uses from `prefix`. */
export function keys(prefix: string) {
  return {
    session: (id: string) => `${prefix}:session:${id}`,
    chunks: (id: string) => `${prefix}:session:${id}:chunks`,
    sessionTombstone: (id: string) => `${prefix}:session:${id}:seen`,
    userSessions: (owner: string) => `${prefix}:user:${owner}:sessions`,
    job: (id: string) => `${prefix}:job:${id}`,
    audio: (id: string) => `${prefix}:audio:${id}`,
    userJobs: (owner: string) => `${prefix}:user:${owner}:jobs`,
    worker: (id: string) => `${prefix}:worker:${id}`,
    workersPattern: `${prefix}:worker:*`,
    jobEvents: `${prefix}:events:jobs`,
    stats: `${prefix}:stats`,
    bullPrefix: `${prefix}:bull`,
  };
}

/** The key set of one prefix. */
export type Keys = ReturnType<typeof keys>;

/** The BullMQ queue name for transcription jobs. */
export const QUEUE_NAME = "transcribe";
