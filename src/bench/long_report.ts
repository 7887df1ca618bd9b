/**
 * The arithmetic and the table of `deno task bench:long`: per-run records,
 * medians over runs, real-time factors, ours ÷ peer and ours ÷ engine alone
 * ratios, and per-piece
 * processing figures and the timeline around them from a job record's
 * `pieces`.
 *
 * @module
 */
import { median, percentile } from "../stats/mod.ts";

/** Which system a run measured. */
export type LongSystem = "ours" | "peer" | "engine" | "sequential";

/** Per-piece figures of one job (a job split into pieces across workers). */
export interface PieceStats {
  count: number;
  p50_ms: number;
  p95_ms: number;
  /** Distinct `worker_id`s that took pieces, sorted. */
  worker_ids: string[];
  /** Where the job's wall time went around its pieces; null without times. */
  timeline: PieceTimeline | null;
}

/**
 * A split job's time outside its pieces' computation, from the pieces'
 * `started_at_ms` and the job's `created_at` / `completed_at`.
 */
export interface PieceTimeline {
  /** Job created (upload stored) → first piece started: decode, cut, queue. */
  lead_ms: number;
  /** First worker with no piece left → job completed. */
  tail_ms: number;
  /** Last piece running alone (every other worker done) → job completed. */
  alone_ms: number;
}

/** One measured transcription of one recording. */
export interface LongRun {
  recording: string;
  system: LongSystem;
  /** 1-based run number within the recording. */
  index: number;
  /** Wall time, seconds (ours: POST to the final GET; peer: transcribe + consume). */
  wall_s: number;
  /**
   * When the client first had text to show, seconds from the same start
   * (ours: the first poll with a `partial_transcript`; peer: its first
   * segment with text); null or absent where not measured.
   */
  first_text_s?: number | null;
  audio_s: number;
  wer_pct: number;
  words_out: number;
  reference_words: number;
  /** Null when the job was not split (or for the peer). */
  pieces: PieceStats | null;
  transcript: string;
  /** System-specific facts (job id, processing_ms, worker id…). */
  detail?: Record<string, unknown>;
}

/** Medians of one system's runs on one recording. */
export interface SystemSummary {
  runs: number;
  wall_s: number;
  /** Real-time factor: median wall ÷ audio seconds (lower is faster). */
  rtf: number;
  wer_pct: number;
  words_out: number;
  reference_words: number;
  /** Median over runs of each run's per-piece p50 / p95; null when no run was split. */
  piece_p50_ms: number | null;
  piece_p95_ms: number | null;
  /** Every worker that took a piece in any run, sorted. */
  worker_ids: string[];
  /** Medians over runs of each run's {@linkcode PieceTimeline}; null without. */
  lead_ms: number | null;
  tail_ms: number | null;
  alone_ms: number | null;
  /** Each run's wall time, in run order. */
  walls_s: number[];
  /** Median over the runs that measured it of {@linkcode LongRun.first_text_s}. */
  first_text_s: number | null;
}

/** One recording's summary: each system and the ratio of walls. */
export interface RecordingSummary {
  recording: string;
  audio_s: number;
  reference_words: number;
  ours: SystemSummary | null;
  peer: SystemSummary | null;
  /** The same pieces through the engine alone, in the bench's process. */
  engine: SystemSummary | null;
  sequential: SystemSummary | null;
  /** Median ours wall ÷ median peer wall; null without both. */
  ratio_ours_peer: number | null;
  /** Median engine-alone wall ÷ median peer wall: the stack's floor. */
  ratio_engine_peer: number | null;
  /** Median ours wall ÷ median engine-alone wall: what the stack adds. */
  ratio_ours_engine: number | null;
}

/** Real-time factor: `wall_s / audio_s`. @throws {RangeError} when audio_s ≤ 0. */
export function realTimeFactor(wall_s: number, audio_s: number): number {
  if (!(audio_s > 0)) {
    throw new RangeError(`realTimeFactor: audio_s must be > 0, got ${audio_s}`);
  }
  return wall_s / audio_s;
}

/**
 * Per-piece processing figures of a job record: p50/p95 of
 * `pieces[].processing_ms` and the distinct `pieces[].worker_id`; null when
 * the record has no (or an empty) `pieces` array.
 */
export function pieceStats(job: unknown): PieceStats | null {
  const pieces = (job as { pieces?: unknown } | null)?.pieces;
  if (!Array.isArray(pieces) || pieces.length === 0) return null;
  const times: number[] = [];
  const workers = new Set<string>();
  for (const p of pieces) {
    const o = p as Record<string, unknown> | null;
    if (typeof o?.processing_ms === "number") times.push(o.processing_ms);
    if (typeof o?.worker_id === "string") workers.add(o.worker_id);
  }
  if (times.length === 0) return null;
  return {
    count: pieces.length,
    p50_ms: percentile(times, 50),
    p95_ms: percentile(times, 95),
    worker_ids: [...workers].sort(),
    timeline: pieceTimeline(job),
  };
}

/**
 * The {@linkcode PieceTimeline} of a job record; null when a piece has no
 * `started_at_ms` or the job no `created_at` / `completed_at`.
 */
export function pieceTimeline(job: unknown): PieceTimeline | null {
  const j = job as Record<string, unknown> | null;
  const created = Date.parse(String(j?.created_at ?? ""));
  const completed = Date.parse(String(j?.completed_at ?? ""));
  const pieces = j?.pieces;
  if (!Number.isFinite(created) || !Number.isFinite(completed)) return null;
  if (!Array.isArray(pieces) || pieces.length === 0) return null;
  let first = Infinity;
  const lastEnd = new Map<string, number>();
  for (const p of pieces) {
    const o = p as Record<string, unknown>;
    const start = o.started_at_ms;
    const ms = o.processing_ms;
    if (typeof start !== "number" || typeof ms !== "number") return null;
    first = Math.min(first, start);
    const w = String(o.worker_id);
    lastEnd.set(w, Math.max(lastEnd.get(w) ?? 0, start + ms));
  }
  const ends = [...lastEnd.values()].sort((a, b) => a - b);
  const round = (v: number) => Math.max(0, Math.round(v));
  return {
    lead_ms: round(first - created),
    tail_ms: round(completed - ends[0]!),
    alone_ms: ends.length < 2 ? 0 : round(completed - ends.at(-2)!),
  };
}

/** Medians of `runs` (all of one system on one recording); null when empty. */
export function summarizeSystem(
  runs: readonly LongRun[],
): SystemSummary | null {
  if (runs.length === 0) return null;
  const split = runs.flatMap((r) => r.pieces ? [r.pieces] : []);
  const timelines = split.flatMap((p) => p.timeline ? [p.timeline] : []);
  const wall = median(runs.map((r) => r.wall_s));
  const firstTexts = runs.flatMap((r) =>
    typeof r.first_text_s === "number" ? [r.first_text_s] : []
  );
  return {
    runs: runs.length,
    wall_s: wall,
    rtf: realTimeFactor(wall, runs[0]!.audio_s),
    wer_pct: median(runs.map((r) => r.wer_pct)),
    words_out: median(runs.map((r) => r.words_out)),
    reference_words: runs[0]!.reference_words,
    piece_p50_ms: split.length ? median(split.map((p) => p.p50_ms)) : null,
    piece_p95_ms: split.length ? median(split.map((p) => p.p95_ms)) : null,
    worker_ids: [...new Set(split.flatMap((p) => p.worker_ids))].sort(),
    lead_ms: timelines.length ? median(timelines.map((t) => t.lead_ms)) : null,
    tail_ms: timelines.length ? median(timelines.map((t) => t.tail_ms)) : null,
    alone_ms: timelines.length
      ? median(timelines.map((t) => t.alone_ms))
      : null,
    walls_s: runs.map((r) => r.wall_s),
    first_text_s: firstTexts.length ? median(firstTexts) : null,
  };
}

/** Summaries of every recording in `runs`, in first-seen order. */
export function summarizeRuns(
  runs: readonly LongRun[],
): RecordingSummary[] {
  const names = [...new Set(runs.map((r) => r.recording))];
  return names.map((recording) => {
    const of = (system: LongSystem) =>
      summarizeSystem(
        runs.filter((r) => r.recording === recording && r.system === system),
      );
    const first = runs.find((r) => r.recording === recording)!;
    const ours = of("ours");
    const peer = of("peer");
    const engine = of("engine");
    const ratio = (a: SystemSummary | null, b: SystemSummary | null) =>
      a && b && b.wall_s > 0 ? a.wall_s / b.wall_s : null;
    return {
      recording,
      audio_s: first.audio_s,
      reference_words: first.reference_words,
      ours,
      peer,
      engine,
      sequential: of("sequential"),
      ratio_ours_peer: ratio(ours, peer),
      ratio_engine_peer: ratio(engine, peer),
      ratio_ours_engine: ratio(ours, engine),
    };
  });
}

/** Labels of the systems in the table. */
export const SYSTEM_LABELS: Record<LongSystem, string> = {
  ours: "ours (stack)",
  peer: "faster-whisper",
  engine: "engine alone",
  sequential: "ours sequential",
};

const fixed = (v: number | null, digits: number) =>
  v === null || !Number.isFinite(v) ? "n/a" : v.toFixed(digits);

/** Aligns rows of cells into columns (left-aligned first column, right the rest). */
export function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row.map((cell, i) =>
      i <= 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)
    ).join("  ").trimEnd()
  ).join("\n");
}

/**
 * The plain-text table: one row per recording and system, with medians,
 * the per-piece figures ("n/a (job not split)" when no run was split) and
 * the ratio to the peer on the "ours" and "engine alone" rows.
 */
export function formatTable(summaries: readonly RecordingSummary[]): string {
  const rows: string[][] = [[
    "recording",
    "system",
    "runs",
    "wall s",
    "first text s",
    "RTF",
    "WER %",
    "words out/ref",
    "piece p50/p95 ms",
    "lead/tail/alone ms",
    "÷ peer",
  ]];
  for (const s of summaries) {
    const systems: LongSystem[] = ["ours", "engine", "peer", "sequential"];
    let first = true;
    for (const system of systems) {
      const m = s[system];
      if (!m) continue;
      const pieces = system === "peer" || system === "engine"
        ? "-"
        : m.piece_p50_ms === null
        ? "n/a (job not split)"
        : `${fixed(m.piece_p50_ms, 0)} / ${fixed(m.piece_p95_ms, 0)}`;
      rows.push([
        first ? `${s.recording} (${s.audio_s.toFixed(1)} s)` : "",
        SYSTEM_LABELS[system],
        String(m.runs),
        fixed(m.wall_s, 2),
        m.first_text_s === null ? "-" : fixed(m.first_text_s, 2),
        fixed(m.rtf, 4),
        fixed(m.wer_pct, 2),
        `${m.words_out}/${m.reference_words}`,
        pieces,
        m.lead_ms === null
          ? "-"
          : `${fixed(m.lead_ms, 0)} / ${fixed(m.tail_ms, 0)} / ${
            fixed(m.alone_ms, 0)
          }`,
        system === "ours"
          ? fixed(s.ratio_ours_peer, 2)
          : system === "engine"
          ? fixed(s.ratio_engine_peer, 2)
          : "",
      ]);
      first = false;
    }
  }
  return alignColumns(rows);
}

/** One system's word error rate over the cut layouts. */
export interface LayoutWer {
  /** One per layout, in the order of {@linkcode LayoutsSummary.offsets_s}. */
  wer_pct: number[];
  mean_wer_pct: number;
  min_wer_pct: number;
  max_wer_pct: number;
}

/**
 * Word error rates over several cut layouts of one recording (the speech
 * after 0, 3, 6, … s of leading silence): the engine alone's pieces, and on
 * the same shifted files faster-whisper and our whole-file pass, so that
 * issue 12's accuracy targets compare mean with mean rather than one draw
 * with another.
 */
export interface LayoutsSummary {
  recording: string;
  /** The espeak-ng voice (`VOICE:SPEED`) when not the corpus' own. */
  voice?: string;
  offsets_s: number[];
  /** The engine alone's pieces per layout. */
  pieces: number[];
  engine: LayoutWer;
  /** Null unless measured on every layout. */
  peer: LayoutWer | null;
  /** Our whole-file pass at full context; null unless on every layout. */
  sequential: LayoutWer | null;
  /** Engine mean − peer mean, points; null without the peer. */
  engine_minus_peer: number | null;
  /** Engine mean − whole-file mean, points; null without it. */
  engine_minus_sequential: number | null;
  /** Each layout's texts (null where not kept). */
  transcripts: (LayoutTranscripts | null)[];
}

/** One layout's measurements for {@linkcode summarizeLayouts}. */
export interface LayoutMeasure {
  offset_s: number;
  pieces: number;
  /** The engine alone's WER on its pieces, %. */
  engine: number;
  peer?: number | null;
  sequential?: number | null;
  /** Each system's text, so the archive can be scored again. */
  transcripts?: LayoutTranscripts;
}

/** One layout's texts: the engine alone's pieces, the peer, the whole file. */
export interface LayoutTranscripts {
  engine: string;
  peer: string | null;
  sequential: string | null;
}

function layoutWer(wers: readonly number[]): LayoutWer {
  return {
    wer_pct: [...wers],
    mean_wer_pct: wers.reduce((a, b) => a + b, 0) / wers.length,
    min_wer_pct: Math.min(...wers),
    max_wer_pct: Math.max(...wers),
  };
}

/**
 * The {@linkcode LayoutsSummary} of `recording` from each layout's word
 * error rates (in the order measured). The peer and the whole-file pass
 * count only when measured on every layout.
 *
 * @throws {RangeError} when `layouts` is empty.
 */
export function summarizeLayouts(
  recording: string,
  layouts: readonly LayoutMeasure[],
): LayoutsSummary {
  if (layouts.length === 0) {
    throw new RangeError("summarizeLayouts: no layout measured");
  }
  const everywhere = (key: "peer" | "sequential") => {
    const wers = layouts.map((l) => l[key]);
    return wers.every((w): w is number => typeof w === "number")
      ? layoutWer(wers)
      : null;
  };
  const engine = layoutWer(layouts.map((l) => l.engine));
  const peer = everywhere("peer");
  const sequential = everywhere("sequential");
  return {
    recording,
    offsets_s: layouts.map((l) => l.offset_s),
    pieces: layouts.map((l) => l.pieces),
    engine,
    peer,
    sequential,
    engine_minus_peer: peer ? engine.mean_wer_pct - peer.mean_wer_pct : null,
    engine_minus_sequential: sequential
      ? engine.mean_wer_pct - sequential.mean_wer_pct
      : null,
    transcripts: layouts.map((l) => l.transcripts ?? null),
  };
}

/** Issue 12's accuracy targets, in points of WER. */
export const WER_TARGETS = {
  /** Ours at most this much over faster-whisper. */
  overPeer: 1,
  /** Ours at most this much over our own whole-file pass. */
  overSequential: 0,
} as const;

/**
 * The lines `deno task bench:long` prints for a {@linkcode LayoutsSummary}:
 * each system's mean and range over the layouts, then the accuracy targets
 * judged on the means.
 */
export function formatLayouts(l: LayoutsSummary): string[] {
  const name = l.voice ? `${l.recording} (${l.voice})` : l.recording;
  const range = (w: LayoutWer) =>
    `mean ${w.mean_wer_pct.toFixed(2)} % (${w.min_wer_pct.toFixed(2)}–${
      w.max_wer_pct.toFixed(2)
    })`;
  const systems = [
    `engine alone's pieces ${range(l.engine)}`,
    ...(l.peer ? [`faster-whisper ${range(l.peer)}`] : []),
    ...(l.sequential ? [`our whole-file pass ${range(l.sequential)}`] : []),
  ];
  const verdict = (delta: number, bound: number, against: string) =>
    `${name}: WER ≤ ${against}${bound ? ` + ${bound}` : ""} on the means: ${
      delta <= bound ? "met" : "not met"
    } (${delta >= 0 ? "+" : ""}${delta.toFixed(2)} points)`;
  return [
    `${name}: WER over ${l.offsets_s.length} cut layouts (${
      l.offsets_s.join("/")
    } s of leading silence): ${systems.join("; ")}`,
    ...(l.engine_minus_peer === null ? [] : [
      verdict(l.engine_minus_peer, WER_TARGETS.overPeer, "faster-whisper"),
    ]),
    ...(l.engine_minus_sequential === null ? [] : [
      verdict(
        l.engine_minus_sequential,
        WER_TARGETS.overSequential,
        "our whole-file pass",
      ),
    ]),
  ];
}

/**
 * One recording's word error rates over several voices, each voice's the
 * mean over its cut layouts: the same text spoken differently, so that a
 * change is not judged on one speaker.
 */
export interface VoicesSummary {
  recording: string;
  /** `VOICE:SPEED` of each voice, the corpus' own first. */
  voices: string[];
  /** Means over the voices of each voice's layout mean, %. */
  engine_mean_wer_pct: number;
  /** Null unless measured for every voice. */
  peer_mean_wer_pct: number | null;
  sequential_mean_wer_pct: number | null;
  engine_minus_peer: number | null;
  engine_minus_sequential: number | null;
}

/**
 * The {@linkcode VoicesSummary} of `recording` from its layout summaries,
 * one per voice (`voices[i]` naming `summaries[i]`).
 *
 * @throws {RangeError} when there is no summary, or the names don't match.
 */
export function summarizeVoices(
  recording: string,
  voices: readonly string[],
  summaries: readonly LayoutsSummary[],
): VoicesSummary {
  if (summaries.length === 0 || summaries.length !== voices.length) {
    throw new RangeError(
      `summarizeVoices: ${summaries.length} summaries for ${voices.length} voices`,
    );
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const over = (key: "peer" | "sequential") => {
    const wers = summaries.map((l) => l[key]?.mean_wer_pct);
    return wers.every((w): w is number => typeof w === "number")
      ? mean(wers)
      : null;
  };
  const engine = mean(summaries.map((l) => l.engine.mean_wer_pct));
  const peer = over("peer");
  const sequential = over("sequential");
  return {
    recording,
    voices: [...voices],
    engine_mean_wer_pct: engine,
    peer_mean_wer_pct: peer,
    sequential_mean_wer_pct: sequential,
    engine_minus_peer: peer === null ? null : engine - peer,
    engine_minus_sequential: sequential === null ? null : engine - sequential,
  };
}

/** The line `deno task bench:long` prints for a {@linkcode VoicesSummary}. */
export function formatVoices(v: VoicesSummary): string {
  const pct = (x: number) => `${x.toFixed(2)} %`;
  const delta = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
  const parts = [`engine alone's pieces ${pct(v.engine_mean_wer_pct)}`];
  if (v.peer_mean_wer_pct !== null) {
    parts.push(
      `faster-whisper ${pct(v.peer_mean_wer_pct)} (pieces ${
        delta(v.engine_minus_peer!)
      })`,
    );
  }
  if (v.sequential_mean_wer_pct !== null) {
    parts.push(
      `our whole-file pass ${pct(v.sequential_mean_wer_pct)} (pieces ${
        delta(v.engine_minus_sequential!)
      })`,
    );
  }
  return `${v.recording}: WER over ${v.voices.length} voices (${
    v.voices.join(", ")
  }), means of the layouts' means: ${parts.join("; ")}`;
}
