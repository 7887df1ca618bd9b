/**
 * `deno task calibrate [--runs K] [--duration 30s] [--rate N] [--long-poll]
 * [--workers N] [--from GROUP_DIR]`: runs the same build K times back to back
 * on one stack (like `perf --repeat K`, no assert) and reports each compared
 * metric's run-to-run noise on this machine — the CV of the per-run
 * statistic, the widths of A-vs-A intervals of consecutive runs, the worst
 * A-vs-A ratio — and the tolerance that noise calls for. `--from` analyses
 * an existing group instead of running. Writes `calibration.json` into the
 * group. Exit 0 done, 1 a run failed, 2 unusable input.
 */
import { join } from "node:path";
import { parseFlags, runCli } from "../cli/mod.ts";
import { ConfigError, ExitCode } from "../errors/mod.ts";
import { calibrate, loadArchive, renderCalibration } from "../verdict/mod.ts";
import { runRepeats } from "../perf/orchestrate.ts";
import { perfOptionsFrom, RUN_FLAGS, shownPath } from "../perf/run_options.ts";

const USAGE =
  "usage: deno task calibrate [--runs K] [--duration 30s] [--rate N] [--long-poll] [--workers N] [--fresh-stacks] [--from GROUP_DIR]";

/** Analyses a group folder; prints and writes `calibration.json`. */
export async function calibrateGroup(
  groupDir: string,
  out: (line: string) => void = console.log,
): Promise<void> {
  const archive = await loadArchive(groupDir);
  if (archive.runs.length < 2) {
    throw new ConfigError(
      `${groupDir}: calibration needs at least 2 runs with samples, found ${archive.runs.length}`,
    );
  }
  const c = calibrate(archive.runs);
  out(renderCalibration(c));
  await Deno.writeTextFile(
    join(groupDir, "calibration.json"),
    JSON.stringify(
      {
        runs: c.runs,
        confidence: c.confidence,
        pairs: c.pairs,
        metrics: Object.fromEntries(c.rows.map((r) => [r.spec.key, {
          metric: r.spec.metric,
          stat: r.spec.stat,
          unit: r.spec.unit,
          per_run: r.perRun,
          cv: r.cv,
          a_vs_a_widths: r.widths,
          worst_a_vs_a_ratio: r.worstRatio,
          worst_a_vs_a_lower_end: r.worstLo,
          false_alarms: r.falseAlarms,
          tolerance: r.spec.tolerance,
          suggested_tolerance: r.suggested,
          detectable_slowdown: r.detectable,
          pair_sd: r.pairSd,
          paired_tolerance: r.spec.pairedTolerance ?? r.spec.tolerance,
          paired_detectable_slowdown: r.pairedDetects,
        }])),
      },
      null,
      2,
    ) + "\n",
  );
}

if (import.meta.main) {
  await runCli("calibrate", async () => {
    const parsed = parseFlags({
      args: Deno.args,
      options: {
        ...RUN_FLAGS,
        runs: { type: "string", default: "5" },
        "fresh-stacks": { type: "boolean" },
        from: { type: "string" },
      },
    }, USAGE);
    const v = parsed.values;
    if (v.from) {
      await calibrateGroup(v.from);
      return ExitCode.ok;
    }
    const runs = Number(v.runs);
    if (!Number.isInteger(runs) || runs < 2 || runs > 200) {
      throw new ConfigError(
        `--runs must be an integer in 2..200, got ${v.runs}`,
      );
    }
    const o = perfOptionsFrom({
      ...v,
      duration: v.duration ?? "30s",
      "no-assert": true,
      repeat: String(runs),
    });
    const group = await runRepeats(o, { runs });
    if (group.interrupted) {
      console.error(`calibrate: stopped: ${group.interrupted}`);
      return ExitCode.failed;
    }
    const bad = group.records.filter((r) => r.k6Exit !== 0 && r.k6Exit !== 99);
    if (bad.length) {
      console.error(
        `calibrate: k6 failed in ${bad.map((r) => r.runDir).join(", ")}`,
      );
      return ExitCode.failed;
    }
    await calibrateGroup(group.groupDir);
    console.error(
      `calibrate: ${runs} runs in ${shownPath(group.groupDir)}/`,
    );
    return ExitCode.ok;
  });
}
