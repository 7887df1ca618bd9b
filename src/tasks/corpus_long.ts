/**
 * `deno task corpus:long [--check] [--recordings 2min,8min]`: speaks the
 * committed texts `assets/long/<name>.txt` with espeak-ng into
 * `.cache/corpus/long/<name>.wav` (+ `<name>.txt`, `<name>.json`).
 *
 * Without `--check` every recording is regenerated. With `--check` each is
 * spoken again and compared byte for byte with the cached WAV, writing
 * nothing: exit 1 when one differs or is missing. Exit 2 when espeak-ng is
 * missing or a flag is bad.
 *
 * @module
 */
import { parseFlags, runCli } from "../cli/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import {
  checkLongRecording,
  ensureLongRecording,
  EspeakMissingError,
  espeakVersion,
  LONG_RECORDINGS,
} from "../bench/long_corpus.ts";

const USAGE = "usage: deno task corpus:long [--check] [--recordings 2min,8min]";

async function main(): Promise<number> {
  const { values } = parseFlags({
    args: Deno.args,
    options: {
      check: { type: "boolean", default: false },
      recordings: { type: "string", default: LONG_RECORDINGS.join(",") },
    },
  }, USAGE);
  const names = values.recordings.split(",").map((s) => s.trim()).filter(
    Boolean,
  );
  if (names.length === 0) {
    throw new ConfigError(`--recordings is empty; ${USAGE}`);
  }
  let espeak: string;
  try {
    espeak = await espeakVersion();
  } catch (error) {
    if (error instanceof EspeakMissingError) {
      console.error(
        `corpus:long: ${error.message}; install espeak-ng (Debian: apt-get install espeak-ng)`,
      );
      return 2;
    }
    throw error;
  }
  console.error(`corpus:long: ${espeak}`);
  let bad = 0;
  for (const name of names) {
    try {
      if (values.check) {
        const c = await checkLongRecording(name);
        if (c.status !== "identical") bad++;
        console.log(`${name}: ${c.status} (sha256 ${c.wav_sha256})`);
      } else {
        const r = await ensureLongRecording(name, { force: true, espeak });
        const s = r.sidecar;
        console.log(
          `${name}: ${s.duration_s.toFixed(1)} s, ${s.words} words, ` +
            `${s.wav_bytes} bytes, sha256 ${s.wav_sha256} → ${r.wavPath}`,
        );
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new ConfigError(
          `${name}: no text assets/long/${name}.txt (${error.message})`,
        );
      }
      throw error;
    }
  }
  return bad === 0 ? 0 : 1;
}

if (import.meta.main) await runCli("corpus:long", main);
