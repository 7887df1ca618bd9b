/**
 * The shapes stored in Redis: upload sessions and job records, with zod
 * schemas so what comes back from Redis is checked like any other input.
 */
import { z } from "zod";

/** Job states as the API reports them. */
export const JobStatus = z.enum([
  "queued",
  "processing",
  "completed",
  "failed",
]);
/** A job state. */
export type JobStatus = z.infer<typeof JobStatus>;

/** One word with its times, seconds. */
export const Word = z.object({
  word: z.string(),
  start: z.number(),
  end: z.number(),
});
/** One timed word. */
export type Word = z.infer<typeof Word>;

/**
 * One transcript segment, times in seconds. Jobs that asked for detail
 * (see {@linkcode DecodeOptions}) also keep its text tokens' ids and their
 * mean log-probability, and with `detail: "word"` its words.
 */
export const Segment = z.object({
  start: z.number(),
  end: z.number(),
  text: z.string(),
  tokens: z.array(z.number().int()).optional(),
  avg_logprob: z.number().optional(),
  words: z.array(Word).optional(),
});
/** One transcript segment. */
export type Segment = z.infer<typeof Segment>;

/**
 * One transcribed piece of a job split into pieces, as stored when the
 * piece finishes; times in seconds of the whole recording.
 */
export const PieceResult = z.object({
  index: z.number().int().min(0),
  start_s: z.number(),
  end_s: z.number(),
  text: z.string(),
  segments: z.array(Segment),
  worker_id: z.string(),
  processing_ms: z.number(),
  attempts: z.number().int(),
  /** When the worker started it, ms since the epoch (the job's timeline). */
  started_at_ms: z.number().optional(),
});
/** One finished piece. */
export type PieceResult = z.infer<typeof PieceResult>;

/** Longest initial prompt a job may carry, characters. */
export const MAX_PROMPT_CHARS = 2000;

/**
 * How a job is decoded beyond model and language: an initial `prompt`, the
 * sampling `temperature`, and the `detail` its segments keep (`segment`:
 * token ids and mean log-probability; `word`: also timed words).
 */
export const DecodeOptions = z.object({
  prompt: z.string().max(MAX_PROMPT_CHARS).optional(),
  temperature: z.number().min(0).max(1).optional(),
  detail: z.enum(["segment", "word"]).optional(),
});
/** A job's decoding options. */
export type DecodeOptions = z.infer<typeof DecodeOptions>;

/** A job error as reported to clients. */
export const JobErrorInfo = z.object({ code: z.string(), message: z.string() });
/** A job error. */
export type JobErrorInfo = z.infer<typeof JobErrorInfo>;

/** A job record as kept in the Redis hash `<prefix>:job:<id>`. */
export interface JobRecord {
  job_id: string;
  owner: string;
  status: JobStatus;
  model_name: string;
  language: string;
  filename: string;
  file_hash: string;
  file_size: number;
  transcript: string | null;
  segments: Segment[];
  error: JobErrorInfo | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  audio_duration_s: number | null;
  queue_wait_ms: number | null;
  processing_ms: number | null;
  attempts: number;
  worker_id: string | null;
  /** Pieces the audio was split into; null when it was not split (yet). */
  pieces_total: number | null;
  /** Pieces finished so far (0 when not split). */
  pieces_done: number;
  /** Decoding options the job was submitted with ({} for none). */
  options: DecodeOptions;
  /**
   * The model name the client asked for when it differs from `model_name`
   * (an alias such as `tiny`, or `whisper-1`); null when it asked for the
   * model used, or for none.
   */
  requested_model: string | null;
}

const num = (v: string | undefined): number | null =>
  v === undefined || v === "" ? null : Number(v);
const str = (v: string | undefined): string | null =>
  v === undefined || v === "" ? null : v;

/** Turns a Redis hash into a {@linkcode JobRecord}; null when empty. */
export function jobFromHash(
  id: string,
  h: Record<string, string>,
): JobRecord | null {
  if (!h.status) return null;
  return {
    job_id: id,
    owner: h.owner ?? "",
    status: JobStatus.parse(h.status),
    model_name: h.model_name ?? "",
    language: h.language ?? "en",
    filename: h.filename ?? "",
    file_hash: h.file_hash ?? "",
    file_size: Number(h.file_size ?? 0),
    transcript: h.transcript ?? null,
    segments: h.segments ? z.array(Segment).parse(JSON.parse(h.segments)) : [],
    error: h.error ? JobErrorInfo.parse(JSON.parse(h.error)) : null,
    created_at: h.created_at ?? "",
    started_at: str(h.started_at),
    completed_at: str(h.completed_at),
    audio_duration_s: num(h.audio_duration_s),
    queue_wait_ms: num(h.queue_wait_ms),
    processing_ms: num(h.processing_ms),
    attempts: Number(h.attempts ?? 0),
    worker_id: str(h.worker_id),
    pieces_total: num(h.pieces_total),
    pieces_done: Number(h.pieces_done ?? 0),
    options: h.options ? DecodeOptions.parse(JSON.parse(h.options)) : {},
    requested_model: str(h.requested_model),
  };
}

/** An upload session as kept in `<prefix>:session:<id>`. */
export interface SessionRecord {
  session_id: string;
  owner: string;
  filename: string;
  file_size: number;
  chunk_size: number;
  total_chunks: number;
  model_name: string;
  /** The name the client asked for when it differs (see JobRecord). */
  requested_model?: string | null;
  language: string;
  created_at: string;
  expires_at: string;
  /** The job id reserved for this session; used once finalized. */
  job_id: string;
  finalized: boolean;
  /** sha256 of the assembled file, once finalized. */
  file_hash: string;
}

/** Turns a Redis hash into a {@linkcode SessionRecord}; null when empty. */
export function sessionFromHash(
  id: string,
  h: Record<string, string>,
): SessionRecord | null {
  if (!h.owner && h.owner !== "") return null;
  if (!h.total_chunks) return null;
  return {
    session_id: id,
    owner: h.owner,
    filename: h.filename ?? "",
    file_size: Number(h.file_size),
    chunk_size: Number(h.chunk_size),
    total_chunks: Number(h.total_chunks),
    model_name: h.model_name ?? "",
    requested_model: h.requested_model || null,
    language: h.language ?? "en",
    created_at: h.created_at ?? "",
    expires_at: h.expires_at ?? "",
    job_id: h.job_id ?? "",
    finalized: h.finalized === "1",
    file_hash: h.file_hash ?? "",
  };
}

/** ISO 8601 UTC with millisecond precision and a `Z`. */
export function isoNow(now: number = Date.now()): string {
  return new Date(now).toISOString();
}
