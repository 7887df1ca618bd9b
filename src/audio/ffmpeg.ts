/**
 * Decoding of compressed formats (MP3, FLAC, Ogg, M4A, WebM) by the
 * `ffmpeg` command-line tool, straight to 16 kHz mono float samples.
 */
import { InvalidAudioError } from "../errors/mod.ts";
import type { FfmpegFormat } from "./sniff.ts";

/** How to install ffmpeg, quoted in error messages. */
const INSTALL_HINT =
  "install it (Debian/Ubuntu: `sudo apt-get install ffmpeg`) or set the ffmpeg path option";
/** Bytes of ffmpeg's stderr kept for error messages. */
const STDERR_LIMIT = 64 * 1024;

/** Options of {@linkcode decodeWithFfmpeg}. */
export interface FfmpegOptions {
  /**
   * The ffmpeg executable: a name looked up on PATH, or a path.
   * @default "ffmpeg"
   */
  ffmpegPath?: string;
  /**
   * Kill ffmpeg and fail after this many milliseconds.
   * @default 60000
   */
  timeoutMs?: number;
  /**
   * Stop decoding after this many seconds of audio (ffmpeg `-t`), so that
   * over-long audio is detected without decoding all of it.
   */
  limitS?: number;
  /** The sniffed container, used in messages and to pick pipe or file. */
  format?: FfmpegFormat;
}

/** What ffmpeg produced. */
export interface FfmpegResult {
  /** 16 kHz mono samples. */
  samples: Float32Array;
  /** Source sample rate reported by ffmpeg, or null when not reported. */
  sampleRate: number | null;
  /** Source channel count reported by ffmpeg, or null when not reported. */
  channels: number | null;
}

function notInstalled(path: string, cause: unknown): InvalidAudioError {
  return new InvalidAudioError(
    "ffmpeg_not_installed",
    `decoding this audio format needs ffmpeg, which was not found at "${path}": ${INSTALL_HINT}; or upload 16-bit PCM WAV instead`,
    { unsupported: true, cause },
  );
}

const LAYOUT_CHANNELS: Record<string, number> = {
  mono: 1,
  stereo: 2,
  "2.1": 3,
  "3.0": 3,
  quad: 4,
  "4.0": 4,
  "5.0": 5,
  "5.1": 6,
  "6.1": 7,
  "7.1": 8,
};

/** Reads "Audio: <codec>, 44100 Hz, stereo" from ffmpeg's stream report. */
function streamInfo(
  stderr: string,
): { sampleRate: number | null; channels: number | null } {
  const input = stderr.split(/^Output #/m)[0] ?? "";
  const match = /Stream #\d+:\d+.*?: Audio: [^\n]*?(\d+) Hz, ([^,\n]+)/.exec(
    input,
  );
  if (!match) return { sampleRate: null, channels: null };
  const layout = match[2]!.trim();
  const counted = /^(\d+) channels/.exec(layout);
  const channels = counted
    ? Number(counted[1])
    : LAYOUT_CHANNELS[layout.replace(/\(.*\)$/, "")] ?? null;
  return { sampleRate: Number(match[1]), channels };
}

/** The last lines of ffmpeg's stderr that say what went wrong. */
function errorLines(stderr: string): string {
  const lines = stderr.split("\n")
    .map((line) => line.trim().replace(/ @ 0x[0-9a-f]+\]/, "]"))
    .filter((line) =>
      line !== "" &&
      !/^(Input #|Output #|Stream |Metadata:|Duration:|\w+\s+: )/.test(line)
    );
  return lines.slice(-3).join(" | ") || "no diagnostic output";
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  keepTail: boolean,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    total += chunk.length;
    if (keepTail) {
      while (total - chunks[0]!.length > limit) total -= chunks.shift()!.length;
    }
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function toFloats(bytes: Uint8Array): Float32Array {
  const count = Math.floor(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 4);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = view.getFloat32(i * 4, true);
    out[i] = Number.isFinite(v) ? v : 0;
  }
  return out;
}

/** Options of {@linkcode runFfmpeg}. */
interface RunOptions extends FfmpegOptions {
  /** ffmpeg arguments after the input (`-i …`): what to produce. */
  outputArgs: string[];
}

/**
 * Runs ffmpeg on `bytes` and returns its stdout and stderr. The bytes are
 * piped to stdin, except for MP4/M4A, which is written to a temporary file
 * first: its index (`moov`) is often at the end and ffmpeg cannot seek back
 * in a pipe. The process is killed on timeout and always awaited.
 *
 * @throws {InvalidAudioError} `ffmpeg_not_installed` (415),
 * `audio_decode_failed` (422, quoting ffmpeg's stderr),
 * `audio_decode_timeout` (422).
 */
async function runFfmpeg(
  bytes: Uint8Array,
  options: RunOptions,
): Promise<{ stdout: Uint8Array; log: string }> {
  const ffmpegPath = options.ffmpegPath ?? "ffmpeg";
  const timeoutMs = options.timeoutMs ?? 60_000;
  const what = options.format ?? "audio";
  let tempFile: string | undefined;
  try {
    if (options.format === "m4a") {
      tempFile = await Deno.makeTempFile({ prefix: "whisper-audio-" });
      await Deno.writeFile(tempFile, bytes);
    }
    const args = [
      "-hide_banner",
      "-nostats",
      // Keeps ffmpeg from reading keys from stdin when the input is a file.
      ...(tempFile === undefined ? [] : ["-nostdin"]),
      "-i",
      tempFile ?? "pipe:0",
      ...options.outputArgs,
    ];

    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(ffmpegPath, {
        args,
        stdin: tempFile === undefined ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (
        error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.PermissionDenied ||
        error instanceof Deno.errors.NotADirectory
      ) throw notInstalled(ffmpegPath, error);
      throw error;
    }

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
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
            // ffmpeg closed its stdin early (bad input): its exit status
            // and stderr tell the story.
          }
        })()
        : Promise.resolve();
      const [stdout, stderr, status] = await Promise.all([
        collect(child.stdout, Infinity, false),
        collect(child.stderr, STDERR_LIMIT, true),
        child.status,
        feeding,
      ]);
      const log = new TextDecoder().decode(stderr);
      if (timedOut) {
        throw new InvalidAudioError(
          "audio_decode_timeout",
          `ffmpeg did not finish decoding the ${what} within ${timeoutMs} ms`,
        );
      }
      if (!status.success) {
        throw new InvalidAudioError(
          "audio_decode_failed",
          `ffmpeg could not decode the ${what} (exit code ${status.code}): ${
            errorLines(log)
          }`,
        );
      }
      return { stdout, log };
    } finally {
      clearTimeout(timer);
      try {
        child.kill("SIGKILL");
      } catch { /* already exited: the normal case */ }
      await child.status;
    }
  } finally {
    if (tempFile !== undefined) {
      await Deno.remove(tempFile).catch(() => {});
    }
  }
}

/**
 * Decodes any audio ffmpeg understands to 16 kHz mono float samples.
 *
 * @throws {InvalidAudioError} as {@linkcode runFfmpeg}, and `audio_empty`.
 */
export async function decodeWithFfmpeg(
  bytes: Uint8Array,
  options: FfmpegOptions = {},
): Promise<FfmpegResult> {
  const { stdout, log } = await runFfmpeg(bytes, {
    ...options,
    outputArgs: [
      "-vn",
      "-sn",
      "-dn",
      ...(options.limitS !== undefined ? ["-t", String(options.limitS)] : []),
      "-f",
      "f32le",
      "-acodec",
      "pcm_f32le",
      "-ac",
      "1",
      // Scale the down-mix matrix so it averages channels (as downmix()
      // does) instead of summing them at -3 dB each.
      "-rematrix_maxval",
      "1.0",
      "-ar",
      "16000",
      "pipe:1",
    ],
  });
  const samples = toFloats(stdout);
  if (samples.length === 0) {
    throw new InvalidAudioError(
      "audio_empty",
      `the ${options.format ?? "audio"} decodes to no audio samples`,
    );
  }
  return { samples, ...streamInfo(log) };
}

/**
 * Decodes the first audio stream to a null sink (no samples kept) and
 * returns its duration in seconds, at most `limitS` + 1.
 *
 * @throws {InvalidAudioError} as {@linkcode runFfmpeg}, and `audio_empty`.
 */
export async function measureWithFfmpeg(
  bytes: Uint8Array,
  options: FfmpegOptions & { limitS: number },
): Promise<number> {
  const { stdout } = await runFfmpeg(bytes, {
    ...options,
    outputArgs: [
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
  });
  const out = new TextDecoder().decode(stdout);
  const us = [...out.matchAll(/^out_time_us=(\d+)$/gm)].at(-1)?.[1];
  const durationS = us === undefined ? 0 : Number(us) / 1e6;
  if (!(durationS > 0)) {
    throw new InvalidAudioError(
      "audio_empty",
      `the ${options.format ?? "audio"} file decodes to no audio`,
    );
  }
  return durationS;
}

const availability = new Map<string, Promise<boolean>>();

/**
 * Whether `ffmpegPath` runs (`ffmpeg -version` exits 0). Cached per path
 * for the life of the process.
 *
 * @default ffmpegPath "ffmpeg"
 */
export function ffmpegAvailable(ffmpegPath = "ffmpeg"): Promise<boolean> {
  let known = availability.get(ffmpegPath);
  if (known === undefined) {
    known = (async () => {
      try {
        const out = await new Deno.Command(ffmpegPath, {
          args: ["-hide_banner", "-version"],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).output();
        return out.success;
      } catch {
        return false; // not found, not executable, not permitted
      }
    })();
    availability.set(ffmpegPath, known);
  }
  return known;
}

/**
 * Throws the 415 `ffmpeg_not_installed` error unless ffmpeg is available.
 *
 * @default ffmpegPath "ffmpeg"
 */
export async function requireFfmpeg(ffmpegPath = "ffmpeg"): Promise<void> {
  if (!(await ffmpegAvailable(ffmpegPath))) {
    throw notInstalled(ffmpegPath, undefined);
  }
}
