/**
 * The engine settings a worker gives every clip and piece, from its
 * configuration — one place, so what measures the engine alone
 * (`deno task bench:long`) runs exactly what the workers run.
 *
 * @module
 */
import type { WorkerConfig } from "../config/mod.ts";
import { audioCtxFor, type TranscribeOptions } from "../engine/mod.ts";

/** The engine's `flashAttn` for each `FLASH_ATTN` setting. */
const FLASH_ATTN = {
  off: false,
  "full-context": "full-context",
  on: true,
} as const satisfies Record<string, TranscribeOptions["flashAttn"]>;

/** The settings of {@linkcode engineSettings}. */
export type EngineSettings =
  & Required<
    Pick<TranscribeOptions, "threads" | "audioCtx" | "flashAttn">
  >
  & Pick<TranscribeOptions, "minAvgLogprob" | "fallback">;

/** The worker settings {@linkcode engineSettings} reads. */
export type EngineConfig = Pick<
  WorkerConfig,
  | "WHISPER_THREADS"
  | "AUDIO_CTX"
  | "AUDIO_CTX_FLOOR"
  | "AUDIO_CTX_MARGIN_S"
  | "AUDIO_CTX_MIN_LOGPROB"
  | "PIECE_MIN_LOGPROB"
  | "PIECE_FALLBACK"
  | "FLASH_ATTN"
>;

/**
 * Threads, the encoder context sized to `durationS` seconds of audio, the
 * confidence gate, the temperature fallback and flash attention, as
 * `config` sets them. A `piece` of a long recording takes PIECE_MIN_LOGPROB
 * for its gate and PIECE_FALLBACK; a whole job AUDIO_CTX_MIN_LOGPROB and no
 * fallback.
 */
export function engineSettings(
  config: EngineConfig,
  durationS: number,
  piece = false,
): EngineSettings {
  return {
    threads: config.WHISPER_THREADS,
    audioCtx: audioCtxFor(durationS, {
      enabled: config.AUDIO_CTX === "auto",
      floor: config.AUDIO_CTX_FLOOR,
      margin: config.AUDIO_CTX_MARGIN_S,
    }),
    minAvgLogprob: piece
      ? config.PIECE_MIN_LOGPROB
      : config.AUDIO_CTX_MIN_LOGPROB,
    fallback: piece && config.PIECE_FALLBACK,
    flashAttn: FLASH_ATTN[config.FLASH_ATTN],
  };
}
