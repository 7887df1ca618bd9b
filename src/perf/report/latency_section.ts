/**
 * The report's latency sections, from the run's samples: the end-to-end
 * latency, then the server's queue wait and processing — for each a table
 * of percentiles, the cumulative distribution and p50/p95 over time, per
 * workload class when the run has classes.
 */
import { percentile } from "../../stats/mod.ts";
import { type Api, OPENAI_METRICS, SCENARIOS } from "../scenarios.ts";
import { htmlTable } from "./_html.ts";
import {
  ALL,
  bucketSeconds,
  byClass,
  cdf,
  percentileOverTime,
} from "./latency_series.ts";
import { type ChartSeries, PALETTE, renderLineChart } from "./line_chart.ts";
import type { ReportSection } from "./page.ts";
import type { TimedValue } from "./timed_samples.ts";

/** A metric the latency sections draw. */
export interface LatencyMetric {
  /** The k6 metric. */
  metric: string;
  /** How the page names it. */
  label: string;
  /** The unit it is shown in. */
  unit: "s" | "ms";
  /** The factor from k6's value to `unit`. */
  scale: number;
}

/** The metrics of a scenario's latency sections. */
export function latencyMetrics(
  api: Api,
): {
  latency: LatencyMetric;
  queueWait: LatencyMetric;
  processing: LatencyMetric;
} {
  const l = SCENARIOS[api].latency;
  return {
    latency: {
      metric: l.metric,
      label: api === "openai" ? "request duration" : "end-to-end latency",
      unit: "s",
      scale: l.toSeconds,
    },
    queueWait: {
      metric: api === "openai"
        ? OPENAI_METRICS.queueWait
        : "server_queue_wait_ms",
      label: "server queue wait",
      unit: "ms",
      scale: 1,
    },
    processing: {
      metric: api === "openai"
        ? OPENAI_METRICS.processing
        : "server_processing_ms",
      label: "server processing",
      unit: "ms",
      scale: 1,
    },
  };
}

/** What every chart of the run shares. */
export interface RunClock {
  /** Epoch ms of the run's start (metadata's `started_at`). */
  originMs: number;
  /** The run's length, seconds. */
  seconds: number;
  /**
   * The workload classes in the order (and so the colours) every chart
   * uses: by their median end-to-end latency.
   */
  classes: readonly string[];
}

/** Highest over lowest above which an axis is logarithmic. */
const LOG_SPREAD = 20;

function spread(values: readonly number[]): number {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo > 0 ? hi / lo : lo === 0 && hi > 0 ? Infinity : 1;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  return v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

/** The table and two charts of one metric. */
function metricBlock(
  m: LatencyMetric,
  samples: readonly TimedValue[],
  clock: RunClock,
): string {
  if (samples.length === 0) {
    return `<p class="note">no <code>${m.metric}</code> samples in this run</p>`;
  }
  const groups = byClass(samples, clock.classes);
  const classed = !(groups.size === 1 && groups.has(ALL));
  // A class keeps its colour from chart to chart.
  const colorOf = (name: string) => {
    const i = clock.classes.indexOf(name);
    return PALETTE[(i < 0 ? clock.classes.length : i) % PALETTE.length]!;
  };
  const scaled = [...groups].map(([name, list]) => ({
    name,
    color: colorOf(name),
    values: list.map((s) => s.value * m.scale),
    list,
  }));
  const table = htmlTable(
    [
      "class",
      "samples",
      `p50 (${m.unit})`,
      `p95 (${m.unit})`,
      `p99 (${m.unit})`,
      `max (${m.unit})`,
    ],
    scaled.map((g) => [
      g.name,
      String(g.values.length),
      fmt(percentile(g.values, 50)),
      fmt(percentile(g.values, 95)),
      fmt(percentile(g.values, 99)),
      fmt(Math.max(...g.values)),
    ]),
    { numeric: [1, 2, 3, 4, 5] },
  );
  const all = scaled.flatMap((g) => g.values);
  const cdfChart = renderLineChart({
    title: `${m.label}: distribution`,
    xLabel: `${m.label} (${m.unit})${
      spread(all) > LOG_SPREAD ? ", log scale" : ""
    }`,
    yLabel: "share of samples ≤ x",
    xLog: spread(all) > LOG_SPREAD,
    steps: true,
    yMin: 0,
    yMax: 1,
    series: scaled.map((g) => ({
      name: classed ? g.name : m.label,
      color: g.color,
      points: cdf(g.values),
    })),
  });
  const bucketS = bucketSeconds(clock.seconds);
  const over = (list: readonly TimedValue[], p: number) =>
    percentileOverTime(list, {
      originMs: clock.originMs,
      bucketS,
      p,
      scale: m.scale,
    });
  const series: ChartSeries[] = classed
    ? scaled.flatMap((g) => [
      { name: `${g.name} p95`, color: g.color, points: over(g.list, 95) },
      {
        name: `${g.name} p50`,
        color: g.color,
        dash: "4 3",
        points: over(g.list, 50),
      },
    ])
    : [
      { name: "p95", color: PALETTE[1], points: over(samples, 95) },
      { name: "p50", color: PALETTE[0], points: over(samples, 50) },
    ];
  const logY = spread(series.flatMap((s) => s.points.map((p) => p[1]))) >
    LOG_SPREAD;
  const timeChart = renderLineChart({
    title: `${m.label}: p50 and p95 per ${bucketS} s`,
    xLabel: "seconds since the run started",
    yLabel: `${m.label} (${m.unit})${logY ? ", log scale" : ""}`,
    yLog: logY,
    series,
  });
  return `${table}\n<div class="charts">${cdfChart}${timeChart}</div>`;
}

/** The end-to-end latency section (the request's duration for openai runs). */
export function latencySection(
  api: Api,
  samples: Map<string, TimedValue[]> | undefined,
  clock: RunClock,
): ReportSection {
  const m = latencyMetrics(api).latency;
  return {
    id: "latency",
    title: api === "openai" ? "Request duration" : "End-to-end latency",
    html: samples
      ? `<p class="note">${
        api === "openai"
          ? "The request's duration, successful requests"
          : "From the first upload request to the poll that sees the job completed, successful jobs"
      }; over time by when the sample was taken.</p>\n${
        metricBlock(m, samples.get(m.metric) ?? [], clock)
      }`
      : `<p class="note">no samples in this archive (samples.json.gz)</p>`,
  };
}

/** The server's queue wait and processing section. */
export function serverSection(
  api: Api,
  samples: Map<string, TimedValue[]> | undefined,
  clock: RunClock,
): ReportSection {
  const { queueWait, processing } = latencyMetrics(api);
  return {
    id: "server",
    title: "Server queue wait and processing",
    html: samples
      ? [queueWait, processing].map((m) =>
        `<h3>${m.label} (<code>${m.metric}</code>)</h3>\n${
          metricBlock(m, samples.get(m.metric) ?? [], clock)
        }`
      ).join("\n")
      : `<p class="note">no samples in this archive (samples.json.gz)</p>`,
  };
}
