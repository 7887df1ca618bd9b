/**
 * Run-to-run comparison: for each metric, the change B/A of a statistic with
 * a bootstrap interval, and a verdict — faster, slower, or no detectable
 * change — plus whether the change is a regression beyond the tolerance.
 */
import { join } from "node:path";
import { ConfigError } from "../errors/mod.ts";
import {
  type RatioInterval,
  ratioInterval,
  type StatName,
} from "./bootstrap.ts";
import { readK6Samples, type RunSamples } from "./samples.ts";

/** The samples file in a run folder. */
export const SAMPLES_FILE = "samples.json.gz";

/** One compared quantity. */
export interface CompareSpec {
  /** Label, e.g. `transcription_latency_seconds p95`. */
  key: string;
  metric: string;
  stat: StatName;
  unit: string;
  direction: "lower_is_better" | "higher_is_better";
  /**
   * Ratio beyond which a detectable slowdown is a regression (lower is
   * better: interval entirely above it; higher is better: entirely below 1/it).
   */
  tolerance: number;
  /**
   * The tolerance of paired comparisons (runs of the two builds alternated),
   * whose intervals are narrower because the machine's drift drops out.
   * @default tolerance
   */
  pairedTolerance?: number;
}

/**
 * The latency tolerance of paired comparisons. Runs a minute apart on this
 * machine differ by 5–9 % (sd of consecutive runs' log ratio, 3 archives of
 * 25–29 runs): five pairs put the ratio's sd near 3.5 %, so the interval's
 * lower end sits about 3.6 sd (1.96 + 1.645) under a true change when 95 %
 * of them must clear the tolerance: 1.20 − 0.126 ≈ 1.07 is the highest
 * tolerance that still detects a 20 % slowdown, and identical builds reach
 * 1.05 only when their ratio is off by more than 3 sd. `deno task calibrate`
 * measures σ on the machine at hand.
 */
export const PAIRED_TOLERANCE = 1.05;

/** The quantities compared by default. */
export const DEFAULT_SPECS: readonly CompareSpec[] = [
  timing("transcription_latency_seconds", "median", "s"),
  timing("transcription_latency_seconds", "p95", "s"),
  spec("http_req_duration", "median", "ms", 1.5),
  spec("http_req_duration", "p95", "ms", 1.5),
  timing("server_processing_ms", "median", "ms"),
  timing("server_processing_ms", "p95", "ms"),
  {
    ...spec("transcription_success_rate", "rate", "ratio", 1.01),
    direction: "higher_is_better",
  },
];

function spec(
  metric: string,
  stat: StatName,
  unit: string,
  tolerance: number,
): CompareSpec {
  return {
    key: `${metric} ${stat}`,
    metric,
    stat,
    unit,
    direction: "lower_is_better",
    tolerance,
  };
}

/** A job-time quantity: tolerance 1.1, paired {@linkcode PAIRED_TOLERANCE}. */
function timing(metric: string, stat: StatName, unit: string): CompareSpec {
  return {
    ...spec(metric, stat, unit, 1.1),
    pairedTolerance: PAIRED_TOLERANCE,
  };
}

/** A verdict on one quantity. */
export type Verdict = "slower" | "faster" | "no detectable change";

/** The comparison of one quantity. */
export interface MetricComparison extends RatioInterval {
  spec: CompareSpec;
  verdict: Verdict;
  /** A detectable change for the worse beyond the tolerance. */
  regression: boolean;
}

/** A whole comparison. */
export interface Comparison {
  a: { label: string; runs: number };
  b: { label: string; runs: number };
  confidence: number;
  /** Runs were paired (see `ratioInterval`). */
  paired: boolean;
  rows: MetricComparison[];
  /** Samples of each side, per metric (for plots). */
  samples: { a: Map<string, number[]>; b: Map<string, number[]> };
  regression: boolean;
}

/**
 * Judges one interval. Lower is better: `slower` when the whole interval is
 * above 1, `faster` when below 1; a regression when it is above the tolerance.
 */
export function judge(
  iv: RatioInterval,
  s: Pick<CompareSpec, "direction" | "tolerance">,
): { verdict: Verdict; regression: boolean } {
  if (s.direction === "lower_is_better") {
    const verdict: Verdict = iv.lo > 1
      ? "slower"
      : iv.hi < 1
      ? "faster"
      : "no detectable change";
    return { verdict, regression: iv.lo > s.tolerance };
  }
  // Higher is better (a rate): "slower" means worse.
  const verdict: Verdict = iv.hi < 1
    ? "slower"
    : iv.lo > 1
    ? "faster"
    : "no detectable change";
  return { verdict, regression: iv.hi < 1 / s.tolerance };
}

/** Compares run sets `a` and `b` (each a list of per-run samples). */
export function compareSamples(
  a: { label: string; runs: RunSamples[] },
  b: { label: string; runs: RunSamples[] },
  options: {
    specs?: readonly CompareSpec[];
    confidence?: number;
    resamples?: number;
    seed?: number;
    /** Borrow run-to-run noise for a single-run side (see `ratioInterval`). @default true */
    borrowRunNoise?: boolean;
    /**
     * `a.runs[i]` and `b.runs[i]` were measured one after the other (see
     * `ratioInterval`); needs as many runs a side. @default false
     */
    paired?: boolean;
  } = {},
): Comparison {
  const specs = options.specs ?? DEFAULT_SPECS;
  const confidence = options.confidence ?? 0.95;
  const paired = options.paired ?? false;
  if (paired && a.runs.length !== b.runs.length) {
    throw new ConfigError(
      `a paired comparison needs as many runs a side: ${a.label} has ${a.runs.length}, ${b.label} ${b.runs.length}`,
    );
  }
  const rows: MetricComparison[] = [];
  for (const s of specs) {
    let ra = a.runs.map((r) => r.get(s.metric) ?? []);
    let rb = b.runs.map((r) => r.get(s.metric) ?? []);
    if (paired) {
      // A pair counts only when both of its runs measured the metric.
      const both = ra.map((v, i) => v.length > 0 && rb[i]!.length > 0);
      ra = ra.filter((_, i) => both[i]);
      rb = rb.filter((_, i) => both[i]);
    } else {
      ra = ra.filter((v) => v.length > 0);
      rb = rb.filter((v) => v.length > 0);
    }
    if (ra.length === 0 || rb.length === 0) continue;
    const iv = ratioInterval(ra, rb, s.stat, {
      confidence,
      resamples: options.resamples,
      seed: options.seed,
      borrowRunNoise: options.borrowRunNoise,
      paired,
    });
    const used = paired
      ? { ...s, tolerance: s.pairedTolerance ?? s.tolerance }
      : s;
    rows.push({ ...iv, spec: used, ...judge(iv, used) });
  }
  if (rows.length === 0) {
    throw new ConfigError(
      `no metric has samples on both sides (${a.label} vs ${b.label}); were the runs archived with samples?`,
    );
  }
  const pool = (runs: RunSamples[]) => {
    const m = new Map<string, number[]>();
    for (const s of specs) {
      m.set(
        s.metric,
        runs.flatMap((r) => r.get(s.metric) ?? []),
      );
    }
    return m;
  };
  return {
    a: { label: a.label, runs: a.runs.length },
    b: { label: b.label, runs: b.runs.length },
    confidence,
    paired,
    rows,
    samples: { a: pool(a.runs), b: pool(b.runs) },
    regression: rows.some((r) => r.regression),
  };
}

/**
 * The run folders of an archive: the folder itself when it holds a samples
 * file, else its sub-folders that do (a `--repeat` group).
 * @throws {ConfigError} when there are none.
 */
export async function runFolders(path: string): Promise<string[]> {
  const has = async (dir: string) => {
    try {
      return (await Deno.stat(join(dir, SAMPLES_FILE))).isFile;
    } catch {
      return false;
    }
  };
  if (await has(path)) return [path];
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) {
      if (e.isDirectory && await has(join(path, e.name))) {
        found.push(join(path, e.name));
      }
    }
  } catch (error) {
    throw new ConfigError(
      `${path}: not a run archive (${(error as Error).message})`,
    );
  }
  if (found.length === 0) {
    throw new ConfigError(
      `${path}: no ${SAMPLES_FILE} in it or its sub-folders (not a run archive)`,
    );
  }
  return found.sort(byNaturalName);
}

/** Orders `run-2` before `run-10` (numbers compared as numbers). */
export function byNaturalName(x: string, y: string): number {
  return x.localeCompare(y, "en", { numeric: true });
}

/** Loads every run of an archive (and names its run folders, in order). */
export async function loadArchive(
  path: string,
): Promise<{ label: string; runs: RunSamples[]; folders: string[] }> {
  const folders = await runFolders(path);
  const runs = [];
  for (const f of folders) {
    runs.push(await readK6Samples(join(f, SAMPLES_FILE)));
  }
  return { label: path, runs, folders };
}

/**
 * What speaks against pairing run i of A with run i of B, given when each
 * run started (ms since the epoch; undefined when not recorded): a pair
 * belongs together when no other run started between its two runs. Empty
 * when every pair is adjacent in time or the times are unknown.
 */
export function pairingProblems(
  aStarts: readonly (number | undefined)[],
  bStarts: readonly (number | undefined)[],
): string[] {
  const known = [...aStarts, ...bStarts].every((t) => t !== undefined);
  if (!known || aStarts.length !== bStarts.length) return [];
  const all = [...aStarts, ...bStarts] as number[];
  const problems: string[] = [];
  aStarts.forEach((ta, i) => {
    const tb = bStarts[i]!;
    const from = Math.min(ta!, tb);
    const to = Math.max(ta!, tb);
    const between = all.filter((t) => t > from && t < to).length;
    if (between > 0) {
      problems.push(
        `pair ${
          i + 1
        }: ${between} other run(s) started between its A and B runs`,
      );
    }
  });
  return problems;
}
