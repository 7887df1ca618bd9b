/**
 * `deno task bench:words [--seconds 120] [--model NAME] [--piece-max-s S]`:
 * how far the engine's word timestamps (`timestamp_granularities[]=word`
 * on /v1) fall from where the speech really starts and ends, on a
 * recording built from the committed clips (no espeak-ng needed). Prints
 * one JSON line: clips, words, onset and offset errors in ms (median, p95,
 * median signed bias), words lying in pauses, WER. Pieces are cut and gated
 * as the workers do (`PIECE_MAX_S`, `PIECE_MIN_LOGPROB`, `PIECE_FALLBACK` from the environment;
 * `--piece-max-s` overrides the first).
 *
 * Exit 0 done, 2 a bad flag or a model that is not installed.
 *
 * @module
 */
import { parseFlags, runCli } from "../cli/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { parseEnv, WorkerConfigSchema } from "../config/mod.ts";
import { DEFAULT_MODEL, modelFilePath } from "../models/mod.ts";
import { measureWordTiming } from "../accuracy/mod.ts";

const USAGE =
  "usage: deno task bench:words [--seconds N] [--model NAME] [--piece-max-s S]";

async function main(): Promise<number> {
  // The workers' settings from this environment: pieces cut and gated as theirs.
  const WORKERS = parseEnv(WorkerConfigSchema);
  const { values } = parseFlags({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "120" },
      model: { type: "string", default: DEFAULT_MODEL },
      "piece-max-s": { type: "string", default: String(WORKERS.PIECE_MAX_S) },
    },
  }, USAGE);
  const seconds = Number(values.seconds);
  const pieceMaxS = Number(values["piece-max-s"]);
  if (!(seconds >= 5 && seconds <= 3600)) {
    throw new ConfigError(`--seconds must be in 5..3600; ${USAGE}`);
  }
  if (!(pieceMaxS >= 2 && pieceMaxS <= 30)) {
    throw new ConfigError(`--piece-max-s must be in 2..30; ${USAGE}`);
  }
  console.error(
    `bench:words: transcribing ${seconds} s of the committed clips with word timestamps (about ${
      Math.ceil(seconds / 20)
    } s on 2 cores)`,
  );
  const result = await measureWordTiming({
    modelPath: modelFilePath(values.model),
    seconds,
    pieceMaxS,
    minAvgLogprob: WORKERS.PIECE_MIN_LOGPROB,
    fallback: WORKERS.PIECE_FALLBACK,
  });
  console.log(JSON.stringify({ model: values.model, ...result }));
  return 0;
}

if (import.meta.main) await runCli("bench:words", main);
