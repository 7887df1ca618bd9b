/**
 * Loading whisper models and transcribing 16 kHz mono PCM with the patched
 * smart-whisper addon. Loading and inference run on libuv worker threads,
 * never on the JS thread; one loaded model serves concurrent calls (each
 * gets its own whisper state), so keep calls × threads ≤ cores.
 *
 * @module
 */
import {
  EngineError,
  ModelIntegrityError,
  TimeLimitError,
} from "../errors/mod.ts";
import {
  type Binding,
  loadBinding,
  type NativeModel,
  type NativeParams,
  type NativeSegment,
  type NativeTimings,
  STRATEGY_GREEDY,
} from "./_binding.ts";
import { audioCtxFor, FULL_AUDIO_CTX } from "./audio_ctx.ts";
import { ensureEngine } from "./build.ts";
import { snapToSpeech, speechFrames, wordsFromTokens } from "./words.ts";
import {
  averageLogprob,
  DEFAULT_MIN_AVG_LOGPROB,
  endOfTextToken,
  type RetryReason,
  retryReason,
} from "./confidence_gate.ts";
import { checkModelFile } from "./model_guard.ts";
import { isRunaway } from "./repetition_guard.ts";
import { isAnnotation, isSilent } from "./non_speech.ts";

/** Sample rate the engine expects. */
export const SAMPLE_RATE = 16_000;
/**
 * whisper.cpp skips input shorter than 1.0 s (returns no segments), so
 * shorter clips are padded with silence to this many samples (1.1 s).
 */
export const MIN_SAMPLES = 17_600;

/** Options of {@linkcode openModel}. */
export interface OpenModelOptions {
  /** Ask whisper for a GPU backend (this build has none). @default false */
  gpu?: boolean;
  /** The addon to use. @default await ensureEngine() */
  addonPath?: string;
}

/**
 * Past-text tokens a window may be prompted with when the caller gives a
 * prompt (whisper.cpp's default; it takes at most half the text context,
 * 224 tokens for every Whisper model).
 */
const MAX_TEXT_CTX_WITH_PROMPT = 16384;

/** Options of {@linkcode transcribe}. */
export interface TranscribeOptions {
  /** CPU threads for this call. @default 1 */
  threads?: number;
  /**
   * Encoder context; 0 = full (1500). @default audioCtxFor(clip duration)
   */
  audioCtx?: number;
  /** Spoken language. @default "en" */
  language?: string;
  /**
   * Text the decoder sees as if it came before the clip (whisper's initial
   * prompt): spellings, names, a style. A prompted call runs at the full
   * context whatever `audioCtx` says. @default none
   */
  prompt?: string;
  /**
   * Sampling temperature of the first decode, 0..1 (0 = greedy argmax).
   * @default 0
   */
  temperature?: number;
  /**
   * Stop the call once this many ms have passed since it started (both
   * passes, when the clip is redone at full context, share it); it then
   * throws {@linkcode TimeLimitError}. @default none
   */
  timeLimitMs?: number;
  /**
   * Per segment: its token ids and their mean log-probability
   * (`tokens`, `avg_logprob`). @default false
   */
  detail?: boolean;
  /**
   * Per word start and end times from whisper's token timestamps
   * (`words`; implies `detail`). @default false
   */
  wordTimestamps?: boolean;
  /**
   * Greedy decoding (best_of 1, beam 1) instead of smart-whisper's
   * beam search with 5 beams. @default true
   */
  greedy?: boolean;
  /** Beam width when `greedy` is false. @default 5 */
  beamSize?: number;
  /** Skip timestamp tokens (faster; one segment spans the clip). @default false */
  noTimestamps?: boolean;
  /**
   * Most tokens per segment, a bound on runaway repetition.
   * @default ceil(12 × clip seconds) + 32
   */
  maxTokens?: number;
  /**
   * Re-decode at higher temperatures when the output looks degenerate
   * (whisper's temperature fallback). @default false
   */
  fallback?: boolean;
  /**
   * When a reduced context (`audioCtx` > 0) gives runaway output (no
   * closing timestamp, token limit reached, a phrase repeated 3+ times;
   * see `isRunaway`), transcribe again at full context and return that.
   * @default true
   */
  guard?: boolean;
  /**
   * Confidence gate: when a reduced context (`audioCtx` > 0) gives text
   * whose tokens average a log-probability below this, transcribe again at
   * full context and return that. `-Infinity` turns the gate off (and the
   * per-token detail it needs). @default DEFAULT_MIN_AVG_LOGPROB (−0.6)
   */
  minAvgLogprob?: number;
  /**
   * Flash attention for every pass of this call. At the full context it
   * keeps the 1500 × 1500 attention matrices out of memory (a process's
   * peak RSS 187 instead of 273 MiB with q8_0) but took ~25 % longer
   * (sample, 3 alternating runs: 2.17–2.48 s against 1.61–1.98 s); at short
   * contexts it is slower too (encoder 91 vs 73 ms at 112 positions). So it
   * is a memory-for-time trade, off unless asked for; `"full-context"`
   * uses it only for passes at the full context (the re-runs), where the
   * memory is.
   * @default false
   */
  flashAttn?: boolean | "full-context";
}

/** One transcribed segment. */
export interface Segment {
  /** Start, seconds from the start of the clip. */
  start_s: number;
  /** End, seconds from the start of the clip. */
  end_s: number;
  /** Text of the segment, trimmed. */
  text: string;
  /** With `detail`: the ids of its text tokens, in order. */
  tokens?: number[];
  /** With `detail`: mean natural-log probability of its text tokens. */
  avg_logprob?: number;
  /** With `wordTimestamps`: its words with times. */
  words?: Word[];
}

/** One word with its time span (from whisper's token timestamps). */
export interface Word {
  /** The word as spoken, without surrounding spaces. */
  word: string;
  /** Start, seconds from the start of the clip. */
  start_s: number;
  /** End, seconds from the start of the clip. */
  end_s: number;
}

/** Result of {@linkcode transcribe}. */
export interface Transcript {
  /** The whole transcript, trimmed. */
  text: string;
  /** Segments in order. */
  segments: Segment[];
  /** How the call ran. */
  timings?: TranscribeTimings;
}

/** Measured facts about one {@linkcode transcribe} call. */
export interface TranscribeTimings {
  /** Wall time from the call to its result, ms. */
  total_ms: number;
  /** Clip duration before padding, seconds. */
  audio_s: number;
  /** Encoder context used (0 = full). */
  audio_ctx: number;
  /** Threads used. */
  threads: number;
  /** True when the clip was re-run at full context (see `retry_reason`). */
  retried: boolean;
  /**
   * Why it was re-run: `"runaway"` (repetition guard) or
   * `"low_confidence"` (confidence gate).
   */
  retry_reason?: RetryReason;
  /**
   * Mean log-probability of the text tokens of the first (reduced-context)
   * pass, the figure the confidence gate compares; absent when the gate was
   * off, the context full, or the pass gave no text.
   */
  avg_logprob?: number;
  /**
   * whisper's own figures for the (last) native call: state creation,
   * whisper_full, mel, encoder, decoder (1-token steps, small batches,
   * prompt) and sampling in ms, plus call and token counts.
   */
  native?: NativeTimings;
  /**
   * CPU time of the native calls (both, when re-run), ms, as the engine's
   * thread measured it (patch 09): all of whisper's CPU with one thread.
   */
  cpu_ms?: number;
}

/** A loaded model; pass it to {@linkcode transcribe} and {@linkcode free}. */
export class ModelHandle {
  /** Path the model was loaded from. */
  readonly path: string;
  /** Wall time of the native load, ms. */
  readonly loadMs: number;
  /** Vocabulary id of end-of-text; lower ids are text tokens. */
  readonly eot: number;
  /** @internal */
  readonly _binding: Binding;
  /** @internal */
  readonly _native: NativeModel;
  /** @internal Calls in flight; {@linkcode free} waits for them. */
  readonly _inflight: Set<Promise<unknown>> = new Set();
  /** @internal */
  _freeing: Promise<void> | undefined;

  /** @internal Use {@linkcode openModel}. */
  constructor(
    path: string,
    loadMs: number,
    binding: Binding,
    native: NativeModel,
    eot: number,
  ) {
    this.path = path;
    this.loadMs = loadMs;
    this.eot = eot;
    this._binding = binding;
    this._native = native;
  }

  /** True once {@linkcode free} was called. */
  get closed(): boolean {
    return this._freeing !== undefined;
  }
}

/**
 * Loads a ggml whisper model after checking the file (exists, ≥ 1 MiB, ggml
 * magic). Builds the addon first when needed (see `ensureEngine`).
 *
 * @throws {ModelIntegrityError} when the file is missing, truncated, not
 *   ggml, or the native loader rejects it.
 * @throws {EngineError} when the addon can't be built or loaded.
 */
export async function openModel(
  path: string,
  options: OpenModelOptions = {},
): Promise<ModelHandle> {
  const { nVocab } = await checkModelFile(path);
  const binding = loadBinding(options.addonPath ?? await ensureEngine());
  const t0 = performance.now();
  let native: NativeModel;
  try {
    native = await binding.WhisperModel.load(path, options.gpu ?? false);
  } catch (cause) {
    throw new ModelIntegrityError(
      `${path}: whisper could not load the model: ${messageOf(cause)}`,
      { cause },
    );
  }
  return new ModelHandle(
    path,
    performance.now() - t0,
    binding,
    native,
    endOfTextToken(nVocab),
  );
}

/**
 * Transcribes 16 kHz mono float PCM (samples in [-1, 1]) off the JS thread.
 * Clips under 1 s are padded with silence (whisper skips them otherwise);
 * an empty or silent clip gives an empty transcript without a whisper call,
 * and segments that hold only annotations ("[BLANK_AUDIO]", "[Music]") are
 * left out.
 *
 * @throws {EngineError} when the model was freed or whisper fails.
 */
export async function transcribe(
  handle: ModelHandle,
  pcm: Float32Array,
  options: TranscribeOptions = {},
): Promise<Transcript> {
  if (handle.closed) {
    throw new EngineError(`${handle.path}: model was freed`);
  }
  if (!(pcm instanceof Float32Array)) {
    throw new TypeError("transcribe: pcm must be a Float32Array");
  }
  const t0 = performance.now();
  const audioS = pcm.length / SAMPLE_RATE;
  const threads = options.threads ?? 1;
  const requestedCtx = options.audioCtx ?? audioCtxFor(audioS);
  // A prompt runs at the full context. At a reduced one whisper follows a
  // plain-text prompt's style and leaves out the timestamps, and then often
  // runs away: 32 of 39 prompted runs of the committed clips did, each
  // decoded twice before the full-context retry (docs/performance.md).
  const audioCtx = options.prompt ? 0 : requestedCtx;
  let reason: RetryReason | undefined;
  let avgLogprob: number | undefined;
  let native: NativeTimings | undefined;
  let cpuMs: number | undefined;
  const counted = (t: NativeTimings | undefined) => {
    if (t?.cpu_ms !== undefined) cpuMs = (cpuMs ?? 0) + t.cpu_ms;
    return t;
  };
  const timings = (): TranscribeTimings => ({
    total_ms: performance.now() - t0,
    audio_s: audioS,
    audio_ctx: audioCtx,
    threads,
    retried: reason !== undefined,
    ...(reason ? { retry_reason: reason } : {}),
    ...(avgLogprob !== undefined ? { avg_logprob: avgLogprob } : {}),
    ...(native ? { native } : {}),
    ...(cpuMs !== undefined ? { cpu_ms: cpuMs } : {}),
  });
  // Nothing to hear: whisper would write "[BLANK_AUDIO]" (and spend ~2 s
  // on 15 s of it) — no segments, no whisper call (non_speech.ts).
  if (isSilent(pcm)) return { text: "", segments: [], timings: timings() };
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`transcribe: threads must be an integer >= 1`);
  }
  if (
    !Number.isInteger(requestedCtx) || requestedCtx < 0 || requestedCtx > 1500
  ) {
    throw new RangeError(`transcribe: audioCtx must be an integer 0..1500`);
  }
  const minAvgLogprob = options.minAvgLogprob ?? DEFAULT_MIN_AVG_LOGPROB;
  if (Number.isNaN(minAvgLogprob) || minAvgLogprob > 0) {
    throw new RangeError(
      `transcribe: minAvgLogprob must be <= 0 (or -Infinity), got ${minAvgLogprob}`,
    );
  }
  // A context of 1500 is the full window: nothing to guard or gate. (Audio
  // over 30 s sizes to 1500; treating that as reduced made the runaway check
  // see segments past 30 s and transcribe every long clip twice.)
  const reduced = audioCtx > 0 && audioCtx < FULL_AUDIO_CTX;
  const gate = reduced && minAvgLogprob > -Infinity;

  const temperature = options.temperature ?? 0;
  if (!(temperature >= 0 && temperature <= 1)) {
    throw new RangeError(
      `transcribe: temperature must be in 0..1, got ${temperature}`,
    );
  }
  const wordTimestamps = options.wordTimestamps ?? false;
  const detail = (options.detail ?? false) || wordTimestamps;
  const greedy = options.greedy ?? true;
  const noTimestamps = options.noTimestamps ?? false;
  const maxTokens = options.maxTokens ?? Math.ceil(12 * audioS) + 32;
  const params: NativeParams = {
    strategy: greedy ? STRATEGY_GREEDY : 1,
    n_threads: threads,
    audio_ctx: audioCtx,
    language: options.language ?? "en",
    best_of: 1,
    beam_size: greedy ? 1 : options.beamSize ?? 5,
    no_timestamps: noTimestamps,
    no_context: true,
    // `no_context` only drops text left from an earlier call: within one
    // call whisper.cpp still prompts each 30 s window with the text of the
    // ones before. On long audio that chains errors — the 8-min corpus file
    // decoded whole fell into "the" for every window from 282 s to the end
    // (WER 66 %; 16 % without it). Each window stands alone here, as with
    // faster-whisper's condition_on_previous_text=False; a prompt the
    // caller gives is kept (it lives in the same past text).
    n_max_text_ctx: options.prompt ? MAX_TEXT_CTX_WITH_PROMPT : 0,
    max_tokens: maxTokens,
    temperature,
    temperature_inc: options.fallback ? 0.2 : 0,
    print_progress: false,
    print_realtime: false,
    print_timestamps: false,
    // Per-token probabilities, only when the gate or the caller reads them.
    format: gate || detail ? "detail" : "simple",
    ...(options.prompt ? { initial_prompt: options.prompt } : {}),
    ...(wordTimestamps ? { token_timestamps: true } : {}),
    flash_attn: flashAttnFor(options.flashAttn, audioCtx),
  };
  const input = pcm.length >= MIN_SAMPLES ? pcm : padded(pcm, MIN_SAMPLES);
  const limit = options.timeLimitMs;
  if (limit !== undefined && !(limit > 0)) {
    throw new RangeError(`transcribe: timeLimitMs must be > 0, got ${limit}`);
  }
  /** The time left of the call's limit, as the binding takes it. */
  const deadline = (): Pick<NativeParams, "time_limit_ms"> => {
    if (limit === undefined) return {};
    const left = limit - (performance.now() - t0);
    if (left <= 0) {
      throw new TimeLimitError(
        `transcription stopped at its time limit of ${Math.round(limit)} ms`,
      );
    }
    return { time_limit_ms: left };
  };

  let out = await runNative(handle, input, { ...params, ...deadline() }, limit);
  native = counted(out.timings);
  if (reduced) {
    if (gate) {
      avgLogprob = averageLogprob(
        out.segments.flatMap((s) => s.tokens ?? []),
        handle.eot,
      );
    }
    reason = retryReason({
      runaway: (options.guard ?? true) &&
        isRunaway(out.segments, {
          audioCtx,
          maxTokens,
          nTokens: out.timings?.n_tokens,
          noTimestamps,
        }),
      avgLogprob,
      minAvgLogprob,
    });
  }
  if (reason) {
    out = await runNative(handle, input, {
      ...params,
      audio_ctx: 0,
      format: detail ? "detail" : "simple",
      flash_attn: flashAttnFor(options.flashAttn, 0),
      ...deadline(),
    }, limit);
    native = counted(out.timings);
  }
  // Whisper's notes for noise or music ("[ Silence ]", "(bell dings)")
  // are not speech: their segments are dropped.
  const raw = out.segments.filter((s) => !isAnnotation(s.text));
  const segments = raw.map((s) => {
    const seg: Segment = {
      start_s: Math.min(s.from / 1000, audioS),
      end_s: Math.min(s.to / 1000, audioS),
      text: s.text.trim(),
    };
    if (!detail) return seg;
    const text = (s.tokens ?? []).filter((t) => t.id < handle.eot);
    seg.tokens = text.map((t) => t.id);
    const logprob = averageLogprob(text, handle.eot);
    if (logprob !== undefined) seg.avg_logprob = logprob;
    return seg;
  });
  if (wordTimestamps) {
    // One energy pass for the clip; words snapped in order across segments.
    const frames = speechFrames(pcm);
    const words = raw.map((s) =>
      snapToSpeech(wordsFromTokens(s.tokens ?? [], handle.eot, audioS), frames)
    );
    let lastEnd = 0;
    segments.forEach((seg, i) => {
      seg.words = words[i]!.map((w) => {
        const start_s = Math.max(w.start_s, lastEnd);
        const end_s = Math.max(w.end_s, start_s);
        lastEnd = end_s;
        return { word: w.word, start_s, end_s };
      });
    });
  }
  return {
    text: raw.map((s) => s.text).join("").trim(),
    segments,
    timings: timings(),
  };
}

/** Whether a pass at `audioCtx` (0 = full) uses flash attention. */
function flashAttnFor(
  option: TranscribeOptions["flashAttn"],
  audioCtx: number,
): boolean {
  return option === "full-context" ? audioCtx === 0 : option ?? false;
}

/** One whisper_full call on a fresh state, tracked for {@linkcode free}. */
async function runNative(
  handle: ModelHandle,
  input: Float32Array,
  params: NativeParams,
  limitMs?: number,
): Promise<{ segments: NativeSegment[]; timings?: NativeTimings }> {
  if (handle.closed) {
    throw new EngineError(`${handle.path}: model was freed`);
  }
  const native = handle._native;
  const call = new Promise<
    { segments: NativeSegment[]; timings?: NativeTimings }
  >((resolve, reject) => {
    try {
      handle._binding.transcribe(
        native.handle,
        input,
        params,
        (result, timings) => {
          // `native` is referenced here so the model can't be collected (and
          // its context freed) while the worker thread uses it.
          if (
            result instanceof Error && limitMs !== undefined &&
            /time limit exceeded/.test(result.message)
          ) {
            reject(
              new TimeLimitError(
                `transcription stopped at its time limit of ${
                  Math.round(limitMs)
                } ms`,
                { cause: result },
              ),
            );
          } else if (result instanceof Error || native.freed) {
            reject(
              new EngineError(
                `${handle.path}: transcription failed: ${messageOf(result)}`,
                { cause: result },
              ),
            );
          } else resolve({ segments: result, timings });
        },
        () => {},
      );
    } catch (cause) {
      reject(
        new EngineError(
          `${handle.path}: transcription failed: ${messageOf(cause)}`,
          { cause },
        ),
      );
    }
  });
  handle._inflight.add(call);
  try {
    return await call;
  } finally {
    handle._inflight.delete(call);
  }
}

/**
 * Frees the model once its in-flight transcriptions have settled. Further
 * {@linkcode transcribe} calls fail with {@linkcode EngineError}. Safe to call
 * twice.
 */
export function free(handle: ModelHandle): Promise<void> {
  handle._freeing ??= (async () => {
    await Promise.allSettled([...handle._inflight]);
    await handle._native.free();
  })();
  return handle._freeing;
}

/**
 * ggml's compile-time CPU features of the addon, e.g.
 * `"AVX = 1 | AVX2 = 1 | AVX512 = 0 | FMA = 1 | ... | F16C = 1 | ..."`.
 */
export async function engineSystemInfo(addonPath?: string): Promise<string> {
  return loadBinding(addonPath ?? await ensureEngine()).systemInfo();
}

/** Turns whisper.cpp's own stderr logging on or off (off by default). */
export async function setNativeLogging(
  enabled: boolean,
  addonPath?: string,
): Promise<void> {
  loadBinding(addonPath ?? await ensureEngine()).setLogEnabled(enabled);
}

function padded(pcm: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(pcm);
  return out;
}

function messageOf(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
