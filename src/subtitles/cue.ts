/** The shapes subtitles are written from and read into. */

/** A timed piece of text, seconds (a transcript segment). */
export interface TimedText {
  start: number;
  end: number;
  text: string;
}

/** One subtitle cue as read back, seconds. */
export interface Cue {
  /** 1-based cue number (SRT) or its position (VTT). */
  index: number;
  start: number;
  end: number;
  text: string;
}

/**
 * The cues to write: segments with text, trimmed, one line each (line
 * breaks inside a segment would end a cue early), times clamped so none
 * is negative or ends before it starts.
 */
export function cuesOf(segments: readonly TimedText[]): Cue[] {
  const cues: Cue[] = [];
  for (const s of segments) {
    const text = s.text.replace(/\s+/g, " ").trim();
    if (text === "") continue;
    const start = Math.max(0, s.start);
    cues.push({
      index: cues.length + 1,
      start,
      end: Math.max(start, s.end),
      text,
    });
  }
  return cues;
}
