/**
 * The transcription engine: whisper.cpp through the npm package
 * smart-whisper 0.8.1, built project-locally with the CPU's vector
 * extensions and our fixes to its native model loader.
 *
 * ```ts
 * import { audioCtxFor, ensureEngine, free, openModel, transcribe } from "./mod.ts";
 *
 * await ensureEngine({ onProgress: (p) => console.log(p.phase, p.fraction) });
 * const model = await openModel(".cache/models/ggml-tiny.en.bin");
 * const { text } = await transcribe(model, pcm16kMono, {
 *   threads: 1,
 *   audioCtx: audioCtxFor(pcm16kMono.length / 16_000),
 * });
 * await free(model);
 * ```
 *
 * Needs `--allow-read --allow-ffi --allow-env` (plus `--allow-run
 * --allow-write` and npm registry access when it has to build).
 *
 * @module
 */
export {
  AUDIO_CTX_PER_SECOND,
  audioCtxFor,
  type AudioCtxOptions,
  DEFAULT_AUDIO_CTX_FLOOR,
  DEFAULT_AUDIO_CTX_MARGIN_S,
  FULL_AUDIO_CTX,
} from "./audio_ctx.ts";
export {
  type BuildProgress,
  ensureEngine,
  type EnsureEngineOptions,
  NODE_GYP_VERSION,
  packageDir,
  SMART_WHISPER_VERSION,
} from "./build.ts";
export { cpuFlags, type CpuFlagsOptions } from "./cpu_flags.ts";
export {
  engineSystemInfo,
  free,
  MIN_SAMPLES,
  ModelHandle,
  openModel,
  type OpenModelOptions,
  SAMPLE_RATE,
  type Segment,
  setNativeLogging,
  transcribe,
  type TranscribeOptions,
  type TranscribeTimings,
  type Transcript,
  type Word,
} from "./engine.ts";
export {
  snapToSpeech,
  type SpeechFrameOptions,
  type SpeechFrames,
  speechFrames,
  type TimedToken,
  type TimedWord,
  wordsFromTokens,
} from "./words.ts";
export type { NativeTimings } from "./_binding.ts";
export {
  hasRepeatedPhrase,
  isRunaway,
  type RunawayContext,
} from "./repetition_guard.ts";
export {
  averageLogprob,
  DEFAULT_MIN_AVG_LOGPROB,
  endOfTextToken,
  type GateInput,
  type RetryReason,
  retryReason,
  type TokenProbability,
} from "./confidence_gate.ts";
export {
  checkModelFile,
  GGML_MAGIC,
  MIN_MODEL_BYTES,
  type ModelFileInfo,
} from "./model_guard.ts";
