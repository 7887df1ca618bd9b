/**
 * From the engine's segments (seconds of the clip it was given) to the
 * segments a job record keeps (seconds of the whole recording, rounded to
 * the millisecond), with the detail the job asked for.
 */
import type { Segment as EngineSegment } from "../engine/mod.ts";
import type { Segment } from "../queue/mod.ts";

const ms = (s: number) => Math.round(s * 1000) / 1000;

/**
 * Shifts `segments` by `offsetS` and clamps their ends (and words') to
 * `endS`, keeping token ids, mean log-probability and words when present.
 */
export function recordSegments(
  segments: readonly EngineSegment[],
  offsetS = 0,
  endS = Infinity,
): Segment[] {
  const at = (s: number) => ms(Math.min(offsetS + s, endS));
  return segments.map((s) => {
    const out: Segment = {
      start: at(s.start_s),
      end: at(s.end_s),
      text: s.text,
    };
    if (s.tokens) out.tokens = s.tokens;
    if (s.avg_logprob !== undefined) {
      out.avg_logprob = Math.round(s.avg_logprob * 1e4) / 1e4;
    }
    if (s.words) {
      out.words = s.words.map((w) => ({
        word: w.word,
        start: at(w.start_s),
        end: at(w.end_s),
      }));
    }
    return out;
  });
}
