/**
 * Accuracy: word error rate, the corpus of clips with known text (and how its
 * generated clips are made with espeak-ng), and the accuracy bench that
 * chooses the engine's confidence gate. Benchmark tooling: the service's
 * runtime (API, worker) never loads it.
 *
 * @module
 */
export {
  type AccuracySummary,
  chooseMinAvgLogprob,
  type ClipAccuracy,
  crossValidate,
  type Fold,
  type GateCost,
  type GateOutcome,
  gateOutcome,
  measureAccuracy,
  type MeasureAccuracyOptions,
  measureGateCost,
  type PassResult,
  type SettingSummary,
  summarizeAccuracy,
} from "./measure.ts";
export {
  ACCURACY_CLIPS,
  type CorpusClip,
  GENERATED_CLIPS,
  type GeneratedClip,
  loadAccuracyCorpus,
  ORIGINAL_CLIPS,
} from "./corpus.ts";
export {
  type AccuracyBenchOptions,
  MAX_WER_INCREASE,
  runAccuracyBench,
} from "./bench.ts";
export { normalizeWords, wordErrorRate, wordErrors } from "./wer.ts";
export {
  type Span,
  speechSpan,
  type TimedWordLike,
  wordTimingErrors,
  type WordTimingReport,
} from "./word_timing.ts";
export {
  measureWordTiming,
  type WordTimingOptions,
  type WordTimingResult,
} from "./word_timing_run.ts";
export { EspeakMissingError, synthesizeClip } from "./make_clips.ts";
