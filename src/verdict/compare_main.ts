/**
 * `deno task compare A B [--markdown FILE] [--html FILE] [--confidence 0.95]`:
 * compares two run archives (a run folder, or a `--repeat` group of runs).
 * Either side may be a baseline with distributions instead:
 * `compare baseline.json B`, or `compare B --baseline baseline.json`
 * (the baseline is then A). Exit 0 no regression, 1 regression, 2 unusable
 * input. Under GitHub Actions the markdown table is also appended to
 * `$GITHUB_STEP_SUMMARY`.
 */
import { parseArgs } from "node:util";
import { runCli } from "../cli/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { type Baseline, definitionOf, loadBaseline } from "../perf/mod.ts";
import {
  compareSamples,
  type CompareSpec,
  DEFAULT_SPECS,
  loadArchive,
} from "./compare.ts";
import { runsFromDistributions, statForK6 } from "./distributions.ts";
import { renderHtml, renderMarkdown, renderTable } from "./render.ts";
import type { RunSamples } from "./samples.ts";

const USAGE =
  "usage: deno task compare <archive A | baseline.json> <archive B> [--baseline FILE] [--html FILE] [--markdown FILE] [--confidence 0.95]";

/** The runs recorded in a baseline's distributions. */
export function baselineRuns(baseline: Baseline, file: string): RunSamples[] {
  if (!baseline.distributions) {
    throw new ConfigError(
      `${file}: has no distributions to compare with; record it from a ` +
        `--repeat group with \`deno task baseline:update <group folder>\``,
    );
  }
  return runsFromDistributions(baseline.distributions);
}

/**
 * The default specs with the baseline's tolerances where one of its ratio
 * keys measures the same metric and statistic.
 */
export function specsForBaseline(baseline: Baseline): CompareSpec[] {
  return DEFAULT_SPECS.map((spec) => {
    for (const [key, tolerance] of Object.entries(baseline.tolerances)) {
      const d = definitionOf(baseline, key);
      if (
        d && d.kind === "ratio" && d.metric === spec.metric &&
        statForK6(d.stat) === spec.stat
      ) {
        const t = d.direction === "lower_is_better" ? tolerance : 1 / tolerance;
        return { ...spec, key: `${spec.key} (${key})`, tolerance: t };
      }
    }
    return spec;
  });
}

async function isBaselineFile(path: string): Promise<boolean> {
  if (!path.endsWith(".json")) return false;
  return (await Deno.stat(path).catch(() => null))?.isFile ?? false;
}

if (import.meta.main) {
  await runCli("compare", async () => {
    let parsed;
    try {
      parsed = parseArgs({
        args: Deno.args,
        allowPositionals: true,
        options: {
          markdown: { type: "string" },
          html: { type: "string" },
          confidence: { type: "string", default: "0.95" },
          baseline: { type: "string" },
        },
      });
    } catch (error) {
      throw new ConfigError(`${(error as Error).message}; ${USAGE}`);
    }
    const positionals = [
      ...parsed.values.baseline ? [parsed.values.baseline] : [],
      ...parsed.positionals,
    ];
    const [a, b] = positionals;
    if (!a || !b || positionals.length > 2) throw new ConfigError(USAGE);
    const confidence = Number(parsed.values.confidence);
    if (!(confidence > 0.5 && confidence < 1)) {
      throw new ConfigError(
        `--confidence must be in (0.5, 1), got ${parsed.values.confidence}`,
      );
    }
    if (await isBaselineFile(b)) {
      throw new ConfigError(
        `${b}: a baseline can only be side A; ${USAGE}`,
      );
    }
    let sideA;
    let specs: readonly CompareSpec[] = DEFAULT_SPECS;
    if (await isBaselineFile(a)) {
      const baseline = await loadBaseline(a);
      sideA = {
        label: `${a} (${
          baseline.distributions?.runs ?? 0
        } runs, captured ${baseline.captured_at})`,
        runs: baselineRuns(baseline, a),
      };
      specs = specsForBaseline(baseline);
    } else {
      sideA = await loadArchive(a);
    }
    const c = compareSamples(sideA, await loadArchive(b), {
      confidence,
      specs,
    });
    console.log(renderTable(c));
    const md = renderMarkdown(c);
    if (parsed.values.markdown) {
      await Deno.writeTextFile(parsed.values.markdown, md);
    }
    const summary = Deno.env.get("GITHUB_STEP_SUMMARY");
    if (Deno.env.get("GITHUB_ACTIONS") === "true" && summary) {
      await Deno.writeTextFile(summary, md, { append: true });
    }
    if (parsed.values.html) {
      await Deno.writeTextFile(parsed.values.html, renderHtml(c));
      console.error(`compare: wrote ${parsed.values.html}`);
    }
    return c.regression ? 1 : 0;
  });
}
