/**
 * Subtitles from a transcript's timed segments: SubRip (`.srt`) and WebVTT
 * (`.vtt`) writers, and strict readers for both (tests and clients check
 * what the service wrote with them).
 *
 * @module
 */
export { type Cue, type TimedText } from "./cue.ts";
export { formatSrt, parseSrt } from "./srt.ts";
export { formatVtt, parseVtt } from "./vtt.ts";
export { formatTimestamp, parseTimestamp } from "./timestamp.ts";
