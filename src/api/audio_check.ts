/**
 * The API's check of an upload before a job is queued: WAV headers are read
 * in-process; other formats are decoded by ffmpeg to a null sink (no samples
 * kept) so undecodable bytes are refused with 415/422 up front and their
 * duration is known for the `MAX_AUDIO_DURATION_S` limit.
 */
import { probeAudio } from "../audio/mod.ts";
import { InvalidAudioError } from "../errors/mod.ts";
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
    format: probe.format,
  });
  return { format: probe.format, durationS };
}

/** Decodes the first audio stream to nothing and returns its length, s. */
async function measureWithFfmpeg(
  bytes: Uint8Array,
  options: CheckUploadOptions & { format: string },
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let tempFile: string | undefined;
  try {
    if (options.format === "m4a") {
      // MP4's index is often at the end; ffmpeg can't seek back in a pipe.
      tempFile = await Deno.makeTempFile({ prefix: "whisper-check-" });
      await Deno.writeFile(tempFile, bytes);
    }
    const child = new Deno.Command(options.ffmpegPath ?? "ffmpeg", {
      args: [
        "-hide_banner",
        "-nostats",
        "-nostdin",
        "-i",
        tempFile ?? "pipe:0",
        "-map",
        "0:a:0",
        "-t",
        String(options.limitS + 1),
        "-f",
        "null",
        "-progress",
        "pipe:1",
        "-",
      ],
      stdin: tempFile === undefined ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
    }, timeoutMs);
    try {
      const feeding = tempFile === undefined
        ? (async () => {
          const writer = child.stdin.getWriter();
          try {
            await writer.write(bytes);
            await writer.close();
          } catch {
            // ffmpeg stopped reading (bad input): its status says why.
          }
        })()
        : Promise.resolve();
      const [out, err, status] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.status,
        feeding,
      ]);
      if (status.signal === "SIGKILL") {
        throw new InvalidAudioError(
          "audio_decode_timeout",
          `ffmpeg did not finish checking the ${options.format} within ${timeoutMs} ms`,
        );
      }
      if (!status.success) {
        throw new InvalidAudioError(
          "audio_decode_failed",
          `the ${options.format} audio could not be decoded: ${lastLine(err)}`,
        );
      }
      const us = [...out.matchAll(/^out_time_us=(\d+)$/gm)].at(-1)?.[1];
      const durationS = us === undefined ? 0 : Number(us) / 1e6;
      if (!(durationS > 0)) {
        throw new InvalidAudioError(
          "audio_empty",
          `the ${options.format} file decodes to no audio`,
        );
      }
      return durationS;
    } finally {
      clearTimeout(timer);
      try {
        child.kill("SIGKILL");
      } catch { /* already exited: the normal case */ }
      await child.status;
    }
  } finally {
    if (tempFile !== undefined) await Deno.remove(tempFile).catch(() => {});
  }
}

function lastLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? "no diagnostic output").slice(0, 300);
}
