/**
 * Typed access to the raw (patched) smart-whisper addon,
 * `build/Release/smart-whisper.node`, loaded through `createRequire`.
 *
 * Private to the engine: it does no file checks, so callers must run
 * the model guard first.
 *
 * @module
 */
import { createRequire } from "node:module";
import { EngineError } from "../errors/mod.ts";
import { PATCH_LEVEL } from "./patches.ts";

/** A loaded whisper context (smart-whisper's `WhisperModel`). */
export interface NativeModel {
  /** Frees the context off the JS thread; resolves when done. */
  free(): Promise<void>;
  /** True once freed. */
  readonly freed: boolean;
  /** The `whisper_context*` as an N-API external, or null when freed. */
  readonly handle: unknown;
}

/** One decoded token (`format: "detail"` only). */
export interface NativeToken {
  /** Token text; special tokens read like `[_BEG_]` or `[_TT_50]`. */
  text: string;
  /** Vocabulary id. */
  id: number;
  /** Probability the decoder gave it, 0..1. */
  p: number;
  /** With `token_timestamps`: start, ms from the start of the clip. */
  from?: number;
  /** With `token_timestamps`: end, ms. */
  to?: number;
}

/** One segment as the binding reports it (times in ms). */
export interface NativeSegment {
  from: number;
  to: number;
  text: string;
  /** With `format: "detail"`: the segment's tokens, timestamps included. */
  tokens?: NativeToken[];
  /**
   * With `format: "detail"`: mean token probability without the lowest and
   * highest (smart-whisper's own measure).
   */
  confidence?: number;
}

/** Per-call timings from our patch (ms, and call/token counts). */
export interface NativeTimings {
  init_state_ms: number;
  full_ms: number;
  mel_ms: number;
  encode_ms: number;
  decode_ms: number;
  batchd_ms: number;
  prompt_ms: number;
  sample_ms: number;
  n_encode: number;
  n_decode: number;
  n_batchd: number;
  n_prompt: number;
  /** Tokens in all segments, timestamps included. */
  n_tokens: number;
  /**
   * CPU time of the thread that ran the call, ms (patch 09): all of the
   * call's CPU with one thread.
   */
  cpu_ms?: number;
}

/** whisper_full_params fields the binding reads (snake_case, as in C). */
export interface NativeParams {
  strategy?: number;
  n_threads?: number;
  audio_ctx?: number;
  language?: string;
  best_of?: number;
  beam_size?: number;
  no_timestamps?: boolean;
  no_context?: boolean;
  /**
   * Most tokens of past text (earlier windows' and the initial prompt)
   * each window is conditioned on; 0: none.
   */
  n_max_text_ctx?: number;
  single_segment?: boolean;
  temperature?: number;
  max_tokens?: number;
  temperature_inc?: number;
  print_progress?: boolean;
  print_realtime?: boolean;
  print_timestamps?: boolean;
  suppress_blank?: boolean;
  initial_prompt?: string;
  token_timestamps?: boolean;
  format?: "simple" | "detail";
  /**
   * Flash attention for this call's state (our patch; off when absent). It
   * pays at the full context (less memory, faster) and costs at short ones.
   */
  flash_attn?: boolean;
  /** Stop the call after this many ms (our patch; none when absent). */
  time_limit_ms?: number;
}

/** The addon's exports, with our patch's additions. */
export interface Binding {
  WhisperModel: {
    /** Loads a model off the JS thread; rejects on failure (patched). */
    load(path: string, gpu?: boolean): Promise<NativeModel>;
  };
  /**
   * Runs whisper_full off the JS thread. `done` receives the segments and
   * their timings, or an Error object on failure (it never throws into JS).
   */
  transcribe(
    handle: unknown,
    pcm: Float32Array,
    params: NativeParams,
    done: (result: NativeSegment[] | Error, timings?: NativeTimings) => void,
    progress: (segment: NativeSegment) => void,
  ): void;
  /** Turns whisper's own logging on or off (off after load). */
  setLogEnabled(enabled: boolean): void;
  /** ggml's compile-time CPU features, e.g. "AVX2 = 1 | ...". */
  systemInfo(): string;
  /** Marker set by our source patch. */
  patchLevel: string;
}

/** whisper_sampling_strategy.WHISPER_SAMPLING_GREEDY */
export const STRATEGY_GREEDY = 0;

const cache = new Map<string, Binding>();

/**
 * Loads (once per path) the addon at `addonPath`.
 * @throws {EngineError} when it can't be loaded or lacks our patch.
 */
export function loadBinding(addonPath: string): Binding {
  const hit = cache.get(addonPath);
  if (hit) return hit;
  let binding: Binding;
  try {
    binding = createRequire(import.meta.url)(addonPath) as Binding;
  } catch (cause) {
    throw new EngineError(
      `${addonPath}: cannot load the whisper addon (needs --allow-ffi)`,
      { cause },
    );
  }
  if (binding.patchLevel !== PATCH_LEVEL) {
    throw new EngineError(
      `${addonPath}: patch level ${binding.patchLevel ?? "(none)"}, ` +
        `expected ${PATCH_LEVEL}; rebuild it with ensureEngine()`,
    );
  }
  cache.set(addonPath, binding);
  return binding;
}
