/**
 * The report page of a run: its verdict, latency, server times, queue,
 * processes and metadata — and the sections a caller adds (a test
 * profile's own verdict) before the metadata.
 */
import { profileSection } from "./profile_section.ts";
import { basename, dirname } from "node:path";
import { scenarioLabel, SCENARIOS } from "../scenarios.ts";
import { DASHBOARD_FILE, type ReportData } from "./load_report_data.ts";
import {
  latencyMetrics,
  latencySection,
  type RunClock,
  serverSection,
} from "./latency_section.ts";
import { byClass } from "./latency_series.ts";
import { metadataSection } from "./metadata_section.ts";
import { renderPage, type ReportSection } from "./page.ts";
import { processSection, serviceSection } from "./timeline_sections.ts";
import { VERDICT_LABELS, verdictSection } from "./verdict_section.ts";

/** Options of {@linkcode renderReport}. */
export interface RenderReportOptions {
  /** Sections of the caller's own (e.g. a profile's verdict), shown before the metadata. */
  extraSections?: readonly ReportSection[];
  /** When the page is made (ISO). @default now */
  generatedAt?: string;
}

/** `run-3` of a group reads `<group>/run-3`; a single run its folder's name. */
function runName(runDir: string): string {
  const name = basename(runDir);
  return /^run-\d+$/.test(name) ? `${basename(dirname(runDir))}/${name}` : name;
}

function clockOf(d: ReportData): RunClock {
  const started = Date.parse(d.metadata?.started_at ?? "");
  let first = Infinity, last = -Infinity;
  for (const list of d.samples?.values() ?? []) {
    for (const s of list) {
      if (s.at < first) first = s.at;
      if (s.at > last) last = s.at;
    }
  }
  const originMs = Number.isFinite(started)
    ? started
    : Number.isFinite(first)
    ? first
    : 0;
  const latency = d.samples?.get(latencyMetrics(d.scenario.api).latency.metric);
  return {
    originMs,
    seconds: d.metadata?.duration_seconds ??
      (Number.isFinite(last) ? (last - originMs) / 1000 : 0),
    classes: [...byClass(latency ?? []).keys()],
  };
}

function headline(d: ReportData): string[] {
  const m = d.metadata;
  const lines: string[] = [];
  const parts = [scenarioLabel(d.scenario.api, d.scenario.workload)];
  if (m?.arrival_rate_per_second !== undefined) {
    parts.push(`${m.arrival_rate_per_second} jobs/s`);
  }
  if (m?.duration_seconds !== undefined) parts.push(`${m.duration_seconds} s`);
  if (m?.workers !== undefined) parts.push(`${m.workers} workers`);
  if (m?.model) parts.push(m.model);
  lines.push(parts.join(" · "));
  const when = [
    m?.started_at ? `started ${m.started_at}` : undefined,
    typeof m?.git_commit === "string"
      ? `commit ${m.git_commit.slice(0, 10)}${m.git_dirty ? " (dirty)" : ""}`
      : undefined,
    m?.cpu_count
      ? `${m.cpu_count} CPUs ${m.cpu_model ?? ""}`.trim()
      : undefined,
  ].filter((x): x is string => x !== undefined);
  if (when.length) lines.push(when.join(" · "));
  const value = (metric: string, stat: string) =>
    d.summary.metrics.get(metric)?.values[stat];
  const iterations = value("iterations", "count");
  const success = value(SCENARIOS[d.scenario.api].success, "rate");
  lines.push(
    [
      iterations !== undefined ? `${iterations} iterations` : undefined,
      success !== undefined
        ? `success ${(success * 100).toFixed(1)} %`
        : undefined,
      `${value("dropped_iterations", "count") ?? 0} dropped`,
    ].filter((x) => x !== undefined).join(", "),
  );
  return lines;
}

/** Renders the run's page. */
export function renderReport(
  d: ReportData,
  o: RenderReportOptions = {},
): string {
  const clock = clockOf(d);
  const verdict = d.verdict?.verdict ?? "not judged";
  return renderPage({
    title: `Perf run ${runName(d.runDir)}`,
    badge: { text: VERDICT_LABELS[verdict], cls: verdict.replace(" ", "-") },
    headline: headline(d),
    links: d.dashboard
      ? [{ href: DASHBOARD_FILE, text: "k6's own dashboard ↗" }]
      : [],
    sections: [
      verdictSection(d.verdict),
      ...profileSection(d.profile),
      latencySection(d.scenario.api, d.samples, clock),
      serverSection(d.scenario.api, d.samples, clock),
      serviceSection(d.timeline),
      processSection(d.timeline),
      ...(o.extraSections ?? []),
      metadataSection(d.metadata, d.verdict),
    ],
    generatedAt: o.generatedAt ?? new Date().toISOString(),
  });
}
