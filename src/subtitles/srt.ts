/** SubRip (`.srt`): numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`. */
import { type Cue, cuesOf, type TimedText } from "./cue.ts";
import { formatTimestamp, parseTimestamp } from "./timestamp.ts";

/** Writes `segments` as SubRip; an empty transcript gives "". */
export function formatSrt(segments: readonly TimedText[]): string {
  return cuesOf(segments).map((c) =>
    `${c.index}\n${formatTimestamp(c.start, ",")} --> ${
      formatTimestamp(c.end, ",")
    }\n${c.text}\n`
  ).join("\n");
}

/** Reads SubRip strictly; throws a `SyntaxError` naming the bad cue. */
export function parseSrt(text: string): Cue[] {
  const blocks = text.replace(/\r\n/g, "\n").trim().split(/\n{2,}/)
    .filter((b) => b.trim() !== "");
  return blocks.map((block, i) => {
    const [num, times, ...lines] = block.split("\n");
    const m = /^(\S+) --> (\S+)$/.exec(times ?? "");
    if (!/^\d+$/.test(num ?? "") || !m || lines.length === 0) {
      throw new SyntaxError(`SRT cue ${i + 1} is malformed: "${block}"`);
    }
    return {
      index: Number(num),
      start: parseTimestamp(m[1]!, ","),
      end: parseTimestamp(m[2]!, ","),
      text: lines.join("\n"),
    };
  });
}
