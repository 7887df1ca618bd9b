/** zod schemas of request bodies and parameters, and the job view. */
import { z } from "zod";
import {
  type JobRecord,
  type PieceResult,
  stitchPieces,
} from "../queue/mod.ts";

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** `POST /uploads/initialize` body. */
export const InitializeBody = z.object({
  filename: z.string().min(1).max(255).refine((s) => !CONTROL.test(s), {
    message: "must not contain control characters",
  }),
  file_size: z.number().int().positive(),
  model_name: z.string().min(1).max(64).optional(),
  language: z.string().regex(
    /^([a-z]{2,3}|auto)$/,
    "must be a language code like en",
  ).optional(),
});

/** Form fields of `POST /jobs` besides the file. */
export const JobFormFields = z.object({
  model_name: z.string().min(1).max(64).optional(),
  language: z.string().regex(
    /^([a-z]{2,3}|auto)$/,
    "must be a language code like en",
  ).optional(),
});

/** `?wait=` of `GET /jobs/{id}`: seconds, 0..30. */
export const WaitParam = z.coerce.number().min(0).max(30);

/** `GET /jobs` query. */
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().regex(/^\d{1,16}$/).optional(),
});

/**
 * The public view of a job. A job split into pieces shows its `progress`,
 * its finished `pieces` (when given) and, while it runs, the transcript of
 * its first pieces that are all done (`partial_transcript`).
 */
export function jobView(j: JobRecord, pieces: PieceResult[] | null = null) {
  const split = j.pieces_total !== null;
  return {
    job_id: j.job_id,
    status: j.status,
    model_name: j.model_name,
    requested_model: j.requested_model,
    language: j.language,
    filename: j.filename,
    file_hash: j.file_hash,
    transcript: j.transcript,
    segments: j.segments,
    error: j.error,
    created_at: j.created_at,
    started_at: j.started_at,
    completed_at: j.completed_at,
    audio_duration_s: j.audio_duration_s,
    queue_wait_ms: j.queue_wait_ms,
    processing_ms: j.processing_ms,
    attempts: j.attempts,
    worker_id: j.worker_id,
    progress: split
      ? { pieces_done: j.pieces_done, pieces_total: j.pieces_total }
      : null,
    pieces: pieces?.map((p) => ({
      index: p.index,
      start_s: p.start_s,
      end_s: p.end_s,
      worker_id: p.worker_id,
      processing_ms: p.processing_ms,
      attempts: p.attempts,
      started_at_ms: p.started_at_ms ?? null,
    })) ?? null,
    partial_transcript: split && pieces && j.status === "processing"
      ? stitchPieces(pieces, { prefixOnly: true }).transcript
      : null,
  };
}

/** Formats zod issues as `field: message; ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`)
    .join("; ");
}
