/**
 * Calibration: how noisy each compared quantity is from run to run on this
 * machine, measured on K runs of the same build, and the tolerance that
 * noise calls for.
 */
import { ratioInterval, sampleSd, statistic } from "./bootstrap.ts";
import { type CompareSpec, DEFAULT_SPECS } from "./compare.ts";
import type { RunSamples } from "./samples.ts";
import { spreadOf } from "./sketch.ts";

/** The noise of one quantity across runs of the same build. */
export interface NoiseRow {
  spec: CompareSpec;
  /** The statistic of each run. */
  perRun: number[];
  /** Coefficient of variation of {@linkcode perRun}. */
  cv: number;
  /** Widths (hi − lo, as ratios) of the A-vs-A intervals of consecutive runs. */
  widths: number[];
  /** The median of {@linkcode widths}. */
  medianWidth: number;
  /**
   * The worst A-vs-A point ratio, as a "worse" factor ≥ 1 (max of r and
   * 1/r over consecutive pairs).
   */
  worstRatio: number;
  /**
   * The worst A-vs-A lower end in the "worse" direction, as a factor: the
   * largest `lo` (lower is better) or 1/smallest `hi` (higher is better). A
   * tolerance below it would have called that pair of identical builds a
   * regression.
   */
  worstLo: number;
  /** A-vs-A pairs whose interval already lies beyond the current tolerance. */
  falseAlarms: number;
  /** Suggested tolerance (see {@linkcode suggestTolerance}). */
  suggested: number;
  /**
   * The smallest slowdown the suggested tolerance flags about half the time:
   * suggested × (1 + half the median A-vs-A width). Reliably flagged
   * slowdowns are about one more half-width larger.
   */
  detectable: number;
  /**
   * Sd of ln(stat(run i+1) / stat(run i)): how much a run differs from the
   * one right before it — the noise left in a paired comparison.
   */
  pairSd: number;
  /**
   * The slowdown a paired comparison of {@linkcode Calibration.pairs} pairs
   * flags 95 % of the time at the paired tolerance: its ratio's sd is
   * pairSd/√pairs, and the interval's lower end must clear the tolerance
   * with 1.645 sd to spare after its own 1.96: tolerance·e^(3.6·sd).
   */
  pairedDetects: number;
}

/** A calibration of every quantity. */
export interface Calibration {
  runs: number;
  confidence: number;
  /** Pairs a side assumed by {@linkcode NoiseRow.pairedDetects}. */
  pairs: number;
  rows: NoiseRow[];
}

/** One-sided normal quantile of the per-key false-alarm risk (1 %). */
export const FALSE_ALARM_Z = 2.33;

/**
 * The smallest tolerance that leaves room for this noise, rounded up to a
 * multiple of 0.05 and at least 1.05. Two runs of one build differ by about
 * √2·CV; a false alarm needs the interval's lower end — the ratio minus the
 * half-width — above the tolerance, so the tolerance must be at least
 * 1 + 2.33·√2·CV − halfWidth (1 % risk per key), and above every A-vs-A
 * lower end seen (none of the calibration pairs is called a regression).
 */
export function suggestTolerance(
  cv: number,
  halfWidth: number,
  worstLo: number,
): number {
  const need = Math.max(
    1.05,
    1 + FALSE_ALARM_Z * Math.SQRT2 * cv - halfWidth,
    worstLo,
  );
  return Math.ceil(need * 20 - 1e-9) / 20;
}

/** Calibrates `specs` on runs of one build (at least 2). */
export function calibrate(
  runs: readonly RunSamples[],
  options: {
    specs?: readonly CompareSpec[];
    confidence?: number;
    resamples?: number;
    /** Pairs a side of the paired comparisons to size. @default 5 */
    pairs?: number;
  } = {},
): Calibration {
  const pairs = options.pairs ?? 5;
  if (runs.length < 2) {
    throw new RangeError(`calibrate needs at least 2 runs, got ${runs.length}`);
  }
  const specs = options.specs ?? DEFAULT_SPECS;
  const confidence = options.confidence ?? 0.95;
  const rows: NoiseRow[] = [];
  for (const spec of specs) {
    const series = runs.map((r) => r.get(spec.metric) ?? []);
    if (series.some((s) => s.length === 0)) continue;
    const perRun = series.map((s) => statistic([...s], spec.stat));
    const widths: number[] = [];
    let worstRatio = 1;
    let worstLo = 1;
    let falseAlarms = 0;
    for (let i = 0; i + 1 < series.length; i++) {
      const iv = ratioInterval([series[i]!], [series[i + 1]!], spec.stat, {
        confidence,
        resamples: options.resamples ?? 1000,
        seed: i + 1,
      });
      widths.push(iv.hi - iv.lo);
      const r = iv.ratio > 0 ? Math.max(iv.ratio, 1 / iv.ratio) : Infinity;
      worstRatio = Math.max(worstRatio, r);
      const lo = spec.direction === "lower_is_better"
        ? iv.lo
        : iv.hi > 0
        ? 1 / iv.hi
        : Infinity;
      worstLo = Math.max(worstLo, lo);
      const alarm = spec.direction === "lower_is_better"
        ? iv.lo > spec.tolerance
        : iv.hi < 1 / spec.tolerance;
      if (alarm) falseAlarms++;
    }
    const { cv } = spreadOf(perRun);
    const logRatios = perRun.slice(1).map((v, i) => Math.log(v / perRun[i]!));
    const pairSd = sampleSd(logRatios.filter(Number.isFinite));
    const pairedTolerance = spec.pairedTolerance ?? spec.tolerance;
    const medianWidth = statistic([...widths], "median");
    const suggested = suggestTolerance(cv, medianWidth / 2, worstLo);
    rows.push({
      spec,
      perRun,
      cv,
      widths,
      medianWidth,
      worstRatio,
      worstLo,
      falseAlarms,
      suggested,
      detectable: suggested * (1 + medianWidth / 2),
      pairSd,
      pairedDetects: pairedTolerance *
        Math.exp((1.96 + 1.645) * pairSd / Math.sqrt(pairs)),
    });
  }
  return { runs: runs.length, confidence, pairs, rows };
}

/** A plain-text report of a calibration. */
export function renderCalibration(c: Calibration): string {
  const pct = (r: number) => `${((r - 1) * 100).toFixed(1)} %`;
  const head = [
    "metric",
    "per-run median",
    "CV",
    "A-vs-A width",
    "worst A-vs-A",
    "worst lower end",
    "false alarms",
    "tolerance",
    "suggested",
    "detects ≈",
    "pair sd",
    `paired ×${c.pairs} detects`,
  ];
  const rows = c.rows.map((r) => [
    r.spec.key,
    `${
      Number(statistic([...r.perRun], "median").toPrecision(4))
    } ${r.spec.unit}`,
    `${(r.cv * 100).toFixed(1)} %`,
    `${(r.medianWidth * 100).toFixed(1)} %`,
    `+${pct(r.worstRatio)}`,
    `${r.worstLo >= 1 ? "+" : ""}${pct(r.worstLo)}`,
    `${r.falseAlarms}/${r.widths.length}`,
    r.spec.tolerance.toFixed(2),
    r.suggested.toFixed(2),
    `+${pct(r.detectable)}`,
    `${(r.pairSd * 100).toFixed(1)} %`,
    `+${pct(r.pairedDetects)}`,
  ]);
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd();
  return [
    `calibration over ${c.runs} runs of the same build (${
      Math.round(c.confidence * 100)
    } % intervals of consecutive pairs)`,
    line(head),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
    "CV: run-to-run coefficient of variation of the per-run statistic. " +
    "Suggested: the smallest multiple of 0.05 (≥ 1.05) above 1 + 2.33·√2·CV − half the A-vs-A width " +
    "and above every A-vs-A lower end. Detects ≈: the slowdown flagged about half the time at that tolerance. " +
    `Pair sd: sd of the log ratio of consecutive runs; paired ×${c.pairs} detects: the slowdown \`compare --paired\` ` +
    `of ${c.pairs} alternated runs a side flags 95 % of the time at the paired tolerance.`,
  ].join("\n");
}
