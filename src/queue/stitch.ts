/**
 * Joining the pieces of a split recording back into one transcript.
 *
 * Pieces are cut in pauses (see `splitAtPauses` in src/audio), so no word
 * spans two pieces: the transcript is the pieces' texts in order, and the
 * segments are the pieces' segments in order, their times already global
 * (seconds of the whole recording). Times are made monotonic: a segment
 * never starts before the previous one ended, nor ends after its piece.
 *
 * @module
 */
import type { PieceResult, Segment } from "./records.ts";

/** A stitched transcript. */
export interface Stitched {
  transcript: string;
  segments: Segment[];
}

/**
 * Stitches `pieces` (any order; indexes 0..n-1) into one transcript. With
 * `prefixOnly`, stops at the first missing index (the transcript so far).
 *
 * @throws {RangeError} when an index is missing or repeated (not with
 *   `prefixOnly`, where a gap ends the prefix).
 */
export function stitchPieces(
  pieces: readonly PieceResult[],
  options: { prefixOnly?: boolean } = {},
): Stitched {
  const sorted = [...pieces].sort((a, b) => a.index - b.index);
  const texts: string[] = [];
  const segments: Segment[] = [];
  let lastEnd = 0;
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i]!;
    if (p.index !== i) {
      if (options.prefixOnly) break;
      throw new RangeError(
        `stitchPieces: expected piece ${i}, got ${p.index} (missing or repeated)`,
      );
    }
    const text = p.text.trim();
    if (text) texts.push(text);
    for (const s of p.segments) {
      const start = Math.max(s.start, lastEnd, p.start_s);
      const end = Math.min(Math.max(s.end, start), p.end_s);
      const seg: Segment = { ...s, start, end: Math.max(end, start) };
      if (s.words) {
        // Words keep one timeline too (a piece's edge words may overlap).
        let wordEnd = start;
        seg.words = s.words.map((w) => {
          const ws = Math.min(Math.max(w.start, wordEnd), seg.end);
          const we = Math.min(Math.max(w.end, ws), seg.end);
          wordEnd = we;
          return { word: w.word, start: ws, end: we };
        });
      }
      segments.push(seg);
      lastEnd = seg.end;
    }
  }
  return { transcript: texts.join(" ").replace(/\s+/g, " "), segments };
}
