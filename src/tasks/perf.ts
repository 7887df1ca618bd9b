/**
 * `deno task perf [--api native|openai] [--workload sample|mixed|SPEC.json|DIR] [--rate N] [--duration D] [--vus N]
 * [--max-vus N] [--model NAME] [--poll-interval S] [--max-polls N]
 * [--workers N] [--long-poll] [--base-url URL] [--baseline FILE]
 * [--no-assert] [--repeat N [--fresh-stacks]] [--warmup D]
 * [--fault-processing-delay-ms MS] [--fault-api-delay-ms MS]`
 *
 * `--api openai` drives the OpenAI-compatible route (one synchronous
 * `POST /v1/audio/transcriptions` per iteration, perf/openai_scenario.js)
 * instead of the native chunked upload and polling; the polling flags don't
 * apply to it.
 *
 * `deno task perf --find-capacity [--api native|openai] [--step-duration D]
 * [--start-rate N] [--rate-factor F] [--max-rate N] [--resolution N]
 * [--budget D] [--engine-jobs N] [--workers N] [--model NAME] [--warmup D]
 * [--poll-interval S] [--max-polls N]`: measures the engine alone, then
 * searches the highest arrival rate the embedded stack sustains (success ≥
 * 99.9 %, p95 ≤ 2 s, throughput keeping up) with short k6 steps of the
 * chosen protocol (native: long polling); writes
 * `capacity.json` and `capacity.svg` and prints `capacity: <rate> jobs/s
 * (engine <x> jobs/s, ratio <r>)` on stdout.
 *
 * Exit codes: 0 pass (a capacity was found); 1 regression, k6 thresholds
 * failed, no rate met the capacity criteria, or the run was interrupted; 2
 * unusable input, configuration or environment.
 */
import { parseFlags, runCli } from "../cli/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { runPerf } from "../perf/orchestrate.ts";
import { perfOptionsFrom, RUN_FLAGS } from "../perf/run_options.ts";
import { capacityOptionsFrom, runCapacity } from "../perf/capacity/run.ts";
import { resultLine } from "../perf/capacity/mod.ts";
import { describeVerdict, stressVerdict } from "../perf/profiles/mod.ts";

if (import.meta.main) {
  await runCli("perf", async () => {
    const parsed = parseFlags({
      args: Deno.args,
      options: {
        ...RUN_FLAGS,
        api: { type: "string" },
        workload: { type: "string" },
        "user-id": { type: "string" },
        "base-url": { type: "string" },
        baseline: { type: "string" },
        "no-assert": { type: "boolean" },
        "fresh-stacks": { type: "boolean" },
        repeat: { type: "string" },
        "fault-processing-delay-ms": { type: "string" },
        "fault-api-delay-ms": { type: "string" },
        "fault-leak-kib-per-job": { type: "string" },
        profile: { type: "string" },
        slo: { type: "string" },
        "spike-factor": { type: "string" },
        "spike-at": { type: "string" },
        "spike-hold": { type: "string" },
        "recovery-limit": { type: "string" },
        "leak-limit": { type: "string" },
        "drift-limit": { type: "string" },
        "find-capacity": { type: "boolean" },
        "step-duration": { type: "string" },
        "start-rate": { type: "string" },
        "rate-factor": { type: "string" },
        "max-rate": { type: "string" },
        resolution: { type: "string" },
        budget: { type: "string" },
        "engine-jobs": { type: "string" },
      },
    });
    const stress = parsed.values.profile === "stress";
    if (parsed.values["find-capacity"] || stress) {
      const { profile: _, ...flags } = parsed.values;
      const capacity = await runCapacity(capacityOptionsFrom(flags));
      if (stress) {
        for (const line of describeVerdict(stressVerdict(capacity.report))) {
          console.error(`perf: ${line}`);
        }
      }
      console.log(resultLine(capacity.report));
      return capacity.code;
    }
    const searchOnly = [
      "step-duration",
      "start-rate",
      "rate-factor",
      "max-rate",
      "resolution",
      "budget",
      "engine-jobs",
    ].find((f) => parsed.values[f as keyof typeof parsed.values] !== undefined);
    if (searchOnly) {
      throw new ConfigError(`--${searchOnly} needs --find-capacity`);
    }
    const options = perfOptionsFrom(parsed.values);
    const outcome = await runPerf(options);
    console.error(
      `perf: ${outcome.code === 0 ? "PASS" : "FAIL"}: ${outcome.reason}`,
    );
    return outcome.code;
  });
}
