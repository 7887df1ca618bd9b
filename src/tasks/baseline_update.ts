/**
 * `deno task baseline:update …`: records `baseline.json` from runs (see
 * {@linkcode runBaselineUpdate}).
 */
import { runCli } from "../cli/mod.ts";
import {
  parseBaselineUpdateArgs,
  runBaselineUpdate,
} from "../perf/baseline/update_command.ts";

if (import.meta.main) {
  await runCli(
    "baseline:update",
    () => runBaselineUpdate(parseBaselineUpdateArgs(Deno.args)),
  );
}
