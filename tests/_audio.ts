/** Audio files for the suites, made on the spot. */
import { assert } from "../src/testing/assert.ts";

/** A FLAC of `seconds` of a 440 Hz tone (8 kHz mono), made by ffmpeg. */
export async function flacTone(seconds: number): Promise<Uint8Array> {
  const out = await Deno.makeTempFile({ suffix: ".flac" });
  try {
    const r = await new Deno.Command("ffmpeg", {
      args: [
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        `sine=frequency=440:sample_rate=8000:duration=${seconds}`,
        "-ac",
        "1",
        out,
      ],
      stdin: "null",
      stderr: "piped",
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(out);
  }
}
