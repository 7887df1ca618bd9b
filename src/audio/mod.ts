/**
 * Audio intake for the transcription service: recognise an upload from its
 * bytes, validate it cheaply before queuing ({@linkcode probeAudio}), and
 * decode it to the 16 kHz mono float samples Whisper expects
 * ({@linkcode decodeAudio}), or measure it for the API's limits
 * ({@linkcode measureAudio}). WAV (PCM, float, G.711) is parsed in-process;
 * MP3, FLAC, Ogg, M4A, WebM, AIFF, CAF and WAVs of other codecs are decoded
 * by ffmpeg. Every bad input fails with an
 * `InvalidAudioError` (415 unsupported, 422 broken) carrying a stable code.
 *
 * ```ts
 * import { decodeAudio } from "./mod.ts";
 * const audio = await decodeAudio(bytes, { maxDurationS: 600 });
 * // audio.samples: Float32Array at 16 kHz mono
 * ```
 *
 * @module
 */
export {
  type AudioProbe,
  decodeAudio,
  type DecodedAudio,
  type DecodeOptions,
  DEFAULT_MAX_DURATION_S,
  type FfmpegTurn,
  type KnownAudioFormat,
  measureAudio,
  type MeasureOptions,
  probeAudio,
} from "./decode.ts";
export { type AudioFormat, sniffFormat } from "./sniff.ts";
export {
  MAX_CHANNELS,
  MAX_SAMPLE_RATE,
  MIN_SAMPLE_RATE,
  parseWav,
  readWavHeader,
  type WavAudio,
  type WavInfo,
  wavSamples,
} from "./parse_wav.ts";
export {
  downmix,
  resample,
  toWhisperInput,
  WHISPER_SAMPLE_RATE,
} from "./resample.ts";
export {
  decodeWithFfmpeg,
  ffmpegAvailable,
  type FfmpegOptions,
  type FfmpegResult,
  measureWithFfmpeg,
  requireFfmpeg,
} from "./ffmpeg.ts";
export { encodeWav, type EncodeWavOptions } from "./encode_wav.ts";
export { decodeBase64, readBase64File } from "./base64.ts";
export {
  DEFAULT_MAX_PIECE_S,
  type Piece,
  pieceSeconds,
  splitAtPauses,
  type SplitOptions,
} from "./split.ts";
