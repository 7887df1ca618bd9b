/**
 * Word error rate of the engine's settings on the accuracy corpus, side by
 * side, clip by clip:
 *
 * - `full`: encoder context 1500, the unoptimised reference;
 * - `fast`: context sized to the clip with the repetition guard only;
 * - `gated`: sized context plus the confidence gate (the worker default).
 *
 * Also the choice of the gate's threshold from such measurements
 * ({@linkcode chooseMinAvgLogprob}) and a cross-check of that choice on
 * held-out clips ({@linkcode crossValidate}).
 *
 * @module
 */
import type { CorpusClip } from "./corpus.ts";
import { audioCtxFor } from "../engine/mod.ts";
import { DEFAULT_MIN_AVG_LOGPROB, type RetryReason } from "../engine/mod.ts";
import { type ModelHandle, transcribe } from "../engine/mod.ts";
import { normalizeWords, wordErrors } from "./wer.ts";
import { percentile } from "../stats/mod.ts";

/** One transcription of one clip. */
export interface PassResult {
  /** The transcript. */
  text: string;
  /** Word errors against the reference. */
  errors: number;
  /** Wall time of the call, ms. */
  ms: number;
  /** Why it was re-run at full context, if it was. */
  retryReason?: RetryReason;
  /** Mean text-token log-probability of the sized pass (gated only). */
  avgLogprob?: number;
}

/** One clip measured in the three settings. */
export interface ClipAccuracy {
  /** Clip name under `assets/`. */
  name: string;
  /** Reference text. */
  reference: string;
  /** Words in the reference. */
  words: number;
  /** The sized context used by `fast` and `gated`. */
  audioCtx: number;
  full: PassResult;
  fast: PassResult;
  gated: PassResult;
}

/** Options of {@linkcode measureAccuracy}. */
export interface MeasureAccuracyOptions {
  /** Threads per call. @default 1 */
  threads?: number;
  /** `audioCtxFor` floor. @default DEFAULT_AUDIO_CTX_FLOOR */
  floor?: number;
  /** `audioCtxFor` margin, seconds. @default DEFAULT_AUDIO_CTX_MARGIN_S */
  margin?: number;
  /** The gate's threshold. @default DEFAULT_MIN_AVG_LOGPROB */
  minAvgLogprob?: number;
  /** Called after each clip. */
  onClip?: (clip: ClipAccuracy) => void;
}

/**
 * Transcribes each clip at full context, at the sized context (repetition
 * guard only) and at the sized context with the confidence gate, one after
 * the other so machine load affects the three alike.
 */
export async function measureAccuracy(
  model: ModelHandle,
  clips: readonly CorpusClip[],
  options: MeasureAccuracyOptions = {},
): Promise<ClipAccuracy[]> {
  const threads = options.threads ?? 1;
  const minAvgLogprob = options.minAvgLogprob ?? DEFAULT_MIN_AVG_LOGPROB;
  const out: ClipAccuracy[] = [];
  for (const clip of clips) {
    const audioCtx = audioCtxFor(clip.pcm.length / 16_000, {
      floor: options.floor,
      margin: options.margin,
    });
    const pass = async (ctx: number, gate: number): Promise<PassResult> => {
      const r = await transcribe(model, clip.pcm, {
        threads,
        audioCtx: ctx,
        minAvgLogprob: gate,
      });
      const t = r.timings!;
      return {
        text: r.text,
        errors: wordErrors(clip.text, r.text),
        ms: t.total_ms,
        ...(t.retry_reason ? { retryReason: t.retry_reason } : {}),
        ...(t.avg_logprob !== undefined ? { avgLogprob: t.avg_logprob } : {}),
      };
    };
    const row: ClipAccuracy = {
      name: clip.name,
      reference: clip.text,
      words: normalizeWords(clip.text).length,
      audioCtx,
      full: await pass(0, -Infinity),
      fast: await pass(audioCtx, -Infinity),
      gated: await pass(audioCtx, minAvgLogprob),
    };
    options.onClip?.(row);
    out.push(row);
  }
  return out;
}

/** Figures of one setting over a set of clips. */
export interface SettingSummary {
  /** Word error rate, percent. */
  wer: number;
  /** Word errors. */
  errors: number;
  /** Clips re-run at full context. */
  retried: number;
  /** Median, 95th percentile and mean of ms per clip. */
  ms_p50: number;
  ms_p95: number;
  ms_mean: number;
}

/** {@linkcode summarizeAccuracy}'s result. */
export interface AccuracySummary {
  clips: number;
  words: number;
  full: SettingSummary;
  fast: SettingSummary;
  gated: SettingSummary;
}

/**
 * Corpus word error rate (total errors over total reference words) and
 * time per clip of each setting.
 *
 * @throws {RangeError} when the clips hold no words.
 */
export function summarizeAccuracy(
  rows: readonly ClipAccuracy[],
): AccuracySummary {
  const words = rows.reduce((n, r) => n + r.words, 0);
  if (words === 0) throw new RangeError("summarizeAccuracy: no words");
  const setting = (key: "full" | "fast" | "gated"): SettingSummary => {
    const errors = rows.reduce((n, r) => n + r[key].errors, 0);
    const ms = rows.map((r) => r[key].ms);
    return {
      wer: (100 * errors) / words,
      errors,
      retried: rows.filter((r) => r[key].retryReason !== undefined).length,
      ms_p50: percentile(ms, 50),
      ms_p95: percentile(ms, 95),
      ms_mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    };
  };
  return {
    clips: rows.length,
    words,
    full: setting("full"),
    fast: setting("fast"),
    gated: setting("gated"),
  };
}

/** Word errors and retries the gate would give at one threshold. */
export interface GateOutcome {
  /** The threshold. */
  minAvgLogprob: number;
  /** Word errors over the clips. */
  errors: number;
  /** Word error rate, percent. */
  wer: number;
  /** Clips re-run at full context (runaway or low confidence). */
  retried: number;
}

/**
 * What the gate would give at `minAvgLogprob`, from measurements taken at
 * another threshold: a clip whose sized pass averaged below it takes the
 * full-context result, any other keeps the `fast` result (where the
 * repetition guard already put the full-context result of a runaway pass).
 * Needs `gated.avgLogprob`, so the gate must have been on when measured.
 */
export function gateOutcome(
  rows: readonly ClipAccuracy[],
  minAvgLogprob: number,
): GateOutcome {
  let errors = 0;
  let words = 0;
  let retried = 0;
  for (const r of rows) {
    const lp = r.gated.avgLogprob;
    const low = lp !== undefined && lp < minAvgLogprob;
    errors += low ? r.full.errors : r.fast.errors;
    words += r.words;
    if (low || r.fast.retryReason !== undefined) retried++;
  }
  return {
    minAvgLogprob,
    errors,
    wer: words === 0 ? NaN : (100 * errors) / words,
    retried,
  };
}

/**
 * The threshold with the fewest word errors over `rows`, ties going to the
 * fewest retries (the lowest threshold). Candidates are `-Infinity` (gate
 * off) and the midpoints between consecutive measured log-probabilities,
 * so the choice separates the clips it saw and nothing finer.
 */
export function chooseMinAvgLogprob(
  rows: readonly ClipAccuracy[],
): GateOutcome {
  const lps = [
    ...new Set(
      rows.map((r) => r.gated.avgLogprob).filter((x) => x !== undefined),
    ),
  ].sort((a, b) => a - b);
  const candidates = [-Infinity];
  for (let i = 1; i < lps.length; i++) {
    candidates.push((lps[i - 1]! + lps[i]!) / 2);
  }
  if (lps.length > 0 && lps.at(-1)! < 0) candidates.push(0); // retry all
  let best = gateOutcome(rows, -Infinity);
  for (const t of candidates) {
    const o = gateOutcome(rows, t);
    if (
      o.errors < best.errors ||
      (o.errors === best.errors && o.retried < best.retried)
    ) best = o;
  }
  return best;
}

/** One fold of {@linkcode crossValidate}. */
export interface Fold {
  /** Which clips chose the threshold: `"even"` or `"odd"` positions. */
  chosenOn: "even" | "odd";
  /** The threshold chosen on them, and its outcome there. */
  chosen: GateOutcome;
  /** Outcome of that threshold on the other half. */
  heldOut: GateOutcome;
  /** Full-context and fast (ungated) word error rates of the other half. */
  heldOutFullWer: number;
  heldOutFastWer: number;
  /** Outcome of the `fixed` threshold on the other half, for comparison. */
  heldOutFixed: GateOutcome;
}

/**
 * Two-fold check that a threshold chosen from data isn't fitted to it:
 * choose on the clips at even positions, measure on the odd ones, and the
 * other way round; `fixed` (e.g. the default) is measured on the same
 * held-out clips for comparison.
 */
export function crossValidate(
  rows: readonly ClipAccuracy[],
  fixed: number = DEFAULT_MIN_AVG_LOGPROB,
): Fold[] {
  const even = rows.filter((_, i) => i % 2 === 0);
  const odd = rows.filter((_, i) => i % 2 === 1);
  return ([["even", even, odd], ["odd", odd, even]] as const).map(
    ([chosenOn, fit, test]) => {
      const chosen = chooseMinAvgLogprob(fit);
      const words = test.reduce((n, r) => n + r.words, 0);
      const wer = (k: "full" | "fast") =>
        (100 * test.reduce((n, r) => n + r[k].errors, 0)) / words;
      return {
        chosenOn,
        chosen,
        heldOut: gateOutcome(test, chosen.minAvgLogprob),
        heldOutFullWer: wer("full"),
        heldOutFastWer: wer("fast"),
        heldOutFixed: gateOutcome(test, fixed),
      };
    },
  );
}

/** {@linkcode measureGateCost}'s result. */
export interface GateCost {
  /** Calls of each kind. */
  runs: number;
  /** Median ms per call with the gate off and on. */
  ungated_ms_p50: number;
  gated_ms_p50: number;
  /** Gated calls that were re-run at full context. */
  retried: number;
}

/**
 * What the gate adds to one clip that it does not retry: `runs` calls with
 * the gate off and on, alternating (after one of each to warm up), at the
 * sized context. The difference is the per-token detail the gate reads.
 */
export async function measureGateCost(
  model: ModelHandle,
  pcm: Float32Array,
  runs: number,
  options: Omit<MeasureAccuracyOptions, "onClip"> = {},
): Promise<GateCost> {
  const audioCtx = audioCtxFor(pcm.length / 16_000, {
    floor: options.floor,
    margin: options.margin,
  });
  const gate = options.minAvgLogprob ?? DEFAULT_MIN_AVG_LOGPROB;
  const off: number[] = [];
  const on: number[] = [];
  let retried = 0;
  for (let i = -1; i < runs; i++) {
    for (
      const [minAvgLogprob, into] of [[-Infinity, off], [gate, on]] as const
    ) {
      const t0 = performance.now();
      const r = await transcribe(model, pcm, {
        threads: options.threads ?? 1,
        audioCtx,
        minAvgLogprob,
      });
      if (i < 0) continue;
      into.push(performance.now() - t0);
      if (into === on && r.timings!.retried) retried++;
    }
  }
  return {
    runs,
    ungated_ms_p50: percentile(off, 50),
    gated_ms_p50: percentile(on, 50),
    retried,
  };
}
