/**
 * Container detection from magic bytes. The file name and the declared
 * content type are never consulted: clients get both wrong.
 */

/** Audio containers this service recognises. */
export type AudioFormat =
  | "wav"
  | "mp3"
  | "flac"
  | "ogg"
  | "m4a"
  | "webm"
  | "aiff"
  | "caf"
  | "unknown";

/**
 * A format this service can decode: WAV in-process (or, for a codec not
 * read in-process — ADPCM, GSM 6.10, … — through ffmpeg, as all the others).
 */
export type KnownAudioFormat = Exclude<AudioFormat, "unknown">;

function ascii(bytes: Uint8Array, offset: number, text: string): boolean {
  if (bytes.length < offset + text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * True when the four bytes at `offset` look like an MPEG audio frame header
 * (layer I, II or III): 11-bit sync, a valid version, layer, bitrate and
 * sample rate index. AAC ADTS (layer bits 00) is not accepted.
 */
function isMpegFrame(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length < offset + 4) return false;
  const b0 = bytes[offset]!;
  const b1 = bytes[offset + 1]!;
  const b2 = bytes[offset + 2]!;
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return false;
  const version = (b1 >> 3) & 0x03; // 01 is reserved
  const layer = (b1 >> 1) & 0x03; // 00 is reserved (ADTS uses it)
  const bitrate = b2 >> 4; // 1111 is invalid
  const rate = (b2 >> 2) & 0x03; // 11 is reserved
  return version !== 1 && layer !== 0 && bitrate !== 0x0f && rate !== 3;
}

/**
 * Identifies the audio container from its first bytes.
 *
 * Recognises RIFF/WAVE, MP3 (ID3v2 tag or a bare MPEG frame sync), FLAC
 * (`fLaC`), Ogg (`OggS`), ISO-BMFF/MP4 (`ftyp` box, reported as `m4a`) and
 * EBML/Matroska/WebM (`1A 45 DF A3`, reported as `webm`), AIFF and AIFF-C
 * (`FORM….AIFF` / `AIFC`, macOS recordings) and Apple's Core Audio Format
 * (`caff`, iOS recordings).
 *
 * @param bytes The whole file, or at least its first 12 bytes.
 * @returns The detected format, or `"unknown"`.
 */
export function sniffFormat(bytes: Uint8Array): AudioFormat {
  if (ascii(bytes, 0, "RIFF") && ascii(bytes, 8, "WAVE")) return "wav";
  if (
    ascii(bytes, 0, "FORM") &&
    (ascii(bytes, 8, "AIFF") || ascii(bytes, 8, "AIFC"))
  ) return "aiff";
  if (ascii(bytes, 0, "caff")) return "caf";
  if (ascii(bytes, 0, "fLaC")) return "flac";
  if (ascii(bytes, 0, "OggS")) return "ogg";
  if (ascii(bytes, 4, "ftyp")) return "m4a";
  if (
    bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 &&
    bytes[2] === 0xdf && bytes[3] === 0xa3
  ) return "webm";
  // ID3v2: "ID3", major version < 0xFF, revision < 0xFF.
  if (
    ascii(bytes, 0, "ID3") && bytes.length >= 10 && bytes[3] !== 0xff &&
    bytes[4] !== 0xff
  ) return "mp3";
  if (isMpegFrame(bytes, 0)) return "mp3";
  return "unknown";
}
