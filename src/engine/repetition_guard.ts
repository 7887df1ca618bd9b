/**
 * Spotting whisper's runaway decoding: with a reduced encoder context
 * (`audio_ctx`) the decoder sometimes never emits the closing timestamp and
 * repeats the phrase until its token limit ("Thank you very much. Thank you
 * very much. …"). Such a result is re-run at full context by
 * {@linkcode transcribe}.
 *
 * @module
 */
import type { NativeSegment } from "./_binding.ts";
import { AUDIO_CTX_PER_SECOND } from "./audio_ctx.ts";

/** What {@linkcode isRunaway} looks at besides the segments. */
export interface RunawayContext {
  /** Encoder context of the call (0 = full). */
  audioCtx: number;
  /** The call's token limit per segment. */
  maxTokens: number;
  /** Tokens the call produced (timestamps included), if known. */
  nTokens?: number;
  /** Whether timestamps were off (segments then span the window). */
  noTimestamps?: boolean;
}

/**
 * True when a result looks like runaway decoding:
 * - a segment ends past the encoded window (the decoder never closed it
 *   with a timestamp: whisper then ends it at the 30 s window), or
 * - the call used up its token limit, or
 * - some phrase of 2–8 words repeats 3+ times back to back.
 */
export function isRunaway(
  segments: readonly NativeSegment[],
  context: RunawayContext,
): boolean {
  if (context.nTokens !== undefined && context.nTokens >= context.maxTokens) {
    return true;
  }
  if (!context.noTimestamps && context.audioCtx > 0) {
    const windowMs = (context.audioCtx / AUDIO_CTX_PER_SECOND) * 1000;
    if (segments.some((s) => s.to > windowMs + 10)) return true;
  }
  return hasRepeatedPhrase(segments.map((s) => s.text).join(" "), 3);
}

/**
 * True when some phrase of 2–8 words occurs `times` times back to back
 * (case and punctuation ignored), e.g. "open the door open the door open
 * the door" for times 3.
 */
export function hasRepeatedPhrase(text: string, times = 3): boolean {
  const w = text.toLowerCase().replace(/[^\p{L}\p{N}' ]+/gu, " ").split(/\s+/)
    .filter((x) => x.length > 0);
  for (let n = 2; n <= 8; n++) {
    for (let start = 0; start + n * times <= w.length; start++) {
      let k = 1;
      while (
        k < times &&
        w.slice(start, start + n).every((x, i) => w[start + k * n + i] === x)
      ) k++;
      if (k === times) return true;
    }
  }
  return false;
}
