/**
 * A small WAV writer, for fixtures, benchmarks and sample assets.
 */
import { GUID_TAIL } from "./parse_wav.ts";

/** Options of {@linkcode encodeWav}. */
export interface EncodeWavOptions {
  /** Frames per second, in Hz. */
  sampleRate: number;
  /**
   * Bits per sample: 8, 16, 24 or 32 for PCM; 32 or 64 for float.
   * @default 16 for PCM, 32 for float
   */
  bitsPerSample?: number;
  /**
   * Integer PCM or IEEE float samples.
   * @default "pcm"
   */
  format?: "pcm" | "float";
  /**
   * Write a WAVE_FORMAT_EXTENSIBLE (0xFFFE) fmt chunk.
   * @default false
   */
  extensible?: boolean;
}

/**
 * Encodes planar channels as a canonical RIFF/WAVE file. Samples are clamped
 * to [-1, 1] and rounded for integer formats.
 *
 * @param channels One array per channel (all the same length), or a mono
 * array.
 * @returns The file bytes.
 */
export function encodeWav(
  channels: Float32Array | readonly Float32Array[],
  options: EncodeWavOptions,
): Uint8Array {
  const planar = channels instanceof Float32Array ? [channels] : channels;
  const format = options.format ?? "pcm";
  const bits = options.bitsPerSample ?? (format === "float" ? 32 : 16);
  const extensible = options.extensible ?? false;
  const count = planar.length;
  const frames = planar[0]?.length ?? 0;
  const step = bits / 8;
  const dataSize = frames * count * step;
  const fmtSize = extensible ? 40 : 16;
  const headerSize = 12 + 8 + fmtSize + 8;
  const bytes = new Uint8Array(headerSize + dataSize + (dataSize & 1));
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) {
      bytes[offset + i] = text.charCodeAt(i);
    }
  };
  const tag = format === "pcm" ? 1 : 3;
  ascii(0, "RIFF");
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, extensible ? 0xfffe : tag, true);
  view.setUint16(22, count, true);
  view.setUint32(24, options.sampleRate, true);
  view.setUint32(28, options.sampleRate * count * step, true);
  view.setUint16(32, count * step, true);
  view.setUint16(34, bits, true);
  if (extensible) {
    view.setUint16(36, 22, true); // cbSize
    view.setUint16(38, bits, true); // valid bits
    view.setUint32(40, count === 2 ? 0x3 : count === 1 ? 0x4 : 0, true);
    view.setUint16(44, tag, true);
    GUID_TAIL.forEach((b, i) => (bytes[46 + i] = b));
  }
  const data = headerSize - 8;
  ascii(data, "data");
  view.setUint32(data + 4, dataSize, true);
  let p = headerSize;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < count; c++, p += step) {
      const v = Math.max(-1, Math.min(1, planar[c]![i]!));
      if (format === "float") {
        if (bits === 64) view.setFloat64(p, v, true);
        else view.setFloat32(p, v, true);
      } else if (bits === 8) {
        view.setUint8(p, Math.min(255, Math.round(v * 128) + 128));
      } else if (bits === 16) {
        view.setInt16(p, Math.min(32767, Math.round(v * 32768)), true);
      } else if (bits === 24) {
        const s = Math.min(8388607, Math.round(v * 8388608));
        view.setUint8(p, s & 0xff);
        view.setUint8(p + 1, (s >> 8) & 0xff);
        view.setInt8(p + 2, s >> 16);
      } else {
        view.setInt32(
          p,
          Math.min(2147483647, Math.round(v * 2147483648)),
          true,
        );
      }
    }
  }
  return bytes;
}
