/**
 * `deno task report RUN_DIR [--no-screenshot]`: rebuilds the run's
 * `report.html` (and `report.png`) from its archive (see
 * {@linkcode runReportCommand}); exit 0 written, 1 the page reported errors,
 * 2 not a run folder.
 */
import { runCli } from "../cli/mod.ts";
import { runReportCommand } from "../perf/report/mod.ts";

if (import.meta.main) {
  await runCli("report", () => runReportCommand(Deno.args));
}
