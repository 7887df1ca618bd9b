/**
 * The optional `distributions` key of `baseline.json`: per-run quantile
 * sketches of each verdict metric, and per baseline key the spread of its
 * value across the runs the baseline was recorded from. Baselines without it
 * keep working exactly as before.
 */
import { z } from "zod";
import type { StatName } from "./bootstrap.ts";
import type { RunSamples } from "./samples.ts";
import {
  expandSketch,
  SKETCH_QUANTILES,
  sketchOf,
  type Spread,
} from "./sketch.ts";

const finite = z.number().refine(Number.isFinite, {
  error: "must be a number",
});

/** One run's sketch of one metric. */
export const SketchSchema = z.object({
  count: z.number().int().min(1),
  mean: finite,
  q: z.array(finite).length(SKETCH_QUANTILES, {
    error: `must have ${SKETCH_QUANTILES} quantiles`,
  }),
});

/** The spread of one baseline key across runs. */
export const SpreadSchema = z.object({
  median: finite,
  min: finite,
  max: finite,
  cv: finite,
  runs: z.array(finite),
});

/** The `distributions` key of a baseline. */
export const DistributionsSchema = z.looseObject({
  format: z.literal("quantiles-101", {
    error: 'must be "quantiles-101"',
  }),
  /** Runs recorded. */
  runs: z.number().int().min(1),
  /** Where they came from (a repeat group folder). */
  source: z.string().optional(),
  /** k6 metric → one sketch per run (runs without samples are absent). */
  metrics: z.record(z.string(), z.array(SketchSchema).min(1)),
  /** Baseline key → its value's spread across runs. */
  spread: z.record(z.string(), SpreadSchema).optional(),
});
/** The `distributions` key of a baseline. */
export type Distributions = z.infer<typeof DistributionsSchema>;

/** Sketches of every metric with samples in each run. */
export function sketchRuns(
  runs: readonly RunSamples[],
  metrics?: readonly string[],
): Distributions["metrics"] {
  const out: Distributions["metrics"] = {};
  const names = metrics ?? [...new Set(runs.flatMap((r) => [...r.keys()]))];
  for (const name of names) {
    const sketches = runs.map((r) => r.get(name) ?? []).filter((v) =>
      v.length > 0
    ).map(sketchOf);
    if (sketches.length) out[name] = sketches;
  }
  return out;
}

/** The runs of a distributions record as pseudo-samples (per run, per metric). */
export function runsFromDistributions(d: Distributions): RunSamples[] {
  const runs: RunSamples[] = [];
  for (const [metric, sketches] of Object.entries(d.metrics)) {
    sketches.forEach((s, i) => {
      runs[i] ??= new Map();
      runs[i]!.set(metric, expandSketch(s));
    });
  }
  return runs;
}

/** The bootstrap statistic for a k6 stat name, or undefined when it has none. */
export function statForK6(stat: string): StatName | undefined {
  return ({
    avg: "mean",
    med: "median",
    "p(90)": "p90",
    "p(95)": "p95",
    rate: "rate",
  } as Record<string, StatName>)[stat];
}

export type { Spread };
