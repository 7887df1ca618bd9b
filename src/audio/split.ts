/**
 * Cuts long speech into pieces of at most `maxPieceS` seconds (Whisper's
 * 30 s window by default) at pauses, so each piece can be transcribed on its
 * own and no word is cut in two.
 *
 * Method. The signal is measured in short frames (10 ms by default): each
 * frame's mean square, in dB. Cuts are chosen one after the other; for each,
 * the piece that starts at the previous cut and the search window
 * `[previous + minPieceS, previous + maxPieceS]` are considered:
 *
 * 1. Threshold, from the piece's own frames so it follows the recording's
 *    level: the floor `F` is their 10th percentile (the noise between
 *    words), the speech level `P` their 95th percentile. A frame is quiet
 *    when it is at most `max(F + 6 dB, P - 40 dB)`: 40 dB under the speech
 *    in a clean recording, just above the noise in a noisy one. In silence,
 *    a steady tone or steady noise (frames within 6 dB of each other) every
 *    frame is quiet, so step 3 cuts at the longest piece.
 * 2. Pauses are runs of quiet frames. Each pause that reaches into the window
 *    offers one cut point: its middle, or, when the pause is longer than
 *    0.5 s, the point 0.25 s before its end (the latest point with 0.25 s of
 *    quiet on each side), clipped to the window. The point's margin is the
 *    quiet on its shorter side, counted up to 0.25 s (a longer pause is no
 *    safer).
 * 3. Rule: with `B` the largest margin on offer, the cut is the latest point
 *    whose margin is at least `B / 2`. Late cuts make fewer, longer pieces;
 *    an earlier pause wins only when it is more than twice as long as every
 *    later one, lengths counted up to 0.5 s (a sentence break beats a stop
 *    consonant's closure; two sentence breaks, the later one wins).
 * 4. With no quiet frame in the window, the cut is at the quietest frame,
 *    the latest of those within 1 dB of the minimum.
 * 5. Gaps — pauses of at least 2 s: a meeting's silence, a call on hold —
 *    come before steps 2–4. A piece that starts in a gap ends 0.25 s before
 *    the speech resumes (however short that makes it), and a piece whose
 *    speech runs into a gap ends 0.25 s into it; in between, the gap is cut
 *    at the longest piece (step 3). So no piece holds seconds of silence or
 *    noise next to speech: whisper mistimes such a piece and drops its
 *    first sentence (measured: 8.8 s of low noise, then speech), and the
 *    gap's own pieces cost nothing (the engine skips digital silence) or
 *    give no text. The last piece, too, starts where the speech resumes.
 *    The first piece, from the recording's start, is left to steps 2–4.
 *
 * Cuts fall in the middle of a frame. Everything is deterministic, and the
 * cost is one pass over the samples plus a few frames per cut: an hour of
 * audio takes well under a second.
 *
 * ```ts
 * import { pieceSeconds, splitAtPauses } from "./split.ts";
 * const samples = new Float32Array(16000 * 95); // 16 kHz mono
 * for (const piece of splitAtPauses(samples)) {
 *   const chunk = samples.subarray(piece.start, piece.end); // <= 30 s
 *   console.log(pieceSeconds(piece), chunk.length);
 * }
 * ```
 *
 * @module
 */

/** Options of {@linkcode splitAtPauses}. */
export interface SplitOptions {
  /** Longest piece, seconds. @default 30 */
  maxPieceS?: number;
  /**
   * Shortest piece worth cutting: no cut is placed earlier than this after
   * the previous one. The last piece may be shorter, and so may a piece
   * that ends at a gap's edge (step 5), though never under 0.25 s.
   *
   * Two thirds of the longest by default (10 s of 15): longer pieces than
   * at half (36 instead of 39 for 8 minutes of speech), each word with more
   * speech around it, for the same CPU. Measured over eight long recordings (two texts,
   * four voices, four cut layouts each), engine alone: 18.75 → 18.09 % word
   * errors (docs/performance.md, "The shortest piece: two thirds of the longest").
   * @default maxPieceS * 2 / 3
   */
  minPieceS?: number;
  /** Sample rate, Hz. @default 16000 */
  sampleRate?: number;
  /** Analysis frame, milliseconds. @default 10 */
  frameMs?: number;
}

/** A piece of the input, in samples. */
export interface Piece {
  /** First sample (inclusive). */
  start: number;
  /** End sample (exclusive). */
  end: number;
}

/** Default longest piece, seconds: Whisper's window. */
export const DEFAULT_MAX_PIECE_S = 30;

/** Frame energies below this mean square read as this (-120 dB). */
const ENERGY_FLOOR = 1e-12;
const FLOOR_DB = -120;
/** Histogram of frame levels for the percentiles: 0.25 dB bins. */
const BIN_DB = 0.25;
const BINS = Math.ceil(-FLOOR_DB / BIN_DB) + 1;
/** Percentile of the piece's frames taken as the noise floor. */
const FLOOR_PERCENTILE = 0.10;
/** Percentile of the piece's frames taken as the speech level. */
const SPEECH_PERCENTILE = 0.95;
/** Quiet: at most this far over the floor... */
const OVER_FLOOR_DB = 6;
/** ...or at least this far under the speech level, whichever is higher. */
const UNDER_SPEECH_DB = 40;
/** Quiet on each side of a cut beyond which a pause is no safer, ms. */
const SAFE_MARGIN_MS = 250;
/** Frames this close to the quietest count as equally quiet, dB. */
const TIE_DB = 1;
/** A pause at least this long is a gap, cut at both ends, ms. */
const GAP_MS = 2000;
/** In a gap, frames at least this far under the speech level, dB. */
const GAP_UNDER_SPEECH_DB = 30;

/**
 * Splits `samples` into contiguous pieces of at most `maxPieceS` seconds,
 * cutting in pauses (see the module documentation for the rule).
 *
 * @param samples Mono samples in [-1, 1].
 * @returns Pieces covering `samples` exactly, in order; `[]` when empty.
 * @throws {RangeError} when an option is out of range; the message names it.
 */
export function splitAtPauses(
  samples: Float32Array,
  options: SplitOptions = {},
): Piece[] {
  const settings = checked(options);
  const { maxLength, frameLength } = settings;
  const n = samples.length;
  if (n === 0) return [];
  if (n <= maxLength) return [{ start: 0, end: n }];

  const levels = frameLevels(samples, frameLength);
  const histogram = new Uint32Array(BINS);
  const pieces: Piece[] = [];
  let previous = 0;
  for (;;) {
    const cut = n - previous > maxLength
      ? chooseCut(levels, histogram, previous, settings)
      : gapCut(levels, histogram, previous, n, settings);
    if (cut === undefined) break;
    pieces.push({ start: previous, end: cut });
    previous = cut;
  }
  pieces.push({ start: previous, end: n });
  return pieces;
}

/**
 * A piece's bounds in seconds.
 *
 * @param rate Sample rate, Hz.
 */
export function pieceSeconds(
  p: Piece,
  rate = 16000,
): { start_s: number; end_s: number } {
  return { start_s: p.start / rate, end_s: p.end / rate };
}

interface Settings {
  maxLength: number;
  minLength: number;
  frameLength: number;
  /** {@linkcode SAFE_MARGIN_MS} in frames. */
  safeMargin: number;
  /** {@linkcode GAP_MS} in frames. */
  gap: number;
}

function checked(options: SplitOptions): Settings {
  const {
    maxPieceS = DEFAULT_MAX_PIECE_S,
    sampleRate = 16000,
    frameMs = 10,
  } = options;
  const minPieceS = options.minPieceS ?? (maxPieceS * 2) / 3;
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new RangeError(
      `splitAtPauses: sampleRate must be a finite number > 0, got ${sampleRate}`,
    );
  }
  if (!Number.isFinite(maxPieceS) || maxPieceS <= 0) {
    throw new RangeError(
      `splitAtPauses: maxPieceS must be a finite number > 0, got ${maxPieceS}`,
    );
  }
  const maxLength = Math.round(maxPieceS * sampleRate);
  if (maxLength < 1) {
    throw new RangeError(
      `splitAtPauses: maxPieceS must be at least one sample (${
        1 / sampleRate
      } s), got ${maxPieceS}`,
    );
  }
  if (!Number.isFinite(minPieceS) || minPieceS < 0 || minPieceS > maxPieceS) {
    throw new RangeError(
      `splitAtPauses: minPieceS must be a number from 0 to maxPieceS (${maxPieceS}), got ${minPieceS}`,
    );
  }
  if (!Number.isFinite(frameMs) || frameMs <= 0) {
    throw new RangeError(
      `splitAtPauses: frameMs must be a finite number > 0, got ${frameMs}`,
    );
  }
  return {
    maxLength,
    minLength: Math.min(Math.round(minPieceS * sampleRate), maxLength),
    frameLength: Math.max(1, Math.round((frameMs * sampleRate) / 1000)),
    safeMargin: Math.max(1, Math.round(SAFE_MARGIN_MS / frameMs)),
    gap: Math.max(1, Math.round(GAP_MS / frameMs)),
  };
}

/** Each frame's mean square in dB (a short last frame over its own length). */
function frameLevels(samples: Float32Array, frameLength: number): Float32Array {
  const n = samples.length;
  const levels = new Float32Array(Math.ceil(n / frameLength));
  for (let f = 0, start = 0; start < n; f++, start += frameLength) {
    const end = Math.min(n, start + frameLength);
    let sum = 0;
    for (let i = start; i < end; i++) {
      const x = samples[i]!;
      sum += x * x;
    }
    const meanSquare = sum / (end - start);
    // NaN samples read as full scale, so nothing is cut next to them.
    levels[f] = meanSquare >= 0
      ? 10 * Math.log10(Math.max(meanSquare, ENERGY_FLOOR))
      : 0;
  }
  return levels;
}

/** The level under which a fraction `q` of the counted frames lie, dB. */
function percentile(histogram: Uint32Array, count: number, q: number): number {
  const wanted = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let bin = 0; bin < BINS; bin++) {
    seen += histogram[bin]!;
    if (seen >= wanted) return FLOOR_DB + (bin + 1) * BIN_DB;
  }
  return FLOOR_DB + BINS * BIN_DB;
}

/**
 * The thresholds for frames `[from, to)`, dB: `quiet` for pauses (step 1)
 * and the laxer `gap` for gaps (step 5), which also takes in a room's noise
 * 30 dB under the speech.
 */
function quietThreshold(
  levels: Float32Array,
  histogram: Uint32Array,
  from: number,
  to: number,
): { quiet: number; gap: number } {
  histogram.fill(0);
  for (let f = from; f < to; f++) {
    const level = levels[f]!;
    const bin = Math.floor((level - FLOOR_DB) / BIN_DB);
    histogram[Math.min(Math.max(bin, 0), BINS - 1)]!++;
  }
  const count = to - from;
  const floor = percentile(histogram, count, FLOOR_PERCENTILE);
  const speech = percentile(histogram, count, SPEECH_PERCENTILE);
  return {
    quiet: Math.max(floor + OVER_FLOOR_DB, speech - UNDER_SPEECH_DB),
    gap: Math.max(floor + OVER_FLOOR_DB, speech - GAP_UNDER_SPEECH_DB),
  };
}

/**
 * The cut a gap asks for in the last piece, `[previous, end)` (at most
 * `maxLength`): where the speech resumes after a gap, or 0.25 s into a gap
 * the speech runs into; undefined when there is none.
 */
function gapCut(
  levels: Float32Array,
  histogram: Uint32Array,
  previous: number,
  end: number,
  settings: Settings,
): number | undefined {
  const from = Math.floor(previous / settings.frameLength);
  const to = Math.min(levels.length, Math.ceil(end / settings.frameLength));
  if (to - from < 2) return undefined;
  const { gap } = quietThreshold(levels, histogram, from, to);
  return gapPoint(levels, gap, previous, end, settings);
}

/**
 * Step 5 of the rule for the piece starting at `previous` and ending by
 * `limit`, frames of at most `threshold` dB being quiet: 0.25 s before the
 * speech resumes when the piece starts in a gap, else 0.25 s into the first
 * gap its speech runs into; undefined when neither falls inside the piece.
 */
function gapPoint(
  levels: Float32Array,
  threshold: number,
  previous: number,
  limit: number,
  { frameLength, safeMargin, gap }: Settings,
): number | undefined {
  const frames = levels.length;
  const half = Math.floor(frameLength / 2);
  const quiet = (f: number) => levels[f]! <= threshold;
  const at = (f: number) => f * frameLength + half;
  const start = Math.min(frames - 1, Math.floor(previous / frameLength));
  const last = Math.min(frames - 1, Math.floor((limit - half) / frameLength));
  if (last <= start) return undefined;
  // A gap the piece starts in, counting its quiet before `previous`.
  if (quiet(start)) {
    let before = start;
    while (before > 0 && start - before < gap && quiet(before - 1)) before--;
    let resume = start;
    while (resume <= last && quiet(resume)) resume++;
    // Not in the first piece: whisper copes with leading silence, and
    // bench:long's cut layouts are made by adding some.
    const first = previous === 0;
    if (!first && resume <= last && resume - before >= gap) {
      // At least 0.25 s on: a gap's edge read anew by the next piece's
      // thresholds makes no sliver of a piece.
      const cut = at(resume - safeMargin);
      return cut - previous >= safeMargin * frameLength ? cut : undefined;
    }
    if (resume > last) return undefined;
  }
  // The first gap the piece's speech runs into.
  for (let f = start + 1; f <= last; f++) {
    if (!quiet(f) || quiet(f - 1)) continue;
    let end = f;
    while (end < frames && end - f < gap && quiet(end)) end++;
    if (end - f >= gap && f + safeMargin <= last) return at(f + safeMargin);
  }
  return undefined;
}

/** The sample at which to end the piece that starts at `previous`. */
function chooseCut(
  levels: Float32Array,
  histogram: Uint32Array,
  previous: number,
  settings: Settings,
): number {
  const { minLength, maxLength, frameLength, safeMargin } = settings;
  const frames = levels.length;
  // A cut in frame c falls at sample c * frameLength + half.
  const half = Math.floor(frameLength / 2);
  const first = Math.max(
    Math.ceil((previous + minLength - half) / frameLength),
    Math.floor((previous - half) / frameLength) + 1,
  );
  const last = Math.floor((previous + maxLength - half) / frameLength);
  // The window holds no frame middle: cut at the longest piece allowed.
  if (first > last) return previous + maxLength;

  const { quiet: threshold, gap } = quietThreshold(
    levels,
    histogram,
    Math.floor(previous / frameLength),
    Math.min(frames, Math.ceil((previous + maxLength) / frameLength)),
  );
  const gapped = gapPoint(
    levels,
    gap,
    previous,
    previous + maxLength,
    settings,
  );
  if (gapped !== undefined) return gapped;

  // Pauses are followed up to safeMargin frames outside the window: beyond
  // that their length no longer changes a margin.
  const scanFrom = Math.max(0, first - safeMargin);
  const scanTo = Math.min(frames, last + safeMargin + 1);
  // Pass 1: the largest margin on offer; pass 2: the latest point with at
  // least half of it. Each pause offers one point (see pauseCut).
  let best = -1;
  for (let pass = 1; pass <= 2; pass++) {
    let chosen = -1;
    let f = scanFrom;
    while (f < scanTo) {
      if (levels[f]! > threshold) {
        f++;
        continue;
      }
      const runStart = f;
      while (f < scanTo && levels[f]! <= threshold) f++;
      const runEnd = f - 1; // inclusive
      if (runEnd < first || runStart > last) continue;
      const [at, margin] = pauseCut(runStart, runEnd, first, last, safeMargin);
      if (pass === 1) best = Math.max(best, margin);
      else if (2 * margin >= best) chosen = at;
    }
    if (best < 0) break;
    if (pass === 2) return chosen * frameLength + half;
  }

  // No quiet frame in the window: the quietest frame, late ones winning ties.
  let quietest = Infinity;
  for (let c = first; c <= last; c++) {
    if (levels[c]! < quietest) quietest = levels[c]!;
  }
  for (let c = last; c >= first; c--) {
    if (levels[c]! <= quietest + TIE_DB) return c * frameLength + half;
  }
  return last * frameLength + half;
}

/**
 * The cut point a pause of frames `[runStart, runEnd]` offers inside the
 * window `[first, last]`, and its margin in frames (capped at `safeMargin`):
 * the latest point with the most quiet on both sides.
 */
function pauseCut(
  runStart: number,
  runEnd: number,
  first: number,
  last: number,
  safeMargin: number,
): [number, number] {
  const marginAt = (c: number) =>
    Math.min(c - runStart, runEnd - c, safeMargin);
  const middle = Math.min(
    Math.max(Math.floor((runStart + runEnd) / 2), first),
    last,
  );
  const margin = marginAt(middle);
  // The latest point keeping that margin: `margin` frames before the end.
  const latest = Math.min(runEnd - margin, last);
  return latest >= middle ? [latest, margin] : [middle, margin];
}
