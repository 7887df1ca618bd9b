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
}

/** The quantities compared by default. */
export const DEFAULT_SPECS: readonly CompareSpec[] = [
  spec("transcription_latency_seconds", "median", "s", 1.1),
  spec("transcription_latency_seconds", "p95", "s", 1.1),
  spec("http_req_duration", "median", "ms", 1.5),
  spec("http_req_duration", "p95", "ms", 1.5),
  spec("server_processing_ms", "median", "ms", 1.1),
  spec("server_processing_ms", "p95", "ms", 1.1),
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
  } = {},
): Comparison {
  const specs = options.specs ?? DEFAULT_SPECS;
  const confidence = options.confidence ?? 0.95;
  const rows: MetricComparison[] = [];
  for (const s of specs) {
    const ra = a.runs.map((r) => r.get(s.metric) ?? []).filter((v) =>
      v.length > 0
    );
    const rb = b.runs.map((r) => r.get(s.metric) ?? []).filter((v) =>
      v.length > 0
    );
    if (ra.length === 0 || rb.length === 0) continue;
    const iv = ratioInterval(ra, rb, s.stat, {
      confidence,
      resamples: options.resamples,
      seed: options.seed,
      borrowRunNoise: options.borrowRunNoise,
    });
    rows.push({ ...iv, spec: s, ...judge(iv, s) });
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

/** Loads every run of an archive. */
export async function loadArchive(
  path: string,
): Promise<{ label: string; runs: RunSamples[] }> {
  const folders = await runFolders(path);
  const runs = [];
  for (const f of folders) {
    runs.push(await readK6Samples(join(f, SAMPLES_FILE)));
  }
  return { label: path, runs };
}
