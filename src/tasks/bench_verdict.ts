/** `deno task bench:verdict`: see {@linkcode benchVerdictCommand}. */
import { runCli } from "../cli/mod.ts";
import { benchVerdictCommand } from "../perf/compare/bench_verdict.ts";

if (import.meta.main) {
  await runCli("bench:verdict", () => benchVerdictCommand(Deno.args));
}
