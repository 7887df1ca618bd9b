/**
 * Writes a run's `report.html` from its archive and, when a headless
 * chromium is installed, checks that the page renders and saves
 * `report.png`: built after k6 has finished, so it costs the measurement
 * nothing.
 */
import { join } from "node:path";
import {
  findChromium,
  type RenderCheck,
  renderCheck,
  runChromium,
} from "./chromium.ts";
import { loadReportData, REPORT_FILE } from "./load_report_data.ts";
import { renderReport, type RenderReportOptions } from "./render_report.ts";

/** The page's screenshot in a run folder. */
export const SCREENSHOT_FILE = "report.png";

/** The screenshot's width in CSS pixels (two charts side by side). */
export const SCREENSHOT_WIDTH = 1280;

/** Options of {@linkcode writeReport}. */
export interface WriteReportOptions extends RenderReportOptions {
  /** Save `report.png` too when chromium is installed. @default false */
  screenshot?: boolean;
  /** The browser's command. @default the chromium on PATH */
  chromium?: string;
}

/** What {@linkcode writeReport} did. */
export interface WriteReportResult {
  /** The page. */
  path: string;
  /** The screenshot and what the page reported in the browser, or why there is none. */
  screenshot?: { path: string; check: RenderCheck } | { skipped: string };
}

/**
 * Builds `report.html` in `runDir` (and `report.png` with `o.screenshot`).
 * The screenshot is as tall as the page (between 800 and 20000 pixels), as
 * the page measured itself in a first load.
 * @throws {ConfigError} when `runDir` is not a run folder (no summary).
 */
export async function writeReport(
  runDir: string,
  o: WriteReportOptions = {},
): Promise<WriteReportResult> {
  const data = await loadReportData(runDir);
  const path = join(runDir, REPORT_FILE);
  await Deno.writeTextFile(path, renderReport(data, o));
  if (!o.screenshot) return { path };
  const chromium = o.chromium ?? await findChromium();
  if (!chromium) {
    return {
      path,
      screenshot: { skipped: "chromium is not installed (deno task setup)" },
    };
  }
  const { dom, console: messages } = await runChromium(
    path,
    { dumpDom: true, width: SCREENSHOT_WIDTH },
    { chromium },
  );
  const check = renderCheck(dom);
  check.errors.push(...messages);
  const png = join(runDir, SCREENSHOT_FILE);
  await runChromium(path, {
    screenshot: png,
    width: SCREENSHOT_WIDTH,
    height: Math.min(20_000, Math.max(800, Math.ceil(check.height ?? 4000))),
  }, { chromium });
  return { path, screenshot: { path: png, check } };
}
