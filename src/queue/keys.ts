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
    /** Audio of piece `index` of a job split into pieces (PCM16 WAV). */
    pieceAudio: (id: string, index: number) =>
      `${prefix}:audio:${id}:p${index}`,
    /** Hash of a split job's finished pieces: index → PieceResult JSON. */
    pieces: (id: string) => `${prefix}:job:${id}:pieces`,
    /** Hash: piece index → times a worker started it. */
    pieceAttempts: (id: string) => `${prefix}:job:${id}:piece_attempts`,
    /** An identity's unfinished pieces (the fair order of new pieces). */
    userPendingPieces: (owner: string) =>
      `${prefix}:user:${owner}:pending_pieces`,
    /** Sorted set: long jobs not yet final → audio seconds left to do. */
    longQueued: `${prefix}:long_queued`,
    userJobs: (owner: string) => `${prefix}:user:${owner}:jobs`,
    /** Sorted set: an identity's jobs not yet final → their audio ms (quotas). */
    userActive: (owner: string) => `${prefix}:user:${owner}:active`,
    /** Prefixes scripts build keys from (a job's, a session's, a user's). */
    jobPrefix: `${prefix}:job:`,
    sessionPrefix: `${prefix}:session:`,
    userPrefix: `${prefix}:user:`,
    worker: (id: string) => `${prefix}:worker:${id}`,
    workersPattern: `${prefix}:worker:*`,
    jobEvents: `${prefix}:events:jobs`,
    stats: `${prefix}:stats`,
    /** Hash: the shared histogram of whole jobs' processing seconds. */
    processingHistogram: `${prefix}:stats:processing`,
    /** List: the last jobs' processing seconds (admission's mean). */
    recentJobs: `${prefix}:stats:recent`,
    /** List: the last pieces' real-time factors (long admission). */
    recentPieces: `${prefix}:stats:recent_pieces`,
    bullPrefix: `${prefix}:bull`,
  };
}

/** The key set of one prefix. */
export type Keys = ReturnType<typeof keys>;

/** The BullMQ queue name for transcription jobs. */
export const QUEUE_NAME = "transcribe";

/**
 * The BullMQ queue of long recordings: their split step (priority 1) and
 * their pieces (fair priorities). Each worker takes from both queues with
 * separate slots, so a short job never waits for a piece to finish.
 */
export const PIECES_QUEUE_NAME = "pieces";
