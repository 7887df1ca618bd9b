/**
 * A finished job as OpenAI's transcription API answers it: `json`
 * (`{text, usage}`), `verbose_json` (task, language, duration, segments
 * and/or words), or text and subtitles.
 */
import { deflateSync } from "node:zlib";
import type { JobRecord, Segment } from "../../queue/mod.ts";
import { CONTENT_TYPES, transcriptAs } from "../transcript_format.ts";
import type { ResponseFormat, TranscriptionFields } from "./fields.ts";

/** Whisper's language names for the codes clients most often send. */
const LANGUAGE_NAMES: Record<string, string> = {
  en: "english",
  de: "german",
  es: "spanish",
  fr: "french",
  it: "italian",
  pt: "portuguese",
  nl: "dutch",
  pl: "polish",
  ru: "russian",
  uk: "ukrainian",
  tr: "turkish",
  sv: "swedish",
  da: "danish",
  no: "norwegian",
  fi: "finnish",
  cs: "czech",
  el: "greek",
  he: "hebrew",
  ar: "arabic",
  hi: "hindi",
  ja: "japanese",
  ko: "korean",
  zh: "chinese",
  vi: "vietnamese",
  id: "indonesian",
  th: "thai",
};

/** The language as verbose_json names it: whisper's name, else the code. */
export function languageName(code: string): string {
  return LANGUAGE_NAMES[code] ?? code;
}

/**
 * whisper's compression ratio of a segment's text: its UTF-8 length over
 * its zlib-compressed length (high for repetitive text).
 */
export function compressionRatio(text: string): number {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length === 0) return 0;
  return round(bytes.length / deflateSync(bytes).length, 4);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * A word as OpenAI's `words` list it: without the punctuation around it
 * ("door." → "door"; inner apostrophes and hyphens stay).
 */
export function bareWord(word: string): string {
  return word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
}

/** The body and content type answering `job` in `format`. */
export function renderTranscription(
  job: JobRecord,
  fields: Pick<TranscriptionFields, "timestamp_granularities"> & {
    response_format: ResponseFormat;
  },
): { body: string; contentType: string } {
  const format = fields.response_format;
  if (format === "text" || format === "srt" || format === "vtt") {
    return {
      body: transcriptAs(job, format),
      contentType: CONTENT_TYPES[format],
    };
  }
  const duration = job.audio_duration_s ?? 0;
  const usage = { type: "duration", seconds: Math.ceil(duration) };
  const text = job.transcript ?? "";
  if (format === "json") {
    return {
      body: JSON.stringify({ text, usage }),
      contentType: "application/json",
    };
  }
  const want = fields.timestamp_granularities ?? ["segment"];
  const verbose: Record<string, unknown> = {
    task: "transcribe",
    language: languageName(job.language),
    duration,
    text,
  };
  if (want.includes("segment")) {
    verbose.segments = job.segments.map((s, id) =>
      verboseSegment(s, id, job.options.temperature ?? 0)
    );
  }
  if (want.includes("word")) {
    verbose.words = job.segments.flatMap((s) => s.words ?? []).flatMap((w) => {
      const word = bareWord(w.word);
      return word === "" ? [] : [{ word, start: w.start, end: w.end }];
    });
  }
  verbose.usage = usage;
  return { body: JSON.stringify(verbose), contentType: "application/json" };
}

/**
 * One segment as verbose_json has it. `no_speech_prob` is left out: this
 * engine version does not report it.
 */
function verboseSegment(s: Segment, id: number, temperature: number) {
  return {
    id,
    seek: Math.round(s.start * 100),
    start: s.start,
    end: s.end,
    text: s.text,
    tokens: s.tokens ?? [],
    temperature,
    ...(s.avg_logprob !== undefined ? { avg_logprob: s.avg_logprob } : {}),
    compression_ratio: compressionRatio(s.text),
  };
}
