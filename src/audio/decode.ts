/**
 * The one entry point the API and the worker use: bytes in, 16 kHz mono
 * samples out, with every failure an {@linkcode InvalidAudioError}.
 */
import { InvalidAudioError } from "../errors/mod.ts";
import {
  decodeWithFfmpeg,
  measureWithFfmpeg,
  requireFfmpeg,
} from "./ffmpeg.ts";
import { readWavHeader, type WavInfo, wavSamples } from "./parse_wav.ts";
import { toWhisperInput, WHISPER_SAMPLE_RATE } from "./resample.ts";
import { type KnownAudioFormat, sniffFormat } from "./sniff.ts";

/** Longest audio accepted when the caller sets no limit: 3 hours. */
export const DEFAULT_MAX_DURATION_S = 3 * 3600;

export type { KnownAudioFormat };

/**
 * Runs an ffmpeg decoding it is given, e.g. in a turn that bounds how many
 * run at once (the API's `FfmpegTurns`).
 */
export type FfmpegTurn = <T>(decode: () => Promise<T>) => Promise<T>;

/** Options of {@linkcode decodeAudio} and {@linkcode probeAudio}. */
export interface DecodeOptions {
  /**
   * The ffmpeg executable used for formats other than WAV.
   * @default "ffmpeg"
   */
  ffmpegPath?: string;
  /**
   * Reject audio longer than this many seconds (`audio_too_long`).
   * @default 10800
   */
  maxDurationS?: number;
  /**
   * Give up on an ffmpeg decode after this many milliseconds.
   * @default 60000
   */
  timeoutMs?: number;
}

/** Decoded audio, ready for Whisper. */
export interface DecodedAudio {
  /** 16 kHz mono samples in [-1, 1]. */
  samples: Float32Array;
  /** Duration of `samples`, in seconds. */
  durationS: number;
  /** The sniffed container. */
  format: KnownAudioFormat;
  /** The source sample rate in Hz; null when ffmpeg did not report it. */
  sampleRate: number | null;
  /** The source channel count; null when ffmpeg did not report it. */
  channels: number | null;
}

/** What {@linkcode probeAudio} learnt without decoding. */
export interface AudioProbe {
  /** The sniffed container. */
  format: KnownAudioFormat;
  /** Duration in seconds (WAV only; null for other formats). */
  durationS: number | null;
  /** Source sample rate in Hz (WAV only; null for other formats). */
  sampleRate: number | null;
  /** Source channel count (WAV only; null for other formats). */
  channels: number | null;
}

function tooLong(durationS: number, maxDurationS: number): InvalidAudioError {
  return new InvalidAudioError(
    "audio_too_long",
    `audio is ${
      durationS.toFixed(1)
    } s long, longer than the ${maxDurationS} s limit`,
    { extra: { max_duration_s: maxDurationS } },
  );
}

function sniffKnown(bytes: Uint8Array): KnownAudioFormat {
  if (bytes.length === 0) {
    throw new InvalidAudioError("audio_empty", "the audio file is empty");
  }
  const format = sniffFormat(bytes);
  if (format === "unknown") {
    throw new InvalidAudioError(
      "unsupported_audio_format",
      "the upload is not a recognised audio file; expected WAV, MP3, FLAC, Ogg, M4A/MP4, WebM, AIFF or CAF",
      { unsupported: true },
    );
  }
  return format;
}

/**
 * Where audio is decoded: a WAV in-process (`info`, its validated header),
 * everything else by ffmpeg, once it is known to be there — including a WAV
 * whose codec is not one read here (ADPCM, GSM 6.10, …; `codec` is then the
 * header's `wav_unsupported_format` error, thrown instead when ffmpeg is
 * missing: it names the codec).
 */
type Route = { info: WavInfo } | { codec: InvalidAudioError | null };

async function routeOf(
  bytes: Uint8Array,
  format: KnownAudioFormat,
  ffmpegPath: string | undefined,
): Promise<Route> {
  if (format !== "wav") {
    await requireFfmpeg(ffmpegPath);
    return { codec: null };
  }
  try {
    return { info: readWavHeader(bytes) };
  } catch (error) {
    if (
      !(error instanceof InvalidAudioError) ||
      error.code !== "wav_unsupported_format"
    ) throw error;
    try {
      await requireFfmpeg(ffmpegPath);
    } catch {
      throw error;
    }
    return { codec: error };
  }
}

/**
 * Runs an ffmpeg step; for a WAV of a codec ffmpeg can't decode either, its
 * failure becomes the header's 415 naming the codec, with ffmpeg's reason.
 */
async function throughFfmpeg<T>(
  codec: InvalidAudioError | null,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (
      codec === null || !(error instanceof InvalidAudioError) ||
      error.code !== "audio_decode_failed"
    ) throw error;
    throw new InvalidAudioError(
      "wav_unsupported_format",
      `${codec.message}; ffmpeg could not decode it either (${error.message})`,
      { unsupported: true, cause: error },
    );
  }
}

/**
 * A cheap check run before a job is queued: the bytes are a known format,
 * WAV headers are valid with at least one frame and within the duration
 * limit, and ffmpeg is available for other formats (and for WAVs of other
 * codecs, whose duration is then null). Samples are not decoded.
 *
 * @throws {InvalidAudioError} `audio_empty` (422), `unsupported_audio_format`
 * (415), `ffmpeg_not_installed` (415), `audio_too_long` (422), or any
 * `wav_*` code from the WAV header.
 */
export async function probeAudio(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<AudioProbe> {
  const format = sniffKnown(bytes);
  const route = await routeOf(bytes, format, options.ffmpegPath);
  if (!("info" in route)) {
    return { format, durationS: null, sampleRate: null, channels: null };
  }
  const { info } = route;
  const durationS = info.frames / info.sampleRate;
  const max = options.maxDurationS ?? DEFAULT_MAX_DURATION_S;
  if (durationS > max) throw tooLong(durationS, max);
  return {
    format,
    durationS,
    sampleRate: info.sampleRate,
    channels: info.channels,
  };
}

/**
 * Decodes an upload into 16 kHz mono float samples.
 *
 * WAV (PCM 8/16/24/32-bit, float 32/64-bit, G.711 A-law and µ-law, plain or
 * EXTENSIBLE) is decoded in-process; MP3, FLAC, Ogg, M4A, WebM, AIFF, CAF and
 * WAVs of other codecs go through ffmpeg. The format is sniffed from the
 * bytes, never taken from a file name.
 *
 * @throws {InvalidAudioError} and nothing else for bad input: see
 * {@linkcode probeAudio}, plus `audio_decode_failed` and
 * `audio_decode_timeout` from ffmpeg.
 */
export async function decodeAudio(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedAudio> {
  const format = sniffKnown(bytes);
  const max = options.maxDurationS ?? DEFAULT_MAX_DURATION_S;
  const route = await routeOf(bytes, format, options.ffmpegPath);
  if ("info" in route) {
    const { info } = route;
    const durationS = info.frames / info.sampleRate;
    if (durationS > max) throw tooLong(durationS, max);
    // The header read once, by routeOf.
    const samples = toWhisperInput(wavSamples(bytes, info), info.sampleRate);
    return {
      samples,
      durationS,
      format,
      sampleRate: info.sampleRate,
      channels: info.channels,
    };
  }
  const decoded = await throughFfmpeg(
    route.codec,
    () =>
      decodeWithFfmpeg(bytes, {
        format,
        ffmpegPath: options.ffmpegPath,
        timeoutMs: options.timeoutMs,
        // One second more than allowed, so "too long" is detectable.
        limitS: max + 1,
      }),
  );
  const durationS = decoded.samples.length / WHISPER_SAMPLE_RATE;
  if (durationS > max) throw tooLong(durationS, max);
  return { ...decoded, durationS, format };
}

/** Options of {@linkcode measureAudio}. */
export interface MeasureOptions {
  /**
   * Decode at most this many seconds of audio through ffmpeg; a longer file
   * reports a duration just above it.
   */
  limitS: number;
  /** The ffmpeg executable. @default "ffmpeg" */
  ffmpegPath?: string;
  /** Give up (`audio_decode_timeout`) after this long. @default 30000 */
  timeoutMs?: number;
  /**
   * Runs the ffmpeg decoding it is given (the API's turns, which bound how
   * many run at once); by default it runs at once. WAVs read in-process
   * don't take a turn.
   */
  ffmpegTurn?: FfmpegTurn;
}

/**
 * Validates `bytes` as audio and measures its duration without keeping
 * samples: from a WAV's header when it is read in-process, otherwise by
 * ffmpeg decoding to a null sink (so undecodable bytes are refused up
 * front). No duration limit is applied: that is the caller's to enforce.
 *
 * @returns the sniffed format and the duration in seconds (through ffmpeg
 * at most `limitS + 1`).
 * @throws {InvalidAudioError} as {@linkcode probeAudio} and
 * {@linkcode decodeAudio}, and `audio_empty` when nothing decodes.
 */
export async function measureAudio(
  bytes: Uint8Array,
  options: MeasureOptions,
): Promise<{ format: KnownAudioFormat; durationS: number }> {
  const format = sniffKnown(bytes);
  const route = await routeOf(bytes, format, options.ffmpegPath);
  if ("info" in route) {
    return { format, durationS: route.info.frames / route.info.sampleRate };
  }
  const turn = options.ffmpegTurn ?? ((decode) => decode());
  const durationS = await turn(() =>
    throughFfmpeg(route.codec, () =>
      measureWithFfmpeg(bytes, {
        format,
        limitS: options.limitS,
        ffmpegPath: options.ffmpegPath,
        timeoutMs: options.timeoutMs ?? 30_000,
      }))
  );
  return { format, durationS };
}
