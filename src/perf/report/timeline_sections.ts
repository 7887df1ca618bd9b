/**
 * The report's sections drawn from the run's timeline (`timeline.jsonl`):
 * the service's queue, completions and refusals over time, and the CPU and
 * memory of every process.
 */
import {
  coresOf,
  increase,
  type Point,
  processNames,
  ratePerSecond,
  rssOf,
  serviceSeries,
  type TimelineSample,
} from "../timeline/mod.ts";
import { htmlTable } from "./_html.ts";
import { type ChartSeries, renderLineChart } from "./line_chart.ts";
import type { ReportSection } from "./page.ts";

const NO_TIMELINE =
  `<p class="note">no timeline in this archive (timeline.jsonl)</p>`;

function peak(points: readonly Point[]): number {
  return points.reduce((m, p) => Math.max(m, p[1]), 0);
}

/** The refusal codes seen in the timeline, sorted. */
function refusalCodes(samples: readonly TimelineSample[]): string[] {
  const codes = new Set<string>();
  for (const s of samples) {
    for (const c of Object.keys(s.service?.refusals ?? {})) codes.add(c);
  }
  return [...codes].sort();
}

/**
 * Queue depth (queued jobs, queued pieces of long recordings, jobs in
 * progress, busy workers), completions, failures, refusals by code and 5xx
 * per second, storage used; and their totals over the run.
 */
export function serviceSection(
  samples: readonly TimelineSample[],
): ReportSection {
  const id = "service";
  const title = "Queue, completions and refusals";
  const scraped = samples.filter((s) => s.service);
  if (scraped.length === 0) {
    return {
      id,
      title,
      html: samples.length
        ? `<p class="note">the timeline has no /metrics figures (the service didn't answer)</p>`
        : NO_TIMELINE,
    };
  }
  const queued = serviceSeries(samples, (s) => s.queued);
  const pieces = serviceSeries(samples, (s) => s.pieces_queued);
  const depth = renderLineChart({
    title: "queue depth",
    xLabel: "seconds since the run started",
    yLabel: "jobs, pieces, workers",
    series: [
      {
        name: "queued + pieces",
        points: serviceSeries(samples, (s) => s.queued + s.pieces_queued),
      },
      { name: "queued jobs", points: queued, dash: "4 3" },
      { name: "queued pieces", points: pieces, dash: "2 3" },
      {
        name: "processing",
        points: serviceSeries(samples, (s) => s.processing),
      },
      {
        name: "workers busy",
        points: serviceSeries(samples, (s) => s.workers_busy),
      },
    ],
  });
  const codes = refusalCodes(samples);
  const completed = serviceSeries(samples, (s) => s.completed);
  const failed = serviceSeries(samples, (s) => s.failed);
  const http5xx = serviceSeries(samples, (s) => s.http_5xx);
  const refusals = codes.map((c) => ({
    code: c,
    points: serviceSeries(samples, (s) => s.refusals[c] ?? 0),
  }));
  const flow = renderLineChart({
    title: "completions, failures and refusals per second",
    xLabel: "seconds since the run started",
    yLabel: "per second",
    series: [
      { name: "completed/s", points: ratePerSecond(completed) },
      { name: "failed/s", points: ratePerSecond(failed) },
      ...refusals.map((r) => ({
        name: `refused ${r.code}/s`,
        points: ratePerSecond(r.points),
        dash: "4 3",
      })),
      { name: "HTTP 5xx/s", points: ratePerSecond(http5xx) },
    ],
  });
  const storage = serviceSeries(
    samples.filter((s) => s.service?.storage_used_bytes !== undefined),
    (s) => (s.storage_used_bytes ?? 0) / 2 ** 20,
  );
  const storageChart = storage.length
    ? renderLineChart({
      title: "storage used",
      xLabel: "seconds since the run started",
      yLabel: "MiB",
      series: [{ name: "storage used", points: storage }],
    })
    : "";
  const totals = htmlTable(
    ["over the run", "count"],
    [
      ["completed", String(increase(completed))],
      ["failed", String(increase(failed))],
      ...refusals.map((
        r,
      ) => [`refused: ${r.code}`, String(increase(r.points))]),
      ["HTTP 5xx", String(increase(http5xx))],
      ["most jobs queued at once", String(peak(queued))],
      ["most pieces queued at once", String(peak(pieces))],
    ],
    { numeric: [1] },
  );
  return {
    id,
    title,
    html:
      `<p class="note">From the service's /metrics, scraped every second while k6 ran (${scraped.length} scrapes).${
        codes.length ? "" : " No request was refused."
      }</p>\n${totals}\n<div class="charts">${depth}${flow}${storageChart}</div>`,
  };
}

/** The sum of every process's cores at each time they were all sampled. */
function totalCores(perProcess: readonly Point[][]): Point[] {
  const byT = new Map<number, number>();
  for (const points of perProcess) {
    for (const [t, v] of points) byT.set(t, (byT.get(t) ?? 0) + v);
  }
  return [...byT].sort(([a], [b]) => a - b);
}

/** CPU (cores) and resident memory (MiB) of every process over time. */
export function processSection(
  samples: readonly TimelineSample[],
): ReportSection {
  const id = "processes";
  const title = "CPU and memory of each process";
  if (samples.length === 0) return { id, title, html: NO_TIMELINE };
  const names = processNames(samples);
  const cores = names.map((n) => coresOf(samples, n));
  const rss = names.map((n) => rssOf(samples, n));
  const cpuSeries: ChartSeries[] = [
    ...names.map((name, i) => ({ name, points: cores[i]! })),
    {
      name: "all of them",
      points: totalCores(cores),
      color: "#222222",
      dash: "5 3",
    },
  ];
  const cpu = renderLineChart({
    title: "CPU",
    xLabel: "seconds since the run started",
    yLabel: "cores (1 = one core busy)",
    series: cpuSeries,
  });
  const memory = renderLineChart({
    title: "resident memory (RSS)",
    xLabel: "seconds since the run started",
    yLabel: "MiB",
    series: names.map((name, i) => ({ name, points: rss[i]! })),
  });
  const mean = (ps: readonly Point[]) =>
    ps.length ? ps.reduce((s, p) => s + p[1], 0) / ps.length : NaN;
  const f = (v: number, d: number) => Number.isFinite(v) ? v.toFixed(d) : "—";
  const table = htmlTable(
    [
      "process",
      "CPU mean (cores)",
      "CPU peak (cores)",
      "RSS first (MiB)",
      "RSS last (MiB)",
      "RSS peak (MiB)",
      "RSS last − first (MiB)",
    ],
    names.map((name, i) => {
      const r = rss[i]!;
      const first = r[0]?.[1] ?? NaN;
      const last = r.at(-1)?.[1] ?? NaN;
      return [
        name,
        f(mean(cores[i]!), 2),
        f(cores[i]!.length ? peak(cores[i]!) : NaN, 2),
        f(first, 1),
        f(last, 1),
        f(r.length ? peak(r) : NaN, 1),
        f(last - first, 1),
      ];
    }),
    { numeric: [1, 2, 3, 4, 5, 6] },
  );
  return {
    id,
    title,
    html:
      `<p class="note">From /proc every second while k6 ran: CPU time (user + system, every thread) per second, and resident memory. k6 is the load generator, on the same machine.</p>\n${table}\n<div class="charts">${cpu}${memory}</div>`,
  };
}
