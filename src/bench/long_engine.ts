/**
 * The engine alone on a long recording: the pieces the stack would make
 * (same splitter, `PIECE_MAX_S` and engine settings as its workers, same
 * order), transcribed in this process by `streams` concurrent 1-thread
 * calls on one loaded model — no API, queue, Redis or worker processes.
 * `deno task bench:long` runs it beside the stack so that what the stack
 * adds, and how close the engine itself comes to the peer, are measured in
 * the same run.
 *
 * @module
 */
import { splitAtPauses } from "../audio/mod.ts";
import type { WorkerConfig } from "../config/mod.ts";
import { type ModelHandle, transcribe } from "../engine/mod.ts";
import { piecePriorities } from "../queue/pieces.ts";
import {
  type EngineConfig,
  engineSettings,
} from "../worker/engine_settings.ts";

/** What {@linkcode piecesThroughEngine} measured. */
export interface EngineAloneRun {
  /** From the first piece started to the last one done, seconds. */
  wall_s: number;
  /** The pieces' texts joined in recording order. */
  text: string;
  pieces: number;
  streams: number;
  /** Pieces redone at full context (the confidence gate, the runaway guard). */
  retried: number;
}

/** The worker settings {@linkcode piecesThroughEngine} follows. */
export type PieceSettings =
  & Omit<EngineConfig, "WHISPER_THREADS">
  & Pick<WorkerConfig, "PIECE_MAX_S">;

/**
 * Cuts `samples` (16 kHz mono) as a worker does and transcribes every
 * piece with `streams` concurrent calls, taking them in the order the
 * stack queues them (recording order, the last ones longest first).
 *
 * @throws {RangeError} when `streams` is not an integer ≥ 1.
 */
export async function piecesThroughEngine(
  model: ModelHandle,
  samples: Float32Array,
  settings: PieceSettings,
  streams: number,
): Promise<EngineAloneRun> {
  if (!Number.isInteger(streams) || streams < 1) {
    throw new RangeError(
      `piecesThroughEngine: streams must be an integer >= 1, got ${streams}`,
    );
  }
  const t0 = performance.now();
  const cuts = splitAtPauses(samples, { maxPieceS: settings.PIECE_MAX_S });
  const priorities = piecePriorities(
    cuts.map((c) => ({ start_s: c.start / 16_000, end_s: c.end / 16_000 })),
    0,
  );
  const order = cuts.map((_, i) => i).sort((a, b) =>
    priorities[a]! - priorities[b]!
  );
  const texts = new Array<string>(cuts.length).fill("");
  let next = 0;
  let retried = 0;
  const stream = async () => {
    while (next < order.length) {
      const index = order[next++]!;
      const pcm = samples.subarray(cuts[index]!.start, cuts[index]!.end);
      const r = await transcribe(
        model,
        pcm,
        engineSettings(
          { ...settings, WHISPER_THREADS: 1 },
          pcm.length / 16_000,
          true,
        ),
      );
      texts[index] = r.text.trim();
      if (r.timings?.retried) retried++;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(streams, cuts.length) }, stream),
  );
  return {
    wall_s: (performance.now() - t0) / 1000,
    text: texts.filter(Boolean).join(" "),
    pieces: cuts.length,
    streams,
    retried,
  };
}

/** `samples` (16 kHz) after `seconds` of silence: the same speech, cut elsewhere. */
export function withLeadingSilence(
  samples: Float32Array,
  seconds: number,
): Float32Array {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(
      `withLeadingSilence: seconds must be a finite number >= 0, got ${seconds}`,
    );
  }
  const lead = Math.round(seconds * 16_000);
  const out = new Float32Array(lead + samples.length);
  out.set(samples, lead);
  return out;
}
