/**
 * `deno task assert [summary] [--baseline FILE] …`: judges a k6 summary
 * against the baseline (see {@linkcode runAssert}); exit 0 pass, 1
 * regression, 2 unusable input.
 */
import { runCli } from "../cli/mod.ts";
import { parseAssertArgs, runAssert } from "../perf/baseline/assert_command.ts";

if (import.meta.main) {
  await runCli(
    "assert",
    async () => (await runAssert(parseAssertArgs(Deno.args))).code,
  );
}
