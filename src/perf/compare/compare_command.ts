/**
 * `deno task compare A B [--paired] [--markdown FILE] [--html FILE]
 * [--confidence 0.95]`: compares two run archives (a run folder, or a folder
 * of runs such as a `--repeat` group). `--paired`: the archives hold runs of
 * the two builds measured alternately (A1 B1 A2 B2 …), and run i of A is
 * compared with run i of B (see `ratioInterval`), with the paired tolerances.
 * Either side may be a baseline with distributions instead:
 * `compare baseline.json B`, or `compare B --baseline baseline.json`
 * (the baseline is then A). Exit 0 no regression, 1 regression, 2 unusable
 * input. Under GitHub Actions the markdown table is also appended to
 * `$GITHUB_STEP_SUMMARY`.
 */
import { parseFlags } from "../../cli/mod.ts";
import { ConfigError } from "../../errors/mod.ts";
import { join } from "node:path";
import {
  type Baseline,
  definitionOf,
  loadBaseline,
  loadRunMetadata,
} from "../mod.ts";
import {
  compareSamples,
  type CompareSpec,
  type Comparison,
  DEFAULT_SPECS,
  loadArchive,
  pairingProblems,
} from "../../verdict/mod.ts";
import { runsFromDistributions, statForK6 } from "../../verdict/mod.ts";
import { renderHtml, renderMarkdown, renderTable } from "../../verdict/mod.ts";
import type { RunSamples } from "../../verdict/mod.ts";

const USAGE =
  "usage: deno task compare <archive A | baseline.json> <archive B> [--paired] [--baseline FILE] [--html FILE] [--markdown FILE] [--confidence 0.95]";

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

/**
 * Warns on stderr about pairs of run folders that were not measured one after
 * the other (by their metadata's `started_at`; see `pairingProblems`).
 */
export async function warnUnpaired(
  a: string[],
  b: string[],
  name: string,
): Promise<void> {
  const starts = async (folders: string[]) => {
    const out = [];
    for (const f of folders) {
      const m = await loadRunMetadata(join(f, "summary.json"));
      const t = Date.parse(m?.metadata.started_at ?? "");
      out.push(Number.isFinite(t) ? t : undefined);
    }
    return out;
  };
  for (const problem of pairingProblems(await starts(a), await starts(b))) {
    console.error(
      `${name}: warning: ${problem} — pairs were not measured one after the other, so the machine's drift does not cancel`,
    );
  }
}

/**
 * Prints the table on stdout, writes the markdown (`markdown`, and under
 * GitHub Actions `$GITHUB_STEP_SUMMARY`) and the HTML page (`html`).
 */
export async function publish(
  c: Comparison,
  to: { markdown?: string; html?: string },
  name: string,
): Promise<void> {
  console.log(renderTable(c));
  const md = renderMarkdown(c);
  if (to.markdown) await Deno.writeTextFile(to.markdown, md);
  const summary = Deno.env.get("GITHUB_STEP_SUMMARY");
  if (Deno.env.get("GITHUB_ACTIONS") === "true" && summary) {
    await Deno.writeTextFile(summary, md, { append: true });
  }
  if (to.html) {
    await Deno.writeTextFile(to.html, renderHtml(c));
    console.error(`${name}: wrote ${to.html}`);
  }
}

async function isBaselineFile(path: string): Promise<boolean> {
  if (!path.endsWith(".json")) return false;
  return (await Deno.stat(path).catch(() => null))?.isFile ?? false;
}

/**
 * `deno task compare A B …`: the verdict of two run archives. Returns the exit code.
 */
export async function compareCommand(
  args: readonly string[],
): Promise<number> {
  const parsed = parseFlags({
    args: [...args],
    allowPositionals: true,
    options: {
      markdown: { type: "string" },
      html: { type: "string" },
      confidence: { type: "string", default: "0.95" },
      baseline: { type: "string" },
      paired: { type: "boolean", default: false },
    },
  }, USAGE);
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
  const paired = parsed.values.paired;
  let sideA;
  let specs: readonly CompareSpec[] = DEFAULT_SPECS;
  if (await isBaselineFile(a)) {
    if (paired) {
      throw new ConfigError(
        `${a}: --paired compares two archives of runs measured alternately; a baseline's runs have no partners`,
      );
    }
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
  const sideB = await loadArchive(b);
  if (paired && "folders" in sideA) {
    await warnUnpaired(sideA.folders, sideB.folders, "compare");
  }
  const c = compareSamples(sideA, sideB, { confidence, specs, paired });
  await publish(c, parsed.values, "compare");
  return c.regression ? 1 : 0;
}
