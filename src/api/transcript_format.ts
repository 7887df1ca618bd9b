/**
 * A finished job's transcript as plain text or subtitles, for
 * `GET /jobs/{id}?format=` and the OpenAI-compatible route.
 */
import type { JobRecord } from "../queue/mod.ts";
import { formatSrt, formatVtt } from "../subtitles/mod.ts";

/** Formats `GET /jobs/{id}?format=` accepts (`json` is the job view). */
export const JOB_FORMATS = ["json", "text", "srt", "vtt"] as const;
/** One of {@linkcode JOB_FORMATS}. */
export type JobFormat = typeof JOB_FORMATS[number];

/** Content types of the text formats. */
export const CONTENT_TYPES = {
  text: "text/plain; charset=utf-8",
  srt: "application/x-subrip; charset=utf-8",
  vtt: "text/vtt; charset=utf-8",
} as const;

/** The transcript of `job` as `format`: its text with a final newline, or subtitles. */
export function transcriptAs(
  job: Pick<JobRecord, "transcript" | "segments">,
  format: "text" | "srt" | "vtt",
): string {
  if (format === "srt") return formatSrt(job.segments);
  if (format === "vtt") return formatVtt(job.segments);
  const text = job.transcript ?? "";
  return text === "" ? "" : `${text}\n`;
}
