/**
 * Words with times from a segment's decoded tokens: whisper's BPE tokens
 * carry a leading space where a word begins, so a word is a token that
 * starts with a space (or the segment's first text token) followed by the
 * tokens that don't. Punctuation-only tokens join the word before them.
 *
 * @module
 */

/** A decoded token as the engine reports it (times in ms). */
export interface TimedToken {
  /** Token text, leading space included. */
  text: string;
  /** Vocabulary id; ids at or above end-of-text are special. */
  id: number;
  /** Start, ms from the start of the clip. */
  from?: number;
  /** End, ms. */
  to?: number;
}

/** One word and its span, seconds. */
export interface TimedWord {
  word: string;
  start_s: number;
  end_s: number;
}

const PUNCTUATION_ONLY = /^[\p{P}\p{S}]+$/u;

/**
 * Groups text tokens (`id < eot`) into words. Times are clamped to
 * `[0, clipS]` and made non-decreasing, so a word never starts before the
 * one it follows ends.
 */
export function wordsFromTokens(
  tokens: readonly TimedToken[],
  eot: number,
  clipS: number,
): TimedWord[] {
  const words: TimedWord[] = [];
  let text = "";
  let start = 0;
  let end = 0;
  const flush = () => {
    const word = text.trim();
    if (word !== "") words.push({ word, start_s: start, end_s: end });
    text = "";
  };
  for (const t of tokens) {
    if (t.id >= eot || t.text === "") continue;
    const from = clamp((t.from ?? 0) / 1000, clipS);
    const to = Math.max(from, clamp((t.to ?? t.from ?? 0) / 1000, clipS));
    const startsWord = text === "" || /^\s/.test(t.text);
    if (startsWord && !PUNCTUATION_ONLY.test(t.text.trim())) {
      flush();
      text = t.text;
      start = from;
      end = to;
    } else {
      text += t.text;
      end = Math.max(end, to);
    }
  }
  flush();
  for (let i = 1; i < words.length; i++) {
    const prev = words[i - 1]!;
    const w = words[i]!;
    if (w.start_s < prev.end_s) w.start_s = prev.end_s;
    if (w.end_s < w.start_s) w.end_s = w.start_s;
  }
  return words;
}

function clamp(s: number, max: number): number {
  return Math.min(Math.max(s, 0), max);
}
