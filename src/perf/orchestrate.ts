/**
 * `deno task perf`: provisions, starts the embedded stack (or targets
 * `--base-url`), runs the k6 scenario with summary export, raw samples and
 * k6's dashboard export, archives everything under
 * `perf/results/<UTC time>/` (or `<UTC time>/run-1..N/` with `--repeat N`,
 * fresh Redis state between runs), asserts the result against
 * `baseline.json`, appends each run to `perf/results/history.jsonl`, and
 * writes each run's verdict (`verdict.json`) and report page
 * (`report.html`, with `report.png` when chromium is installed).
 *
 * Every process started here is stopped on success, failure, Ctrl-C, and
 * when a component dies mid-run (the run then fails with that component's log).
 */
import { basename, dirname, join, relative } from "node:path";
import { runAssert } from "./baseline/assert_command.ts";
import { entriesOf, loadBaseline, selectEntries } from "./baseline/baseline.ts";
import { ConfigError, exitCodeFor } from "../errors/mod.ts";
import { workloadId } from "./workload/spec.ts";
import { loadSummary, type RunSummary } from "./summary.ts";
import { loadRunMetadata } from "./run_metadata.ts";
import {
  appendHistory,
  type HistoryEntry,
  historyEntry,
} from "./history/mod.ts";
import { linkLatest } from "./archive.ts";
import { type RunVerdict, writeReport, writeRunVerdict } from "./report/mod.ts";
import type { AssertResult } from "./baseline/assert.ts";
import { pathExists } from "../config/mod.ts";
import { type Api, SCENARIOS } from "./scenarios.ts";
import { runK6Once, type RunRecord } from "./k6_run.ts";
import { buildWorkload } from "./workload/build.ts";
import { describeVerdict, judgeProfile } from "./profiles/mod.ts";
import {
  K6_EXIT,
  type PerfOptions,
  resultsDir,
  runDirName,
  shownPath,
} from "./run_options.ts";
import {
  freshState,
  openSession,
  openWarmSession,
  type PerfSession,
  warmUp,
} from "./session.ts";

/** The outcome of {@linkcode runPerf}. */
export interface PerfOutcome {
  /** 0 pass, 1 regression/thresholds/interrupted, 2 unusable input. */
  code: number;
  /** The run folder, or the group folder of a `--repeat` run. */
  runDir: string;
  reason: string;
}

/** The outcome of {@linkcode runRepeats}. */
export interface RepeatOutcome {
  groupDir: string;
  records: RunRecord[];
  /** Set when the group stopped early (interrupt, component death). */
  interrupted?: string;
}

/**
 * Runs the scenario `runs` times back to back into `<groupDir>/run-1..N/`:
 * on one stack with fresh service state in Redis between runs (its logs go
 * once to `<groupDir>/logs/`), or with `o.freshStacks` on a stack of its own
 * per run (logs and warm-up under `<groupDir>/logs/stack-<i>/`).
 */
export async function runRepeats(
  o: PerfOptions,
  options: {
    runs: number;
    groupDir?: string;
    env?: Record<string, string>;
    k6?: string;
    say?: (line: string) => void;
    /** Called after each run (e.g. to print figures). */
    afterRun?: (r: RunRecord, index: number) => Promise<void> | void;
  },
): Promise<RepeatOutcome> {
  const say = options.say ?? ((l: string) => console.error(l));
  const groupDir = options.groupDir ?? join(resultsDir(), runDirName());
  await Deno.mkdir(join(groupDir, "logs"), { recursive: true });
  say(
    `perf: archiving ${options.runs} runs to ${shownPath(groupDir)}/${
      o.freshStacks ? " (a fresh stack for each)" : ""
    }`,
  );
  const records: RunRecord[] = [];
  let session: PerfSession | undefined;
  let stoppedBy: string | undefined;
  const open = (i: number) => {
    const stackDir = join(groupDir, "logs", `stack-${i}`);
    return openWarmSession(o, {
      logDir: o.freshStacks ? stackDir : join(groupDir, "logs"),
      warmupDir: o.freshStacks ? stackDir : groupDir,
      env: options.env,
      k6: options.k6,
      say,
      onSession: (s) => {
        session = s;
        // A stack closed on purpose between runs is no interruption.
        s.stopped.then((r) => {
          if (session === s) stoppedBy = r;
        });
      },
    });
  };
  try {
    let opened = await open(1);
    for (let i = 1; i <= options.runs; i++) {
      if ("reason" in opened) {
        return { groupDir, records, interrupted: opened.reason };
      }
      // Ctrl-C or a death between runs: don't start another one.
      if (stoppedBy) return { groupDir, records, interrupted: stoppedBy };
      if (i > 1 || opened.warm) {
        await freshState(session!, say, i === 2 && !o.freshStacks);
      }
      const rec = await runK6Once(session!, o, join(groupDir, `run-${i}`), {
        repeat: { index: i, of: options.runs, group: groupDir },
        say,
      });
      records.push(rec);
      if (rec.interrupted) {
        return { groupDir, records, interrupted: rec.reason };
      }
      await options.afterRun?.(rec, i);
      if (o.freshStacks && i < options.runs) {
        const old = session!;
        session = undefined;
        await old.close();
        opened = await open(i + 1);
      }
    }
    return { groupDir, records };
  } finally {
    await session?.close();
  }
}

/** Runs one perf run (or a `--repeat` group) end to end. */
export async function runPerf(
  o: PerfOptions,
  say: (line: string) => void = (l) => console.error(l),
): Promise<PerfOutcome> {
  const runDir = join(resultsDir(), runDirName());
  if (o.profile.profile !== "load") say(profileLine(o));
  o = await withWorkload(o, runDir, say);
  if (o.repeat > 1) return await runGroup(o, runDir, say);
  await Deno.mkdir(join(runDir, "logs"), { recursive: true });
  say(`perf: archiving to ${shownPath(runDir)}/`);
  const session = await openSession(o, { logDir: join(runDir, "logs"), say });
  if ("interrupted" in session) {
    say(`perf: run failed: ${session.interrupted}`);
    return { code: 1, runDir, reason: session.interrupted };
  }
  let rec: RunRecord;
  try {
    const warm = await warmUp(session, o, runDir, say);
    if (warm && !warm.interrupted) await freshState(session, say);
    rec = warm?.interrupted
      ? warm
      : await runK6Once(session, o, runDir, { say });
  } finally {
    await session.close();
  }
  if (rec.interrupted) {
    say(`perf: run failed: ${rec.reason}`);
    const reason = rec.reason ?? "interrupted";
    if (o.profile.profile === "load") {
      await recordHistory(runDir, undefined, "failed", reason);
    }
    await archiveVerdict(runDir, { verdict: "failed", reason, code: 1 }, say, {
      stopped: true,
    });
    return { code: 1, runDir, reason };
  }
  if (o.profile.profile !== "load") return await judgeByProfile(o, rec, say);
  return await judgeRun(o, rec, say, { link: true });
}

/** What a smoke, soak or spike run does and how it is judged, in one line. */
export function profileLine(o: PerfOptions): string {
  const p = o.profile;
  const what = p.profile === "smoke"
    ? `${o.rate} jobs/s for ${o.duration}; every job done and accurate, p95 ≤ ${p.sloS} s, no 5xx`
    : p.profile === "soak"
    ? `${o.rate} jobs/s for ${o.duration}; no process of the service growing over ${p.leakLimitMibPerHour} MiB/h, latency drift ≤ ${
      Math.round(p.driftLimit * 100)
    } %`
    : `${o.rate} jobs/s, ×${p.spikeFactor} from ${p.spikeAt} for ${p.spikeHold}, ${o.duration} in all; no 5xx, nothing lost, p95 ≤ ${p.sloS} s again within ${p.recoveryLimitS} s`;
  return `perf: --profile ${p.profile}: ${what}`;
}

/**
 * A smoke, soak or spike run judged by its profile (profile.json). These
 * runs stay out of the history and `latest.json`: the trend and the assert
 * compare load runs with each other.
 */
async function judgeByProfile(
  o: PerfOptions,
  rec: RunRecord,
  say: (line: string) => void,
): Promise<PerfOutcome> {
  const { runDir, k6Exit } = rec;
  const done = async (outcome: PerfOutcome, pass?: boolean) => {
    await archiveVerdict(runDir, {
      verdict: pass === undefined ? "failed" : pass ? "pass" : "regression",
      reason: outcome.reason,
      code: outcome.code,
    }, say);
    return outcome;
  };
  if (!(await pathExists(join(runDir, "summary.json")))) {
    return {
      code: 2,
      runDir,
      reason: `k6 exited with ${k6Exit} and wrote no summary; see k6.log`,
    };
  }
  await printFigures(o, join(runDir, "summary.json"), say);
  if (k6Exit !== 0) {
    return await done({
      code: k6Exit === K6_EXIT.invalidConfig ||
          k6Exit === K6_EXIT.scriptException
        ? 2
        : 1,
      runDir,
      reason: `k6 exited with ${k6Exit}; see k6.log`,
    });
  }
  const verdict = await judgeProfile(runDir, {
    api: o.api,
    profile: o.profile,
    sloGiven: o.sloGiven,
    workload: o.workloadBuilt !== undefined,
  });
  for (const line of describeVerdict(verdict)) say(`perf: ${line}`);
  return await done({
    code: verdict.pass ? 0 : 1,
    runDir,
    reason: verdict.pass
      ? `${verdict.profile} passed`
      : `${verdict.profile} failed: ${
        verdict.checks.filter((c) => !c.pass).map((c) => c.name).join(", ")
      }`,
  }, verdict.pass);
}

/**
 * Builds `o.workload` (a mix or a folder) into `<dir>/workload/` before
 * anything starts; the sample workload needs nothing.
 */
async function withWorkload(
  o: PerfOptions,
  dir: string,
  say: (line: string) => void,
): Promise<PerfOptions> {
  if (!o.workload || o.workload.kind === "sample") return o;
  if (o.assert && o.profile.profile === "load") {
    // Say it now rather than after the run: the assert would refuse it.
    const id = workloadId(o.workload);
    const baseline = await loadBaseline(o.baseline);
    const { selected } = selectEntries(
      entriesOf(baseline, o.baseline),
      o.api,
      id,
    );
    if (selected.length === 0) {
      throw new ConfigError(
        `${o.baseline}: has no keys for the ${id} workload, so its run ` +
          `can't be judged; run it with --no-assert, or add keys (definitions ` +
          `with "workload": "${id}", perf/README.md "Workloads")`,
      );
    }
  }
  const built = await buildWorkload(o.workload, join(dir, "workload"), say);
  return {
    ...o,
    workloadBuilt: { manifest: built.path, id: built.manifest.id },
  };
}

async function runGroup(
  o: PerfOptions,
  groupDir: string,
  say: (line: string) => void,
): Promise<PerfOutcome> {
  const outcomes: PerfOutcome[] = [];
  const group = await runRepeats(o, {
    runs: o.repeat,
    groupDir,
    say,
    afterRun: async (rec) => {
      outcomes.push(await judgeRun(o, rec, say, { link: true }));
    },
  });
  if (group.interrupted) {
    const last = group.records.at(-1);
    if (last?.interrupted) {
      await recordHistory(
        last.runDir,
        group.groupDir,
        "failed",
        group.interrupted,
      );
      await archiveVerdict(
        last.runDir,
        {
          verdict: "failed",
          reason: group.interrupted,
          code: 1,
        },
        say,
        { stopped: true },
      );
    }
    say(`perf: run failed: ${group.interrupted}`);
    return { code: 1, runDir: group.groupDir, reason: group.interrupted };
  }
  const worst = outcomes.reduce(
    (w, x) => (x.code === 2 || (x.code === 1 && w.code === 0) ? x : w),
    { code: 0, runDir: group.groupDir, reason: "" } as PerfOutcome,
  );
  say(
    `perf: ${o.repeat} runs archived in ${shownPath(group.groupDir)}/`,
  );
  if (worst.code !== 0) {
    return {
      code: worst.code,
      runDir: group.groupDir,
      reason: `${relative(group.groupDir, worst.runDir)}: ${worst.reason}`,
    };
  }
  return {
    code: 0,
    runDir: group.groupDir,
    reason: o.assert
      ? `all ${o.repeat} runs pass`
      : `k6 passed ${o.repeat} runs (assert skipped)`,
  };
}

/** Maps a finished run's k6 exit and assert to an outcome; records history. */
async function judgeRun(
  o: PerfOptions,
  rec: RunRecord,
  say: (line: string) => void,
  opts: { link: boolean },
): Promise<PerfOutcome> {
  const { runDir, k6Exit } = rec;
  const group = /^run-\d+$/.test(basename(runDir))
    ? dirname(runDir)
    : undefined;
  const done = async (
    outcome: PerfOutcome,
    verdict: HistoryEntry["verdict"],
    assert?: AssertResult,
  ) => {
    await recordHistory(runDir, group, verdict, outcome.reason);
    await archiveVerdict(runDir, {
      verdict,
      reason: outcome.reason,
      code: outcome.code,
      ...(assert ? { baseline: o.baseline, assert } : {}),
    }, say);
    return outcome;
  };
  const summaryPath = join(runDir, "summary.json");
  if (!(await pathExists(summaryPath))) {
    return await done({
      code: 2,
      runDir,
      reason: `k6 exited with ${k6Exit} and wrote no summary; see k6.log`,
    }, "failed");
  }
  if (opts.link) await linkLatest(runDir);
  await printFigures(o, summaryPath, say);
  if (k6Exit === K6_EXIT.invalidConfig || k6Exit === K6_EXIT.scriptException) {
    return await done({
      code: 2,
      runDir,
      reason: `k6 could not run the scenario (exit ${k6Exit}); see k6.log`,
    }, "failed");
  }
  if (k6Exit === K6_EXIT.externalAbort || k6Exit === K6_EXIT.scriptAborted) {
    return await done({
      code: 1,
      runDir,
      reason: `the k6 run was aborted (exit ${k6Exit}); see k6.log`,
    }, "failed");
  }
  if (!o.assert) {
    const ok = k6Exit === 0;
    return await done({
      code: ok ? 0 : 1,
      runDir,
      reason: ok ? "k6 passed (assert skipped)" : `k6 exit ${k6Exit}`,
    }, ok ? "not judged" : "failed");
  }
  let assertion;
  try {
    assertion = await runAssert({ summaryPath, baselinePath: o.baseline });
  } catch (error) {
    const reason = (error as Error).message;
    await recordHistory(runDir, group, "failed", reason);
    await archiveVerdict(runDir, {
      verdict: "failed",
      reason,
      code: exitCodeFor(error),
    }, say);
    throw error;
  }
  if (assertion.code !== 0) {
    return await done(
      {
        code: assertion.code,
        runDir,
        reason: "regression against the baseline",
      },
      "regression",
      assertion.result,
    );
  }
  // The assert read the thresholds from the summary (and judged the keys it
  // checks by interval when the baseline has distributions), so a k6 exit 99
  // it passed is covered by it; other exits still fail.
  if (
    k6Exit === K6_EXIT.thresholdsFailed && !assertion.result.thresholdsCovered
  ) {
    return await done(
      { code: 1, runDir, reason: "k6 thresholds failed" },
      "regression",
      assertion.result,
    );
  }
  if (k6Exit !== 0 && k6Exit !== K6_EXIT.thresholdsFailed) {
    return await done(
      { code: 1, runDir, reason: `k6 exited with ${k6Exit}` },
      "failed",
      assertion.result,
    );
  }
  return await done(
    { code: 0, runDir, reason: "pass" },
    "pass",
    assertion.result,
  );
}

/**
 * Writes the run's `verdict.json` and builds its report page (and
 * screenshot) — after k6 has finished, so it costs the measurement nothing.
 * Never fails the run: a problem is a warning. A run without a summary gets
 * neither (there is nothing to show); a run that was stopped (Ctrl-C, a
 * component died) gets no screenshot, so perf exits at once.
 */
async function archiveVerdict(
  runDir: string,
  verdict: RunVerdict,
  say: (line: string) => void,
  o: { stopped?: boolean } = {},
): Promise<void> {
  if (!(await pathExists(join(runDir, "summary.json")))) return;
  try {
    await writeRunVerdict(runDir, verdict);
    const r = await writeReport(runDir, { screenshot: !o.stopped });
    const shot = r.screenshot;
    say(
      `perf: report: ${shownPath(r.path)}${
        !shot
          ? ""
          : "skipped" in shot
          ? ` (no screenshot: ${shot.skipped})`
          : shot.check.rendered === "ok" && shot.check.errors.length === 0
          ? `, screenshot ${basename(shot.path)}`
          : `, screenshot ${
            basename(shot.path)
          }; warning: in chromium the page ${
            shot.check.rendered === "ok" ? "rendered" : "did not render"
          }${
            shot.check.errors.length ? `: ${shot.check.errors.join("; ")}` : ""
          }`
      }`,
    );
  } catch (error) {
    say(
      `perf: warning: no report page for ${shownPath(runDir)}: ${
        (error as Error).message
      }`,
    );
  }
}

/** Appends the run's line to `history.jsonl` (never fails the run). */
async function recordHistory(
  runDir: string,
  group: string | undefined,
  verdict: HistoryEntry["verdict"],
  reason?: string,
): Promise<void> {
  try {
    const summary = await loadSummary(join(runDir, "summary.json")).catch(
      () => undefined,
    );
    const meta = await loadRunMetadata(join(runDir, "summary.json")).catch(
      () => undefined,
    );
    await appendHistory(
      resultsDir(),
      historyEntry({
        run: relative(resultsDir(), runDir),
        group: group ? relative(resultsDir(), group) : undefined,
        summary,
        metadata: meta?.metadata,
        verdict,
        reason,
      }),
    );
  } catch (error) {
    console.error(`perf: warning: could not append to the history: ${error}`);
  }
}

/** Per-class figures of a workload run, one line per class. */
function printClassFigures(
  summary: RunSummary,
  say: (l: string) => void,
): void {
  const classes = [...summary.metrics.keys()]
    .map((k) => /^transcription_success_rate\{class:(.+)\}$/.exec(k)?.[1])
    .filter((c): c is string => c !== undefined);
  say(
    "perf: per class: jobs, latency p50 / p95 s, processing p95 ms, success, WER avg",
  );
  const fmt = (v: number | undefined, digits: number) =>
    v === undefined ? "—" : v.toFixed(digits);
  for (const c of classes) {
    const m = (name: string) => summary.metrics.get(`${name}{class:${c}}`);
    // A Trend without samples exports zeros: show those as unmeasured.
    const count = (name: string) => {
      const v = m(name)?.values;
      return (v?.passes ?? 0) + (v?.fails ?? 0);
    };
    const done = (m("transcription_success_rate")?.values.passes ?? 0) > 0;
    const judged = count("transcription_accuracy") > 0;
    const latency = done
      ? m("transcription_latency_seconds")?.values
      : undefined;
    const processing = done
      ? m("server_processing_ms")?.values["p(95)"]
      : undefined;
    say(
      `  ${c.padEnd(12)} ${count("transcription_success_rate")}, ${
        fmt(latency?.med, 3)
      } / ${fmt(latency?.["p(95)"], 3)} s, ${fmt(processing, 0)} ms, ${
        fmt(m("transcription_success_rate")?.values.rate, 3)
      }, ${
        judged
          ? fmt(m("transcription_word_error_rate")?.values.avg, 3)
          : "— (no transcript)"
      }`,
    );
  }
}

/**
 * Prints the run's key figures, and each class's for a workload, from its
 * summary (read once; nothing is printed when it can't be read).
 */
async function printFigures(
  o: PerfOptions,
  summaryPath: string,
  say: (l: string) => void,
): Promise<void> {
  const summary = await loadSummary(summaryPath).catch(() => undefined);
  if (!summary) return;
  printKeyFigures(
    summary,
    o.api,
    say,
    o.workloadBuilt
      ? `workload_mix, workload ${o.workloadBuilt.id}`
      : undefined,
  );
  if (o.workloadBuilt) printClassFigures(summary, say);
}

/** Prints the run's key figures (those of its scenario) as a table. */
function printKeyFigures(
  summary: RunSummary,
  api: Api,
  say: (l: string) => void,
  scenario = SCENARIOS[api].k6Scenario,
): void {
  say(`perf: key figures (${scenario}, --api ${api})`);
  for (const { label, metric, stat, unit } of SCENARIOS[api].figures) {
    const v = summary.metrics.get(metric)?.values[stat] ??
      (metric === "dropped_iterations" ? 0 : undefined);
    const text = v === undefined
      ? "—"
      : `${Number.isInteger(v) ? v : v.toFixed(3)} ${unit}`;
    say(`  ${label.padEnd(28)} ${text}`);
  }
}
