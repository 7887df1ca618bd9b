/**
 * `deno task perf [--rate N] [--duration D] [--vus N] [--max-vus N]
 * [--model NAME] [--poll-interval S] [--max-polls N] [--workers N]
 * [--long-poll] [--base-url URL] [--baseline FILE] [--no-assert]
 * [--repeat N] [--warmup D] [--fault-processing-delay-ms MS]
 * [--fault-api-delay-ms MS]`
 *
 * Exit codes: 0 pass; 1 regression, k6 thresholds failed or the run was
 * interrupted; 2 unusable input, configuration or environment.
 */
import { parseArgs } from "node:util";
import { runCli } from "../cli/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { perfOptionsFrom, runPerf } from "./orchestrate.ts";

if (import.meta.main) {
  await runCli("perf", async () => {
    let parsed;
    try {
      parsed = parseArgs({
        args: Deno.args,
        options: {
          rate: { type: "string" },
          duration: { type: "string" },
          vus: { type: "string" },
          "max-vus": { type: "string" },
          model: { type: "string" },
          "poll-interval": { type: "string" },
          "max-polls": { type: "string" },
          workers: { type: "string" },
          "user-id": { type: "string" },
          "long-poll": { type: "boolean" },
          "base-url": { type: "string" },
          baseline: { type: "string" },
          "no-assert": { type: "boolean" },
          repeat: { type: "string" },
          warmup: { type: "string" },
          "fault-processing-delay-ms": { type: "string" },
          "fault-api-delay-ms": { type: "string" },
        },
      });
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    const options = perfOptionsFrom(parsed.values);
    const outcome = await runPerf(options);
    console.error(
      `perf: ${outcome.code === 0 ? "PASS" : "FAIL"}: ${outcome.reason}`,
    );
    return outcome.code;
  });
}
