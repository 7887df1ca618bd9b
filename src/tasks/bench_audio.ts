/**
 * Prints the median time to decode and resample: the bundled sample
 * (16 kHz mono WAV, a pass-through), 10 s of 44.1 kHz stereo 16-bit WAV, and
 * for reference the FLAC fixture through ffmpeg.
 *
 * Usage: deno task bench:audio [--runs N]
 */
import { decodeAudio, encodeWav, readBase64File } from "../audio/mod.ts";

/** Median wall time of `runs` calls to `fn`, after a few warm-up calls. */
export async function medianMs(
  fn: () => Promise<unknown>,
  runs: number,
): Promise<number> {
  for (let i = 0; i < Math.min(5, runs); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  return times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
}

function stereoTone(seconds: number, rate: number): Uint8Array {
  const n = Math.round(seconds * rate);
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    left[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate);
    right[i] = 0.3 * Math.sin((2 * Math.PI * 660 * i) / rate);
  }
  return encodeWav([left, right], { sampleRate: rate });
}

async function main(args: string[]): Promise<void> {
  const at = args.indexOf("--runs");
  const runs = at >= 0 ? Number(args[at + 1]) : 31;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error("bench_decode: --runs must be a positive integer");
    Deno.exit(2);
  }
  const sample = await readBase64File(
    new URL("../../assets/sample.wav.b64", import.meta.url),
  );
  const long = stereoTone(10, 44100);
  const flac = await Deno.readFile(
    new URL("../audio/testdata/sine_44k_stereo.flac", import.meta.url),
  );
  const cases: [string, Uint8Array, number][] = [
    ["sample.wav (1.04 s, 16 kHz mono)", sample, runs],
    ["10 s 44.1 kHz stereo 16-bit WAV", long, runs],
    ["0.5 s 44.1 kHz stereo FLAC (ffmpeg)", flac, Math.min(runs, 11)],
  ];
  console.log(`median of ${runs} runs (ffmpeg: at most 11)`);
  for (const [name, bytes, n] of cases) {
    const ms = await medianMs(() => decodeAudio(bytes), n);
    console.log(`${name.padEnd(38)} ${ms.toFixed(2).padStart(8)} ms`);
  }
}

if (import.meta.main) await main(Deno.args);
