/** Audio files for the suites, made on the spot by ffmpeg. */
import { assert } from "../src/testing/assert.ts";

/** Runs ffmpeg with `args` and returns the file it wrote (`-y … out`). */
async function ffmpegFile(args: string[], suffix: string): Promise<Uint8Array> {
  const out = await Deno.makeTempFile({ suffix });
  try {
    const r = await new Deno.Command("ffmpeg", {
      args: ["-hide_banner", "-loglevel", "error", "-y", ...args, out],
      stdin: "null",
      stderr: "piped",
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(out);
  }
}

/** A FLAC of `seconds` of a 440 Hz tone (8 kHz mono), made by ffmpeg. */
export function flacTone(seconds: number): Promise<Uint8Array> {
  return ffmpegFile([
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=440:sample_rate=8000:duration=${seconds}`,
    "-ac",
    "1",
  ], ".flac");
}

/**
 * `audio` re-encoded by ffmpeg with `codecArgs` (e.g. `-ar 8000 -c:a
 * pcm_mulaw`) into a file of `suffix` (its container).
 */
export async function transcoded(
  audio: Uint8Array,
  codecArgs: string[],
  suffix: string,
): Promise<Uint8Array> {
  const input = await Deno.makeTempFile();
  try {
    await Deno.writeFile(input, audio);
    return await ffmpegFile(["-i", input, ...codecArgs], suffix);
  } finally {
    await Deno.remove(input);
  }
}
