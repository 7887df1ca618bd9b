/** Test helpers: synthetic samples with known distributions, as k6 writes them. */
import { rng, statistic } from "./bootstrap.ts";
import type { RunSamples } from "./samples.ts";

/** `n` log-normal values around `median` (spread `sigma` in log space). */
export function lognormal(
  n: number,
  median: number,
  seed: number,
  sigma = 0.15,
): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(r() || 1e-9)) *
      Math.cos(2 * Math.PI * r());
    return median * Math.exp(sigma * z);
  });
}

/**
 * A synthetic run: end-to-end latency around `latency` s, HTTP requests
 * around 4 ms, processing around `latency × 300` ms, every job successful.
 */
export function syntheticRun(
  latency: number,
  seed: number,
  n = 120,
): RunSamples {
  return new Map([
    ["transcription_latency_seconds", lognormal(n, latency, seed)],
    ["http_req_duration", lognormal(n * 5, 4, seed + 1000, 0.3)],
    ["server_processing_ms", lognormal(n, latency * 300, seed + 2000)],
    ["transcription_success_rate", Array.from({ length: n }, () => 1)],
  ]);
}

/** Writes samples as k6's gzipped JSON lines (`--out json=…gz`). */
export async function writeSamples(
  path: string,
  samples: RunSamples,
): Promise<void> {
  const lines: string[] = [];
  for (const [metric, values] of samples) {
    lines.push(
      JSON.stringify({ type: "Metric", data: { name: metric }, metric }),
    );
    for (const value of values) {
      lines.push(JSON.stringify({
        metric,
        type: "Point",
        data: { time: "2026-11-29T10:00:00Z", value, tags: {} },
      }));
    }
  }
  const gz = new Blob([lines.join("\n") + "\n"]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  await Deno.writeFile(path, gz);
}

/** A legacy `--summary-export` JSON consistent with `samples`. */
export function legacySummaryFor(
  samples: RunSamples,
  failedThresholds: Record<string, Record<string, boolean>> = {},
): string {
  const trend = (v: number[]) => ({
    avg: statistic([...v], "mean"),
    min: Math.min(...v),
    med: statistic([...v], "median"),
    max: Math.max(...v),
    "p(90)": statistic([...v], "p90"),
    "p(95)": statistic([...v], "p95"),
  });
  const metrics: Record<string, Record<string, unknown>> = {};
  for (const [name, v] of samples) {
    if (name === "transcription_success_rate") {
      const passes = v.filter((x) => x === 1).length;
      metrics[name] = {
        passes,
        fails: v.length - passes,
        value: passes / v.length,
      };
    } else metrics[name] = trend(v);
  }
  const n = samples.get("transcription_latency_seconds")?.length ?? 0;
  metrics.iterations = { count: n, rate: n / 60 };
  for (const [name, t] of Object.entries(failedThresholds)) {
    metrics[name] = { ...metrics[name], thresholds: t };
  }
  return JSON.stringify({ root_group: {}, metrics });
}

/** metadata.json of a complete synthetic run (2/s for 60 s, 120 iterations). */
export function syntheticMetadata(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: "tiny.en",
    arrival_rate_per_second: 2,
    duration_seconds: 60,
    worker_concurrency: 2,
    workers: 2,
    k6_exit_code: 0,
    interrupted: false,
    ...extra,
  });
}
