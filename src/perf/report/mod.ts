/**
 * A run's own report page, `report.html` in its archive: one self-contained
 * HTML file (inline CSS and SVG, no network) with the verdict against the
 * baseline, latency distributions and latency over time (per workload
 * class), the server's queue wait and processing, the queue, completions
 * and refusals over time, the CPU and memory of every process, and the
 * run's metadata — plus any sections a caller adds (a test profile's own
 * verdict). Built at the end of every `deno task perf` run and by
 * `deno task report RUN_DIR`; k6's own dashboard export sits beside it as
 * `k6-dashboard.html`.
 *
 * @module
 */
export * from "./chromium.ts";
export * from "./line_chart.ts";
export * from "./load_report_data.ts";
export type { ReportSection } from "./page.ts";
export * from "./render_report.ts";
export * from "./verdict_file.ts";
export * from "./write_report.ts";
export { runReportCommand } from "./report_command.ts";
