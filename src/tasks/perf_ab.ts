/** `deno task perf:ab <other checkout>`: see {@linkcode perfAbCommand}. */
import { runCli } from "../cli/mod.ts";
import { perfAbCommand } from "../perf/compare/ab.ts";

if (import.meta.main) await runCli("perf:ab", () => perfAbCommand(Deno.args));
