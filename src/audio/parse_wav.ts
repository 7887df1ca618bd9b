/**
 * A strict, allocation-bounded RIFF/WAVE reader for the formats Whisper
 * clients actually upload: integer PCM (8, 16, 24, 32 bit), IEEE float
 * (32, 64 bit) and the telephone codecs G.711 A-law and µ-law (8 bit, how
 * call recorders store calls), plain or WAVE_FORMAT_EXTENSIBLE. Other codecs
 * in a WAV (ADPCM, GSM 6.10, …) are refused here with
 * `wav_unsupported_format`; `decodeAudio` hands those to ffmpeg.
 */
import { InvalidAudioError } from "../errors/mod.ts";

/** Lowest accepted sample rate, in Hz. */
export const MIN_SAMPLE_RATE = 1000;
/** Highest accepted sample rate, in Hz. */
export const MAX_SAMPLE_RATE = 384000;
/** Highest accepted channel count; more channels are rejected. */
export const MAX_CHANNELS = 8;

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID we accept. */
export const GUID_TAIL = [
  0x00,
  0x00,
  0x00,
  0x00,
  0x10,
  0x00,
  0x80,
  0x00,
  0x00,
  0xaa,
  0x00,
  0x38,
  0x9b,
  0x71,
];
/** A `data` chunk size meaning "until the end of the stream". */
const STREAMING_SIZE = 0xffffffff;

/** How a WAV file's samples are stored. */
export type WavSampleFormat = "pcm" | "float" | "alaw" | "mulaw";

const SAMPLE_FORMATS: Record<number, WavSampleFormat> = {
  [FORMAT_PCM]: "pcm",
  [FORMAT_FLOAT]: "float",
  [FORMAT_ALAW]: "alaw",
  [FORMAT_MULAW]: "mulaw",
};

/** Bits per sample each format may have. */
const ALLOWED_BITS: Record<WavSampleFormat, number[]> = {
  pcm: [8, 16, 24, 32],
  float: [32, 64],
  alaw: [8],
  mulaw: [8],
};

/** What the header of a WAV file says, validated. */
export interface WavInfo {
  /** Frames per second, in Hz, within 1000..384000. */
  sampleRate: number;
  /** Interleaved channels, 1..8. */
  channels: number;
  /** Bits per stored sample (the container size for EXTENSIBLE). */
  bitsPerSample: number;
  /** Integer PCM, IEEE float, or G.711 A-law / µ-law samples. */
  format: WavSampleFormat;
  /** Complete frames present in the file (at least 1). */
  frames: number;
  /** Byte offset of the first sample in the file. */
  dataOffset: number;
  /**
   * True when the `data` chunk declared more bytes than the file holds (or
   * used the streaming size 0xFFFFFFFF) and was clamped to the file end.
   */
  clamped: boolean;
}

/** A decoded WAV file. */
export interface WavAudio extends WavInfo {
  /**
   * One Float32Array per channel (planar, not interleaved), each `frames`
   * long, with samples scaled to [-1, 1). Non-finite float samples become 0.
   */
  samples: Float32Array[];
}

function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(
    bytes[offset]!,
    bytes[offset + 1]!,
    bytes[offset + 2]!,
    bytes[offset + 3]!,
  );
}

function fail(
  code: string,
  message: string,
  unsupported = false,
): InvalidAudioError {
  return new InvalidAudioError(code, `WAV: ${message}`, { unsupported });
}

interface FmtFields {
  format: WavSampleFormat;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

function readFmt(view: DataView, offset: number, size: number): FmtFields {
  if (size < 16) {
    throw fail(
      "wav_bad_fmt",
      `fmt chunk is ${size} bytes, expected at least 16`,
    );
  }
  let tag = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const bitsPerSample = view.getUint16(offset + 14, true);

  if (tag === FORMAT_EXTENSIBLE) {
    if (size < 40) {
      throw fail(
        "wav_bad_fmt",
        `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, expected 40`,
      );
    }
    const subTag = view.getUint16(offset + 24, true);
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (view.getUint8(offset + 26 + i) !== GUID_TAIL[i]) {
        throw fail(
          "wav_unsupported_format",
          "WAVE_FORMAT_EXTENSIBLE sub-format GUID is not a KSDATAFORMAT_SUBTYPE_* GUID; expected PCM, IEEE_FLOAT, ALAW or MULAW",
          true,
        );
      }
    }
    tag = subTag;
  }

  const format = SAMPLE_FORMATS[tag];
  if (format === undefined) {
    throw fail(
      "wav_unsupported_format",
      `format tag 0x${
        tag.toString(16).padStart(4, "0")
      } is not read in-process; expected PCM (1), IEEE float (3), A-law (6), µ-law (7) or EXTENSIBLE with one of them (other codecs need ffmpeg installed; or convert to 16-bit PCM WAV or send FLAC/MP3/Ogg)`,
      true,
    );
  }
  if (channels < 1 || channels > MAX_CHANNELS) {
    throw fail(
      "wav_bad_channels",
      `channel count is ${channels}, expected 1..${MAX_CHANNELS}`,
    );
  }
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw fail(
      "wav_bad_sample_rate",
      `sample rate is ${sampleRate} Hz, expected ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE} Hz`,
    );
  }
  const allowed = ALLOWED_BITS[format];
  if (!allowed.includes(bitsPerSample)) {
    throw fail(
      "wav_unsupported_bits",
      `${bitsPerSample} bits per sample is not supported for ${format} samples; expected ${
        allowed.join(", ")
      }`,
      true,
    );
  }
  return { format, channels, sampleRate, bitsPerSample };
}

function headerOf(bytes: Uint8Array): WavInfo {
  if (bytes.length === 0) {
    throw new InvalidAudioError("audio_empty", "the audio file is empty");
  }
  if (bytes.length < 12) {
    throw fail(
      "wav_truncated",
      `file is ${bytes.length} bytes, shorter than the 12-byte RIFF header`,
    );
  }
  if (fourcc(bytes, 0) !== "RIFF" || fourcc(bytes, 8) !== "WAVE") {
    throw fail("wav_not_riff", 'file does not start with "RIFF....WAVE"');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;

  let fmt: FmtFields | undefined;
  let data: { offset: number; size: number; clamped: boolean } | undefined;
  let offset = 12;
  let cutChunk: string | undefined;
  // Every iteration advances by at least 8 bytes, so the walk terminates.
  while (offset + 8 <= end) {
    const id = fourcc(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    const available = end - body;
    if (id === "fmt ") {
      if (fmt === undefined) {
        if (size > available) {
          throw fail(
            "wav_truncated",
            `fmt chunk declares ${size} bytes but only ${available} remain`,
          );
        }
        fmt = readFmt(view, body, size);
      }
    } else if (id === "data" && data === undefined) {
      const clamped = size === STREAMING_SIZE || size > available;
      data = { offset: body, size: clamped ? available : size, clamped };
      if (fmt !== undefined || clamped) break;
    }
    if (size > available) {
      cutChunk = id;
      break;
    }
    offset = body + size + (size & 1); // chunks are padded to even sizes
  }

  // A file cut at a chunk boundary is told apart from one that really lacks
  // a chunk by the RIFF size, when the writer filled it in.
  const riffSize = view.getUint32(4, true);
  const truncated = cutChunk !== undefined || offset < end ||
    (riffSize !== STREAMING_SIZE && riffSize !== 0 && 8 + riffSize > end);
  if (fmt === undefined) {
    throw data === undefined && truncated
      ? fail("wav_truncated", "file ends before a fmt chunk")
      : fail("wav_missing_fmt", "no fmt chunk before the audio data");
  }
  if (data === undefined) {
    throw truncated
      ? fail("wav_truncated", "file ends before a data chunk")
      : fail("wav_missing_data", "no data chunk in the file");
  }
  const frameBytes = fmt.channels * (fmt.bitsPerSample / 8);
  const frames = Math.floor(data.size / frameBytes);
  if (frames === 0) {
    throw new InvalidAudioError(
      "audio_empty",
      `WAV: the data chunk holds no complete sample frame (${data.size} bytes, ${frameBytes} per frame)`,
    );
  }
  return {
    ...fmt,
    frames,
    dataOffset: data.offset,
    clamped: data.clamped,
  };
}

/** Wraps any unexpected failure so callers only ever see InvalidAudioError. */
function guarded<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof InvalidAudioError) throw error;
    throw new InvalidAudioError(
      "wav_malformed",
      `WAV: could not be read (${
        error instanceof Error ? error.message : String(error)
      })`,
      { cause: error },
    );
  }
}

/**
 * Reads and validates the header of a WAV file without decoding samples.
 *
 * Chunks are walked robustly: unknown chunks are skipped, odd sizes are
 * padded, a `data` chunk larger than the file (or of the streaming size
 * 0xFFFFFFFF) is clamped to the end of the file, and the RIFF size field is
 * ignored. A trailing partial frame is ignored.
 *
 * @throws {InvalidAudioError} for every malformed or unsupported input, and
 * nothing else. Codes: `audio_empty`, `wav_truncated`, `wav_not_riff`,
 * `wav_bad_fmt`, `wav_missing_fmt`, `wav_missing_data`,
 * `wav_unsupported_format` (415), `wav_unsupported_bits` (415),
 * `wav_bad_channels`, `wav_bad_sample_rate`, `wav_malformed`.
 */
export function readWavHeader(bytes: Uint8Array): WavInfo {
  return guarded(() => headerOf(bytes));
}

const g711Tables: Partial<Record<"alaw" | "mulaw", Float32Array>> = {};

/**
 * The 256 values of a G.711 code as 16-bit linear samples scaled to [-1, 1)
 * (ITU-T G.711's expansion: a sign bit, a 3-bit segment and a 4-bit step,
 * A-law's bits inverted at even positions, µ-law's all inverted).
 */
export function g711Table(law: "alaw" | "mulaw"): Float32Array {
  const cached = g711Tables[law];
  if (cached) return cached;
  const table = new Float32Array(256);
  for (let code = 0; code < 256; code++) {
    let linear: number;
    if (law === "mulaw") {
      const u = ~code & 0xff;
      const segment = (u >> 4) & 0x07;
      const magnitude = ((((u & 0x0f) << 3) + 0x84) << segment) - 0x84;
      linear = u & 0x80 ? -magnitude : magnitude;
    } else {
      const a = code ^ 0x55;
      const segment = (a >> 4) & 0x07;
      const step = (a & 0x0f) << 4;
      const magnitude = segment === 0
        ? step + 8
        : (step + 0x108) << (segment - 1);
      linear = a & 0x80 ? magnitude : -magnitude;
    }
    // µ-law has two codes for zero; neither is -0.
    table[code] = linear === 0 ? 0 : linear / 32768;
  }
  g711Tables[law] = table;
  return table;
}

function decodeSamples(bytes: Uint8Array, info: WavInfo): Float32Array[] {
  const { channels, frames, bitsPerSample, format, dataOffset } = info;
  const view = new DataView(
    bytes.buffer,
    bytes.byteOffset + dataOffset,
    bytes.byteLength - dataOffset,
  );
  const out: Float32Array[] = [];
  for (let c = 0; c < channels; c++) out.push(new Float32Array(frames));
  const step = bitsPerSample / 8;
  const stride = step * channels;
  for (let c = 0; c < channels; c++) {
    const dst = out[c]!;
    let p = c * step;
    if (format === "alaw" || format === "mulaw") {
      const table = g711Table(format);
      for (let i = 0; i < frames; i++, p += stride) {
        dst[i] = table[view.getUint8(p)]!;
      }
    } else if (format === "float") {
      for (let i = 0; i < frames; i++, p += stride) {
        const v = step === 4
          ? view.getFloat32(p, true)
          : view.getFloat64(p, true);
        dst[i] = Number.isFinite(v) ? v : 0;
      }
    } else if (step === 2) {
      for (let i = 0; i < frames; i++, p += stride) {
        dst[i] = view.getInt16(p, true) / 32768;
      }
    } else if (step === 1) {
      for (let i = 0; i < frames; i++, p += stride) {
        dst[i] = (view.getUint8(p) - 128) / 128;
      }
    } else if (step === 3) {
      for (let i = 0; i < frames; i++, p += stride) {
        const v = view.getUint8(p) | (view.getUint8(p + 1) << 8) |
          (view.getInt8(p + 2) << 16);
        dst[i] = v / 8388608;
      }
    } else {
      for (let i = 0; i < frames; i++, p += stride) {
        dst[i] = view.getInt32(p, true) / 2147483648;
      }
    }
  }
  return out;
}

/**
 * The samples of a WAV file whose header {@linkcode readWavHeader} gave as
 * `info`: planar floats at its own rate, one Float32Array per channel.
 *
 * @throws {InvalidAudioError} (`wav_malformed`) and nothing else.
 */
export function wavSamples(bytes: Uint8Array, info: WavInfo): Float32Array[] {
  return guarded(() => decodeSamples(bytes, info));
}

/**
 * Decodes a WAV file into planar float samples at its own rate.
 *
 * @param bytes The whole file.
 * @returns The validated header and one Float32Array per channel.
 * @throws {InvalidAudioError} for every malformed or unsupported input, and
 * nothing else (see {@linkcode readWavHeader} for the codes).
 */
export function parseWav(bytes: Uint8Array): WavAudio {
  return guarded(() => {
    const info = headerOf(bytes);
    return { ...info, samples: decodeSamples(bytes, info) };
  });
}
