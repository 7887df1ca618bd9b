/**
 * The committed speech clips for tests and benches: `assets/<name>.wav.b64`
 * (16 kHz mono PCM16) as the float samples the engine takes, with the text
 * in `assets/<name>.txt`. Decoded by the service's own WAV parser.
 *
 * @module
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../config/mod.ts";
import { parseWav, readBase64File } from "../audio/mod.ts";

/** Loads `<repo>/assets/<name>.wav.b64` and its `.txt` transcript. */
export async function loadAssetClip(
  name: string,
): Promise<{ pcm: Float32Array; text: string }> {
  const base = join(PROJECT_ROOT, "assets", name);
  const wav = parseWav(await readBase64File(`${base}.wav.b64`));
  if (wav.sampleRate !== 16_000 || wav.samples.length !== 1) {
    throw new Error(`${base}.wav.b64: expected 16 kHz mono`);
  }
  return {
    pcm: wav.samples[0]!,
    text: (await Deno.readTextFile(`${base}.txt`)).trim(),
  };
}
