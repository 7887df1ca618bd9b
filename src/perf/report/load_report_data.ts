/**
 * Everything the report page is made from, read from a run's archive: the
 * k6 summary (required: without it the folder is not a run), and when
 * present the metadata, the verdict, the timeline, the samples of the
 * latency metrics and k6's own dashboard export.
 */
import { join } from "node:path";
import { ConfigError } from "../../errors/mod.ts";
import { pathExists } from "../../config/mod.ts";
import { SAMPLES_FILE } from "../../verdict/mod.ts";
import { loadRunMetadata, type RunMetadata } from "../run_metadata.ts";
import { apiOfRun, type RunApi } from "../scenarios.ts";
import { loadSummary, type RunSummary } from "../summary.ts";
import { loadTimeline, type TimelineSample } from "../timeline/mod.ts";
import { latencyMetrics } from "./latency_section.ts";
import { readTimedSamples, type TimedValue } from "./timed_samples.ts";
import { loadRunVerdict, type RunVerdict } from "./verdict_file.ts";
import { loadProfileVerdict, type ProfileVerdict } from "../profiles/mod.ts";

/** k6's web-dashboard export in a run folder, linked from the page. */
export const DASHBOARD_FILE = "k6-dashboard.html";
/** The page in a run folder. */
export const REPORT_FILE = "report.html";

/** A run's archive, read. */
export interface ReportData {
  runDir: string;
  summary: RunSummary;
  metadata?: RunMetadata;
  verdict?: RunVerdict;
  /** A smoke, soak or spike run's own verdict (`profile.json`). */
  profile?: ProfileVerdict;
  scenario: RunApi;
  /** Empty when the run has no timeline. */
  timeline: TimelineSample[];
  /** The latency metrics' samples; undefined without samples.json.gz. */
  samples?: Map<string, TimedValue[]>;
  /** Whether k6's dashboard export is beside the page. */
  dashboard: boolean;
}

/**
 * Reads the run folder `runDir`.
 * @throws {ConfigError} (exit 2) naming `summary.json` when the folder has
 * none (not a run), or naming a file that is there but unreadable.
 */
export async function loadReportData(runDir: string): Promise<ReportData> {
  const summaryPath = join(runDir, "summary.json");
  if (!(await pathExists(summaryPath))) {
    throw new ConfigError(
      `${summaryPath}: not found, so ${runDir} is not a perf run folder ` +
        `(expected perf/results/<UTC time>/ or a group's run-N/)`,
    );
  }
  const summary = await loadSummary(summaryPath);
  const metadata = (await loadRunMetadata(summaryPath))?.metadata;
  const scenario = apiOfRun(summary, metadata);
  const samplesPath = join(runDir, SAMPLES_FILE);
  const m = latencyMetrics(scenario.api);
  const samples = await pathExists(samplesPath)
    ? await readTimedSamples(samplesPath, [
      m.latency.metric,
      m.queueWait.metric,
      m.processing.metric,
    ])
    : undefined;
  return {
    runDir,
    summary,
    metadata,
    verdict: await loadRunVerdict(runDir),
    profile: await loadProfileVerdict(runDir),
    scenario,
    timeline: await loadTimeline(runDir),
    samples,
    dashboard: await pathExists(join(runDir, DASHBOARD_FILE)),
  };
}
