/**
 * `deno task compare A B [--markdown FILE] [--html FILE] [--confidence 0.95]`:
 * compares two run archives (a run folder, or a `--repeat` group of runs).
 * Exit 0 no regression, 1 regression, 2 unusable input. Under GitHub Actions
 * the markdown table is also appended to `$GITHUB_STEP_SUMMARY`.
 */
import { parseArgs } from "node:util";
import { runCli } from "../cli/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { compareSamples, loadArchive } from "./compare.ts";
import { renderHtml, renderMarkdown, renderTable } from "./render.ts";

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
        },
      });
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    const [a, b] = parsed.positionals;
    if (!a || !b || parsed.positionals.length > 2) {
      throw new ConfigError(
        "usage: deno task compare <archive A> <archive B> [--html FILE] [--markdown FILE]",
      );
    }
    const confidence = Number(parsed.values.confidence);
    if (!(confidence > 0.5 && confidence < 1)) {
      throw new ConfigError(
        `--confidence must be in (0.5, 1), got ${parsed.values.confidence}`,
      );
    }
    const c = compareSamples(await loadArchive(a), await loadArchive(b), {
      confidence,
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
