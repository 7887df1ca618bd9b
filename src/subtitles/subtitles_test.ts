import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  formatSrt,
  formatTimestamp,
  formatVtt,
  parseSrt,
  parseTimestamp,
  parseVtt,
} from "./mod.ts";

const SEGMENTS = [
  { start: 0, end: 1.1019375, text: " Open the door. " },
  { start: 1.2, end: 1.2, text: "   " },
  { start: 62.5, end: 3725.0005, text: "Line\nbreak --> arrow" },
];

Deno.test("formatTimestamp and parseTimestamp round-trip to the millisecond", () => {
  strictEqual(formatTimestamp(0, ","), "00:00:00,000");
  strictEqual(formatTimestamp(1.1019375, ","), "00:00:01,102");
  strictEqual(formatTimestamp(3725.0005, "."), "01:02:05.001");
  strictEqual(formatTimestamp(-3, "."), "00:00:00.000");
  strictEqual(formatTimestamp(59.9996, ","), "00:01:00,000");
  strictEqual(parseTimestamp("01:02:05,001", ","), 3725.001);
  strictEqual(parseTimestamp("02:05.250", "."), 125.25);
  throws(() => parseTimestamp("1:02:05,001", ","), SyntaxError);
  throws(() => parseTimestamp("00:00:61,000", ","), SyntaxError);
  throws(() => parseTimestamp("00:00:01.000", ","), SyntaxError);
});

Deno.test("formatSrt numbers cues from 1, skips empty segments, one line per cue", () => {
  const srt = formatSrt(SEGMENTS);
  strictEqual(
    srt,
    "1\n00:00:00,000 --> 00:00:01,102\nOpen the door.\n\n" +
      "2\n00:01:02,500 --> 01:02:05,001\nLine break --> arrow\n",
  );
  deepStrictEqual(parseSrt(srt), [
    { index: 1, start: 0, end: 1.102, text: "Open the door." },
    { index: 2, start: 62.5, end: 3725.001, text: "Line break --> arrow" },
  ]);
  strictEqual(formatSrt([]), "");
  deepStrictEqual(parseSrt(""), []);
});

Deno.test("formatVtt writes the header and escapes arrows in text", () => {
  const vtt = formatVtt(SEGMENTS);
  strictEqual(
    vtt,
    "WEBVTT\n\n00:00:00.000 --> 00:00:01.102\nOpen the door.\n\n" +
      "00:01:02.500 --> 01:02:05.001\nLine break -> arrow\n",
  );
  deepStrictEqual(parseVtt(vtt).map((c) => [c.start, c.end, c.text]), [
    [0, 1.102, "Open the door."],
    [62.5, 3725.001, "Line break -> arrow"],
  ]);
  strictEqual(formatVtt([]), "WEBVTT\n");
  deepStrictEqual(parseVtt("WEBVTT\n"), []);
});

Deno.test("readers reject malformed subtitles", () => {
  throws(() => parseSrt("1\n00:00:00,000 -> 00:00:01,000\nx\n"), /cue 1/);
  throws(() => parseSrt("x\n00:00:00,000 --> 00:00:01,000\nx\n"), /cue 1/);
  throws(() => parseVtt("00:00.000 --> 00:01.000\nx\n"), /WEBVTT/);
  throws(() => parseVtt("WEBVTT\n\n00:00.000 --> 00:01.000\n"), /cue 1/);
});

Deno.test("the end of a cue is never before its start", () => {
  deepStrictEqual(parseSrt(formatSrt([{ start: 5, end: 4, text: "x" }])), [
    { index: 1, start: 5, end: 5, text: "x" },
  ]);
});
