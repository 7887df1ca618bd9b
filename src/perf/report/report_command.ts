/**
 * `deno task report RUN_DIR [--no-screenshot]`: rebuilds a run's
 * `report.html` from its archive (and `report.png` when chromium is
 * installed); a `--repeat` group's folder rebuilds each of its runs. Exit 0
 * written, 1 the page reported errors in the browser, 2 not a run folder.
 */
import { join } from "node:path";
import { parseFlags } from "../../cli/mod.ts";
import { ConfigError, ExitCode } from "../../errors/mod.ts";
import { pathExists } from "../../config/mod.ts";
import { writeReport } from "./write_report.ts";

const USAGE = "usage: deno task report RUN_DIR [--no-screenshot]";

/** The run folders of `dir`: itself, or a group's `run-N` folders in order. */
async function runFolders(dir: string): Promise<string[]> {
  if (await pathExists(join(dir, "summary.json"))) return [dir];
  const runs: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory && /^run-\d+$/.test(e.name)) runs.push(e.name);
    }
  } catch (error) {
    throw new ConfigError(`${dir}: cannot read the folder (${error})`);
  }
  runs.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  // Not a group either: let the loader name the missing summary.
  return runs.length ? runs.map((r) => join(dir, r)) : [dir];
}

/**
 * Runs the command with `args`; returns the exit code.
 * @throws {ConfigError} (exit 2) for bad arguments or a folder that is not a run.
 */
export async function runReportCommand(
  args: string[],
  say: (line: string) => void = (l) => console.error(l),
): Promise<number> {
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    options: { "no-screenshot": { type: "boolean" } },
  }, USAGE);
  if (parsed.positionals.length !== 1) {
    throw new ConfigError(
      `expected one run folder, got ${parsed.positionals.length}; ${USAGE}`,
    );
  }
  let code: number = ExitCode.ok;
  for (const dir of await runFolders(parsed.positionals[0]!)) {
    const r = await writeReport(dir, {
      screenshot: !parsed.values["no-screenshot"],
    });
    say(`report: wrote ${r.path}`);
    if (r.screenshot && "skipped" in r.screenshot) {
      say(`report: no screenshot: ${r.screenshot.skipped}`);
    } else if (r.screenshot) {
      const { check } = r.screenshot;
      say(
        `report: wrote ${r.screenshot.path} (in chromium: ${check.rendered}${
          check.errors.length ? `; ${check.errors.join("; ")}` : ""
        })`,
      );
      if (check.rendered !== "ok" || check.errors.length) {
        code = ExitCode.failed;
      }
    }
  }
  return code;
}
