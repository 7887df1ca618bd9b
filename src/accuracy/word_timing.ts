/**
 * How well word timestamps match where speech really is. A recording built
 * from clips at known places has, per clip, a known speech onset and offset
 * (found from the clip's own energy); each transcribed word is assigned to
 * the clip nearest its midpoint; the first word's start and the last
 * word's end are compared with the clip's onset and offset.
 *
 * @module
 */
import { percentile } from "../stats/mod.ts";

/** A span of a recording, seconds. */
export interface Span {
  start_s: number;
  end_s: number;
}

/** A transcribed word with its times, seconds. */
export interface TimedWordLike {
  word: string;
  start: number;
  end: number;
}

/**
 * Where speech starts and ends in `samples`: the first and last 10 ms frame
 * whose RMS is within `floorDb` of the loudest frame; null for silence.
 */
export function speechSpan(
  samples: Float32Array,
  sampleRate = 16_000,
  floorDb = -35,
): Span | null {
  const frame = Math.round(sampleRate / 100);
  const rms: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j++) sum += samples[j]! * samples[j]!;
    rms.push(Math.sqrt(sum / frame));
  }
  const loudest = Math.max(0, ...rms);
  if (loudest === 0) return null;
  const floor = loudest * 10 ** (floorDb / 20);
  const first = rms.findIndex((r) => r >= floor);
  const last = rms.findLastIndex((r) => r >= floor);
  return { start_s: first / 100, end_s: (last + 1) / 100 };
}

/** Word timing errors over a recording, ms (absolute unless "bias"). */
export interface WordTimingReport {
  /** Clips that got at least one word. */
  clips: number;
  /** Words transcribed. */
  words: number;
  onset_ms: { median: number; p95: number; bias: number };
  offset_ms: { median: number; p95: number; bias: number };
  /** Words lying wholly in a pause, more than 100 ms from any speech. */
  words_in_pauses: number;
}

/**
 * Compares `words` with the speech spans of the clips (`speech`, seconds
 * of the recording, in order).
 */
export function wordTimingErrors(
  speech: readonly Span[],
  words: readonly TimedWordLike[],
): WordTimingReport {
  const byClip = speech.map(() => [] as TimedWordLike[]);
  let inPauses = 0;
  for (const w of words) {
    const mid = (w.start + w.end) / 2;
    let best = 0;
    let bestD = Infinity;
    speech.forEach((s, i) => {
      const d = mid < s.start_s ? s.start_s - mid : Math.max(0, mid - s.end_s);
      if (d < bestD) [best, bestD] = [i, d];
    });
    byClip[best]?.push(w);
    const margin = 0.1;
    if (
      speech.every((s) =>
        w.end < s.start_s - margin || w.start > s.end_s + margin
      )
    ) inPauses++;
  }
  const onset: number[] = [];
  const offset: number[] = [];
  byClip.forEach((ws, i) => {
    if (ws.length === 0) return;
    onset.push((ws[0]!.start - speech[i]!.start_s) * 1000);
    offset.push((ws.at(-1)!.end - speech[i]!.end_s) * 1000);
  });
  const summary = (xs: number[]) => {
    const abs = xs.map(Math.abs);
    return {
      median: round(percentile(abs, 50)),
      p95: round(percentile(abs, 95)),
      bias: round(percentile(xs, 50)),
    };
  };
  return {
    clips: onset.length,
    words: words.length,
    onset_ms: summary(onset),
    offset_ms: summary(offset),
    words_in_pauses: inPauses,
  };
}

function round(x: number): number {
  return Math.round(x);
}
