/**
 * Deciding whether a transcription at a reduced encoder context
 * (`audio_ctx`) is trustworthy or should be redone at full context.
 *
 * With a context sized to the clip, tiny.en mishears more often than with
 * the full 30 s window. Most of those passes are also unsure of
 * themselves: the average log-probability of their text tokens is low. The
 * gate re-runs such passes at full context (and runaway ones, see
 * `isRunaway`), so the fast path keeps the accuracy of the slow one at the
 * price of a second pass on a minority of clips.
 *
 * @module
 */

/**
 * Default threshold of {@linkcode retryReason}: a sized pass whose text
 * tokens average a log-probability below this is re-run at full context.
 *
 * −0.6 nats is a geometric-mean token probability of ~0.55. On the
 * accuracy corpus (`deno task bench --accuracy`) the fewest word errors lie
 * between about −0.65 and −0.55 for tiny.en and tiny.en-q8_0, whichever
 * half of the clips chooses; the 1 s sample sits at about −0.3. See
 * docs/performance.md, "Audio context sized to the clip".
 */
export const DEFAULT_MIN_AVG_LOGPROB = -0.6;

/**
 * Lowest token probability counted, so a token of probability 0 gives a
 * finite log-probability (ln 1e-10 ≈ −23).
 */
export const MIN_TOKEN_P = 1e-10;

/** The part of a decoded token the gate reads. */
export interface TokenProbability {
  /** Vocabulary id. */
  id: number;
  /** Probability the decoder gave the token, 0..1. */
  p: number;
}

/** Why a sized pass was re-run at full context. */
export type RetryReason = "runaway" | "low_confidence";

/**
 * First special token of a whisper vocabulary (end of transcript): ids
 * below it are text. English-only models have 51864 tokens and end of text
 * at 50256; multilingual ones (≥ 51865 tokens, as whisper.cpp tells them
 * apart) have it at 50257.
 */
export function endOfTextToken(nVocab: number): number {
  return nVocab >= 51865 ? 50257 : 50256;
}

/**
 * Mean natural-log probability of the text tokens (`id < eot`; timestamps
 * and other special tokens are left out).
 *
 * @param eot The vocabulary's end-of-text id (see {@linkcode endOfTextToken}).
 * @returns The mean, or `undefined` when there is no text token.
 */
export function averageLogprob(
  tokens: Iterable<TokenProbability>,
  eot: number,
): number | undefined {
  let sum = 0;
  let n = 0;
  for (const { id, p } of tokens) {
    if (id >= eot) continue;
    sum += Math.log(Math.max(p, MIN_TOKEN_P));
    n++;
  }
  return n === 0 ? undefined : sum / n;
}

/** What {@linkcode retryReason} decides on. */
export interface GateInput {
  /** Whether the pass looked like runaway decoding (see `isRunaway`). */
  runaway: boolean;
  /**
   * Mean text-token log-probability of the pass; `undefined` when it was
   * not measured or the pass has no text (silence is not retried).
   */
  avgLogprob: number | undefined;
  /**
   * Threshold; `-Infinity` turns the confidence check off.
   * @default DEFAULT_MIN_AVG_LOGPROB
   */
  minAvgLogprob?: number;
}

/**
 * Why a reduced-context pass should be redone at full context, or
 * `undefined` when it can be kept: `"runaway"` first, then
 * `"low_confidence"` when `avgLogprob < minAvgLogprob`.
 */
export function retryReason(input: GateInput): RetryReason | undefined {
  if (input.runaway) return "runaway";
  const min = input.minAvgLogprob ?? DEFAULT_MIN_AVG_LOGPROB;
  if (input.avgLogprob !== undefined && input.avgLogprob < min) {
    return "low_confidence";
  }
  return undefined;
}
