/** WebVTT (`.vtt`): a `WEBVTT` header, cues `HH:MM:SS.mmm --> HH:MM:SS.mmm`. */
import { type Cue, cuesOf, type TimedText } from "./cue.ts";
import { formatTimestamp, parseTimestamp } from "./timestamp.ts";

/**
 * Writes `segments` as WebVTT. "-->" can't appear in a cue's text, so it
 * is written "->".
 */
export function formatVtt(segments: readonly TimedText[]): string {
  const cues = cuesOf(segments).map((c) =>
    `${formatTimestamp(c.start, ".")} --> ${formatTimestamp(c.end, ".")}\n${
      c.text.replaceAll("-->", "->")
    }\n`
  );
  return ["WEBVTT\n", ...cues].join("\n");
}

/** Reads WebVTT cues strictly (no settings, notes or styles). */
export function parseVtt(text: string): Cue[] {
  const blocks = text.replace(/\r\n/g, "\n").trim().split(/\n{2,}/);
  if (!/^WEBVTT(\s|$)/.test(blocks[0] ?? "")) {
    throw new SyntaxError("WebVTT must start with WEBVTT");
  }
  return blocks.slice(1).filter((b) => b.trim() !== "").map((block, i) => {
    const lines = block.split("\n");
    // An optional cue identifier line comes before the timing line.
    if (lines.length > 1 && !lines[0]!.includes("-->")) lines.shift();
    const m = /^(\S+) --> (\S+)$/.exec(lines[0] ?? "");
    if (!m || lines.length < 2) {
      throw new SyntaxError(`WebVTT cue ${i + 1} is malformed: "${block}"`);
    }
    return {
      index: i + 1,
      start: parseTimestamp(m[1]!, "."),
      end: parseTimestamp(m[2]!, "."),
      text: lines.slice(1).join("\n"),
    };
  });
}
