/**
 * `deno task trend [--history FILE] [--out FILE] [--last N]
 * [--api native|openai]`: draws `perf/results/history.jsonl` as an SVG chart
 * (latency p50/p95, throughput, success rate per run; regressions marked),
 * by default `perf/results/trend.svg`. Only the runs of one protocol are
 * drawn (`--api`, default native). Exit 0 written, 2 no usable history.
 */
import { join } from "node:path";
import { parseFlags, runCli } from "../cli/mod.ts";
import { ConfigError, ExitCode } from "../errors/mod.ts";
import {
  entriesOfApi,
  HISTORY_FILE,
  loadHistory,
} from "../perf/history/mod.ts";
import { type Api, APIS } from "../perf/scenarios.ts";
import { resultsDir } from "../perf/run_options.ts";
import { renderTrend } from "../perf/history/mod.ts";

const USAGE =
  "usage: deno task trend [--history FILE] [--out FILE] [--last N] [--api native|openai]";

if (import.meta.main) {
  await runCli("trend", async () => {
    const parsed = parseFlags({
      args: Deno.args,
      options: {
        history: { type: "string" },
        out: { type: "string" },
        last: { type: "string" },
        api: { type: "string" },
      },
    }, USAGE);
    const api = parsed.values.api ?? "native";
    if (!APIS.includes(api as Api)) {
      throw new ConfigError(
        `--api must be one of ${APIS.join(", ")}, got "${api}"; ${USAGE}`,
      );
    }
    const path = parsed.values.history ?? join(resultsDir(), HISTORY_FILE);
    const outPath = parsed.values.out ?? join(resultsDir(), "trend.svg");
    const { entries, skipped } = await loadHistory(path);
    if (skipped.length) {
      console.error(
        `trend: warning: ${path}: skipped invalid line(s) ${
          skipped.join(", ")
        }`,
      );
    }
    let shown = entriesOfApi(entries, api as Api);
    if (parsed.values.last !== undefined) {
      const last = Number(parsed.values.last);
      if (!Number.isInteger(last) || last < 1) {
        throw new ConfigError(
          `--last must be a positive integer, got ${parsed.values.last}`,
        );
      }
      shown = entries.slice(-last);
    }
    await Deno.writeTextFile(outPath, renderTrend(shown));
    const regressions = shown.filter((e) => e.verdict === "regression").length;
    console.log(
      `trend: wrote ${outPath} (${shown.length} ${api} runs, ${regressions} regression(s))`,
    );
    return ExitCode.ok;
  });
}
