/**
 * The API's check of an upload before a job is queued: WAV headers are read
 * in-process; other formats are decoded by ffmpeg to a null sink (no samples
 * kept) so undecodable bytes are refused with 415/422 up front and their
 * duration is known for the `MAX_AUDIO_DURATION_S` limit.
 */
import { measureWithFfmpeg, probeAudio } from "../audio/mod.ts";
import type { AudioCheck } from "./app.ts";

/** Options of {@linkcode checkUpload}. */
export interface CheckUploadOptions {
  /**
   * Decode at most this many seconds of compressed audio; a longer file
   * reports a duration just above it.
   */
  limitS: number;
  /** The ffmpeg executable. @default "ffmpeg" */
  ffmpegPath?: string;
  /** Give up (422 `audio_decode_timeout`) after this long. @default 30000 */
  timeoutMs?: number;
}

/**
 * Validates `bytes` as audio and measures it.
 *
 * @returns the sniffed format and the duration in seconds (for compressed
 * formats at most `limitS + 1`).
 * @throws {InvalidAudioError} 415 for unknown formats or missing ffmpeg,
 * 422 for broken or empty audio.
 */
export async function checkUpload(
  bytes: Uint8Array,
  options: CheckUploadOptions,
): Promise<AudioCheck> {
  // The duration limit is the API's to enforce (413), so none here.
  const probe = await probeAudio(bytes, {
    maxDurationS: Number.POSITIVE_INFINITY,
    ffmpegPath: options.ffmpegPath,
  });
  if (probe.format === "wav") {
    return { format: probe.format, durationS: probe.durationS };
  }
  const durationS = await measureWithFfmpeg(bytes, {
    ...options,
    timeoutMs: options.timeoutMs ?? 30_000,
    format: probe.format,
  });
  return { format: probe.format, durationS };
}
