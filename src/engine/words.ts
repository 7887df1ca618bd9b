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

/** Options of {@linkcode speechFrames}. */
export interface SpeechFrameOptions {
  /** Samples per second of `pcm`. @default 16000 */
  sampleRate?: number;
  /** A 10 ms frame is speech within this many dB of the loudest. @default -35 */
  floorDb?: number;
}

/** Which 10 ms frames of a clip are speech, by energy. */
export interface SpeechFrames {
  /** Frame `f` is speech. */
  speech: (f: number) => boolean;
  /** Frames in the clip. */
  count: number;
  /** The clip's length, seconds. */
  clipS: number;
  /** False for silence-only audio (nothing to snap to). */
  any: boolean;
}

/** The speech frames of `pcm` (one pass; share it across a clip's words). */
export function speechFrames(
  pcm: Float32Array,
  options: SpeechFrameOptions = {},
): SpeechFrames {
  const rate = options.sampleRate ?? 16_000;
  const frame = Math.round(rate / 100);
  const n = Math.floor(pcm.length / frame);
  const rms = new Float64Array(n);
  let loudest = 0;
  for (let f = 0; f < n; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += pcm[i]! * pcm[i]!;
    rms[f] = Math.sqrt(sum / frame);
    loudest = Math.max(loudest, rms[f]!);
  }
  const floor = loudest * 10 ** ((options.floorDb ?? -35) / 20);
  return {
    speech: (f) => f >= 0 && f < n && rms[f]! >= floor,
    count: n,
    clipS: pcm.length / rate,
    any: loudest > 0 && n > 0,
  };
}

/**
 * Moves word edges that fall in silence onto the speech next to them:
 * whisper's token timestamps stretch words into the pauses around them
 * (measured with `deno task bench:words`). A start in silence moves forward
 * to the next speech frame, an end in silence back to the last one; a word
 * with no speech in its span is put at the edge of the nearer speech.
 * Returns new words; times stay within the clip and non-decreasing.
 */
export function snapToSpeech(
  words: readonly TimedWord[],
  frames: SpeechFrames,
): TimedWord[] {
  if (!frames.any) return words.map((w) => ({ ...w }));
  const { speech, count: n } = frames;
  const nextSpeech = (f: number) => {
    while (f < n && !speech(f)) f++;
    return f;
  };
  const prevSpeech = (f: number) => {
    while (f >= 0 && !speech(f)) f--;
    return f;
  };
  const out: TimedWord[] = [];
  for (const w of words) {
    let s = Math.min(n - 1, Math.floor(w.start_s * 100));
    let e = Math.min(n - 1, Math.max(s, Math.ceil(w.end_s * 100) - 1));
    if (!speech(s)) s = nextSpeech(s);
    if (!speech(e)) e = prevSpeech(e);
    if (s > e) {
      // No speech inside: the nearer speech edge, before or after.
      const before = prevSpeech(Math.floor(w.start_s * 100));
      const after = nextSpeech(Math.floor(w.start_s * 100));
      const mid = (w.start_s + w.end_s) * 50;
      const useBefore = before >= 0 &&
        (after >= n || mid - (before + 1) <= after - mid);
      s = e = useBefore ? before : Math.min(after, n - 1);
      if (s < 0) s = e = Math.floor(w.start_s * 100);
    }
    out.push({ word: w.word, start_s: s / 100, end_s: (e + 1) / 100 });
  }
  const clipS = frames.clipS;
  for (let i = 0; i < out.length; i++) {
    const w = out[i]!;
    w.start_s = Math.min(w.start_s, clipS);
    w.end_s = Math.min(Math.max(w.end_s, w.start_s), clipS);
    const prev = out[i - 1];
    if (prev && w.start_s < prev.end_s) {
      w.start_s = Math.min(prev.end_s, w.end_s);
    }
  }
  return out;
}
