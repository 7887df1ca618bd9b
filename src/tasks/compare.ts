/** `deno task compare A B`: see {@linkcode compareCommand}. */
import { runCli } from "../cli/mod.ts";
import { compareCommand } from "../perf/compare/compare_command.ts";

if (import.meta.main) await runCli("compare", () => compareCommand(Deno.args));
