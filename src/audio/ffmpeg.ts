/**
 * Decoding of compressed formats (MP3, FLAC, Ogg, M4A, WebM, AIFF, CAF, and
 * WAV with a codec not read in-process) by the `ffmpeg` command-line tool,
 * straight to 16 kHz mono float samples.
 */
import { InvalidAudioError } from "../errors/mod.ts";
import type { KnownAudioFormat } from "./sniff.ts";

/** How to install ffmpeg, quoted in error messages. */
const INSTALL_HINT =
  "install it (Debian/Ubuntu: `sudo apt-get install ffmpeg`) or set the ffmpeg path option";
/** The sample rate ffmpeg decodes to (whisper's). */
const OUTPUT_RATE = 16_000;
/** The longest output reserved for when a caller sets no `limitS`. */
const UNLIMITED_S = 24 * 3600;
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
  format?: KnownAudioFormat;
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

/** The last `limit` bytes (or a little more) of `stream`. */
async function collectTail(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    total += chunk.length;
    while (total - chunks[0]!.length > limit) total -= chunks.shift()!.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * All of `stream`, at most `maxBytes`, in one buffer that grows in place.
 * A child's stdout arrives in chunks of a few KiB, each a view of its own
 * 64 KiB buffer: kept in a list until the end, an hour of decoded audio
 * (230 MB) held 4.3 GB of buffers and peaked near 2 GB of memory. Copied
 * into a resizable buffer reserved up to `maxBytes` (address space, not
 * memory), each chunk is released at once and the result costs its length.
 *
 * @throws {RangeError} when the stream holds more than `maxBytes`.
 */
export async function collectAll(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<ArrayBuffer> {
  const buffer = new ArrayBuffer(0, { maxByteLength: maxBytes });
  const bytes = new Uint8Array(buffer);
  let length = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      const end = length + chunk.length;
      if (end > maxBytes) {
        await reader.cancel();
        throw new RangeError(`more than ${maxBytes} bytes`);
      }
      if (end > buffer.byteLength) {
        // Grows by an eighth (at least 1 MiB): an hour takes ~60 resizes.
        buffer.resize(
          Math.min(
            maxBytes,
            Math.max(end, Math.ceil(buffer.byteLength * 1.125) + 2 ** 20),
          ),
        );
      }
      bytes.set(chunk, length);
      length = end;
    }
  } finally {
    reader.releaseLock();
  }
  return buffer.transferToFixedLength(length);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `f32le` samples as floats, in place where the machine is little-endian;
 * NaN and infinities become 0.
 */
export function toFloats(buffer: ArrayBuffer): Float32Array {
  const count = Math.floor(buffer.byteLength / 4);
  let out: Float32Array;
  if (LITTLE_ENDIAN) {
    out = new Float32Array(buffer, 0, count);
  } else {
    const view = new DataView(buffer);
    out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  }
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(out[i]!)) out[i] = 0;
  }
  return out;
}

/** Options of {@linkcode runFfmpeg}. */
interface RunOptions extends FfmpegOptions {
  /** ffmpeg arguments after the input (`-i …`): what to produce. */
  outputArgs: string[];
  /** The most stdout may hold; more fails as `audio_decode_failed`. */
  stdoutLimit: number;
}

/**
 * Runs ffmpeg on `bytes` and returns its stdout and stderr. The bytes are
 * piped to stdin, except for MP4/M4A and CAF, which are written to a
 * temporary file first: their index (MP4's `moov`, CAF's packet table) is
 * often at the end and ffmpeg cannot seek back in a pipe. The process is killed on timeout and always awaited.
 *
 * @throws {InvalidAudioError} `ffmpeg_not_installed` (415),
 * `audio_decode_failed` (422, quoting ffmpeg's stderr),
 * `audio_decode_timeout` (422).
 */
async function runFfmpeg(
  bytes: Uint8Array,
  options: RunOptions,
): Promise<{ stdout: ArrayBuffer; log: string }> {
  const ffmpegPath = options.ffmpegPath ?? "ffmpeg";
  const timeoutMs = options.timeoutMs ?? 60_000;
  const what = options.format ?? "audio";
  let tempFile: string | undefined;
  try {
    if (options.format === "m4a" || options.format === "caf") {
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
        collectAll(child.stdout, options.stdoutLimit).catch((error) => {
          if (!(error instanceof RangeError)) throw error;
          try {
            child.kill("SIGKILL");
          } catch { /* already exited */ }
          return null;
        }),
        collectTail(child.stderr, STDERR_LIMIT),
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
      if (stdout === null) {
        throw new InvalidAudioError(
          "audio_decode_failed",
          `ffmpeg produced more than ${options.stdoutLimit} bytes from the ${what}`,
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
    // Room for `limitS` and a second more of samples (whole frames).
    stdoutLimit: Math.ceil(
      ((options.limitS ?? UNLIMITED_S) + 1) * OUTPUT_RATE,
    ) * 4,
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
      String(OUTPUT_RATE),
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
    // `-progress` lines, a few hundred bytes each half second.
    stdoutLimit: 4 * 2 ** 20,
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
