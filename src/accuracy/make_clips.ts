/**
 * Regenerates the accuracy corpus' generated clips, `assets/corpus/NN.wav.b64`
 * and `NN.txt`, from {@linkcode GENERATED_CLIPS} with espeak-ng:
 *
 *     deno task corpus:clips [--check] [--out DIR]
 *
 * Each sentence is spoken by `espeak-ng -v VOICE -s SPEED` (22.05 kHz),
 * trimmed to its speech with 0.1 s of silence either side, resampled to
 * 16 kHz by the service's own resampler and written as PCM16 WAV. The same
 * espeak-ng version gives the same bytes. `--check` compares instead of
 * writing and exits 1 when a clip differs (2 when espeak-ng is missing).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { PROJECT_ROOT } from "../config/mod.ts";
import { encodeWav, parseWav, resample } from "../audio/mod.ts";
import { GENERATED_CLIPS, type GeneratedClip } from "./corpus.ts";

/** Output sample rate. */
const RATE = 16_000;
/** Samples at or below this magnitude count as silence when trimming. */
const SILENCE = 0.01;
/** Silence kept before and after the speech, seconds. */
const PAD_S = 0.1;

/** espeak-ng is not installed (or not on PATH). */
export class EspeakMissingError extends Error {
  /** @param options `cause`: the spawn error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EspeakMissingError";
  }
}

/**
 * Speaks `clip.text` with espeak-ng and returns 16 kHz mono PCM16 WAV bytes.
 *
 * @throws {EspeakMissingError} when espeak-ng can't be run.
 * @throws {Error} when espeak-ng fails or gives no speech.
 */
export async function synthesizeClip(clip: GeneratedClip): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "make-clips-" });
  try {
    const path = join(dir, "speech.wav");
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("espeak-ng", {
        args: ["-v", clip.voice, "-s", String(clip.speed), "-w", path],
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (cause) {
      throw new EspeakMissingError("espeak-ng: cannot run it", { cause });
    }
    // The text goes through stdin, so no sentence is read as an option.
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(clip.text));
    await writer.close();
    const out = await child.output();
    if (!out.success) {
      throw new Error(
        `espeak-ng -v ${clip.voice}: exit ${out.code}: ${
          new TextDecoder().decode(out.stderr).trim()
        }`,
      );
    }
    const wav = parseWav(await Deno.readFile(path));
    return encodeWav(trimmed(resample(wav.samples[0]!, wav.sampleRate, RATE)), {
      sampleRate: RATE,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The speech of `pcm` with {@linkcode PAD_S} of silence either side. */
function trimmed(pcm: Float32Array): Float32Array {
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first]!) <= SILENCE) first++;
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last]!) <= SILENCE) last--;
  if (first >= pcm.length) throw new Error("espeak-ng gave only silence");
  const pad = Math.round(PAD_S * RATE);
  const out = new Float32Array(last - first + 1 + 2 * pad);
  out.set(pcm.subarray(first, last + 1), pad);
  return out;
}

/** Base64 of `bytes`, one line (the format of the other `.wav.b64` assets). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * `deno task corpus:clips [--check] [--out DIR]`: regenerates (or checks)
 * the generated clips. Returns the exit code.
 */
export async function makeClipsCommand(
  args: readonly string[],
): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      check: { type: "boolean", default: false },
      out: { type: "string", default: join(PROJECT_ROOT, "assets", "corpus") },
    },
  });
  if (!values.check) await Deno.mkdir(values.out, { recursive: true });
  let differ = 0;
  for (const clip of GENERATED_CLIPS) {
    let b64: string;
    try {
      b64 = toBase64(await synthesizeClip(clip));
    } catch (error) {
      if (error instanceof EspeakMissingError) {
        console.error(`make_clips: ${error.message} (install espeak-ng)`);
        return 2;
      }
      throw error;
    }
    const base = join(values.out, clip.id);
    const text = `${clip.text}\n`;
    if (values.check) {
      const same = await Deno.readTextFile(`${base}.wav.b64`).then(
        (old) => old === b64,
        () => false,
      ) && await Deno.readTextFile(`${base}.txt`).then(
        (old) => old === text,
        () => false,
      );
      if (!same) {
        differ++;
        console.log(`${clip.id}: differs`);
      }
    } else {
      await Deno.writeTextFile(`${base}.wav.b64`, b64);
      await Deno.writeTextFile(`${base}.txt`, text);
      console.log(`${clip.id} ${clip.voice} ${clip.speed}: ${clip.text}`);
    }
  }
  if (values.check) {
    console.log(
      `make_clips: ${GENERATED_CLIPS.length - differ} of ` +
        `${GENERATED_CLIPS.length} clips identical`,
    );
  }
  return differ === 0 ? 0 : 1;
}
