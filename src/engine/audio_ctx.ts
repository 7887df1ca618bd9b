/**
 * Sizing whisper's encoder context (`audio_ctx`) to the clip.
 *
 * The encoder always runs over 30 s of mel frames unless told otherwise:
 * 1500 positions, 50 per second of audio. A 1 s clip needs ~50, and the
 * encoder's cost falls roughly with the square of the context, so sizing it
 * to the clip is the biggest speed-up for short audio.
 *
 * @module
 */

/** Encoder positions for a full 30 s window. */
export const FULL_AUDIO_CTX = 1500;
/** Encoder positions per second of audio. */
export const AUDIO_CTX_PER_SECOND = 50;
/**
 * Default smallest context (≈ 1.9 s of audio). Measured with the accuracy
 * bench (docs/performance.md): with the confidence gate, floor 96 and a 1 s
 * margin kept word errors 2.4 points under full context (14.22 % vs 16.87 %,
 * q8_0) at 25 % less time on the 1 s sample than floor 128 and 2 s.
 */
export const DEFAULT_AUDIO_CTX_FLOOR = 96;
/** Default seconds added to the clip before sizing (see the floor). */
export const DEFAULT_AUDIO_CTX_MARGIN_S = 1;

/** Options of {@linkcode audioCtxFor}. */
export interface AudioCtxOptions {
  /**
   * Smallest context returned; very small contexts hurt accuracy.
   * @default DEFAULT_AUDIO_CTX_FLOOR (96)
   */
  floor?: number;
  /**
   * Seconds added to the clip before sizing. A short window sometimes makes
   * the decoder repeat the phrase until its token limit; the repetition
   * guard and the confidence gate catch those clips and redo them at full
   * context, so the margin trades re-runs against the cost of every clip.
   * @default DEFAULT_AUDIO_CTX_MARGIN_S (1)
   */
  margin?: number;
  /** Round up to a multiple of this (SIMD-friendly shapes). @default 16 */
  multiple?: number;
  /** False returns 0, whisper's "full context" (1500). @default true */
  enabled?: boolean;
}

/**
 * The `audio_ctx` for a clip of `durationS` seconds:
 * `ceil((durationS + margin) × 50)`, raised to `floor`, rounded up to
 * `multiple`, capped at 1500. Returns 0 (full context) when disabled.
 *
 * @throws {RangeError} when `durationS` is negative or not finite, or an
 *   option is out of range.
 */
export function audioCtxFor(
  durationS: number,
  options: AudioCtxOptions = {},
): number {
  const {
    floor = DEFAULT_AUDIO_CTX_FLOOR,
    margin = DEFAULT_AUDIO_CTX_MARGIN_S,
    multiple = 16,
    enabled = true,
  } = options;
  if (!Number.isFinite(durationS) || durationS < 0) {
    throw new RangeError(
      `audioCtxFor: durationS must be a finite number >= 0, got ${durationS}`,
    );
  }
  if (!Number.isFinite(margin) || margin < 0) {
    throw new RangeError(`audioCtxFor: margin must be >= 0, got ${margin}`);
  }
  if (!Number.isInteger(floor) || floor < 1) {
    throw new RangeError(`audioCtxFor: floor must be an integer >= 1`);
  }
  if (!Number.isInteger(multiple) || multiple < 1) {
    throw new RangeError(`audioCtxFor: multiple must be an integer >= 1`);
  }
  if (!enabled) return 0;
  const frames = Math.ceil((durationS + margin) * AUDIO_CTX_PER_SECOND);
  const rounded = Math.ceil(Math.max(frames, floor) / multiple) * multiple;
  return Math.min(rounded, FULL_AUDIO_CTX);
}
