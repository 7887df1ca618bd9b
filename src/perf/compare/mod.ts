/**
 * The comparison commands: `deno task compare` (two archives, or a run and
 * the baseline), `deno task perf:ab` (two builds measured in alternated
 * pairs) and `deno task bench:verdict` (how often the verdict is right).
 * They run stacks and k6, so only the entry points in src/tasks load them.
 *
 * @module
 */
export { compareCommand } from "./compare_command.ts";
export { checkCheckout, perfAbCommand, perfEntry } from "./ab.ts";
export { benchVerdictCommand } from "./bench_verdict.ts";
