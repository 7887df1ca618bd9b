/**
 * Measures the engine's word timestamps the way the service makes them: a
 * recording of known clips (the committed corpus joined with pauses) is cut
 * at pauses into pieces (`PIECE_MAX_S`), each piece transcribed with word
 * timestamps, the words shifted to the recording's timeline, and compared
 * with each clip's speech span (see {@linkcode wordTimingErrors}).
 */
import { splitAtPauses } from "../audio/mod.ts";
import { audioCtxFor, free, openModel, transcribe } from "../engine/mod.ts";
import { longRecording } from "../testing/long_audio.ts";
import { wordErrorRate } from "./wer.ts";
import {
  type Span,
  speechSpan,
  type TimedWordLike,
  wordTimingErrors,
  type WordTimingReport,
} from "./word_timing.ts";

/** Options of {@linkcode measureWordTiming}. */
export interface WordTimingOptions {
  /** Path of the ggml model. */
  modelPath: string;
  /** Seconds of audio (at least). */
  seconds: number;
  /** Longest piece, seconds. */
  pieceMaxS: number;
  /** Threads per call. @default 2 */
  threads?: number;
  /** The pieces' confidence gate (the workers' PIECE_MIN_LOGPROB). */
  minAvgLogprob?: number;
  /** The pieces' temperature fallback (the workers' PIECE_FALLBACK). */
  fallback?: boolean;
}

/** The report, with the recording's length, pieces and WER. */
export interface WordTimingResult extends WordTimingReport {
  audio_s: number;
  pieces: number;
  wer: number;
}

/** Runs the measurement in this process. */
export async function measureWordTiming(
  options: WordTimingOptions,
): Promise<WordTimingResult> {
  const rec = await longRecording(options.seconds);
  const samples = new Float32Array(Math.round(rec.durationS * 16_000));
  const speech: Span[] = [];
  for (const c of rec.clips) {
    samples.set(c.samples, Math.round(c.start_s * 16_000));
    const s = speechSpan(c.samples);
    if (s) {
      speech.push({
        start_s: c.start_s + s.start_s,
        end_s: c.start_s + s.end_s,
      });
    }
  }
  const model = await openModel(options.modelPath);
  const words: TimedWordLike[] = [];
  const texts: string[] = [];
  const pieces = splitAtPauses(samples, { maxPieceS: options.pieceMaxS });
  try {
    for (const p of pieces) {
      const pcm = samples.subarray(p.start, p.end);
      const offset = p.start / 16_000;
      const r = await transcribe(model, pcm, {
        threads: options.threads ?? 2,
        audioCtx: audioCtxFor(pcm.length / 16_000),
        minAvgLogprob: options.minAvgLogprob,
        fallback: options.fallback,
        wordTimestamps: true,
      });
      texts.push(r.text);
      for (const seg of r.segments) {
        for (const w of seg.words ?? []) {
          words.push({
            word: w.word,
            start: offset + w.start_s,
            end: offset + w.end_s,
          });
        }
      }
    }
  } finally {
    await free(model);
  }
  return {
    audio_s: Math.round(rec.durationS * 10) / 10,
    pieces: pieces.length,
    wer: Math.round(
      wordErrorRate([{ reference: rec.text, hypothesis: texts.join(" ") }]) *
        100,
    ) / 100,
    ...wordTimingErrors(speech, words),
  };
}
