/**
 * Test-only helpers: a minimal PCM16 WAV reader (the real decoder lives in
 * src/audio) and transcript word normalisation.
 *
 * @module
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../config/mod.ts";

/** Reads 16-bit PCM mono WAV bytes into floats in [-1, 1). */
export function readPcm16Wav(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) =>
    String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a WAV");
  let channels = 0;
  let bits = 0;
  for (let at = 12; at + 8 <= bytes.length;) {
    const size = view.getUint32(at + 4, true);
    if (tag(at) === "fmt ") {
      channels = view.getUint16(at + 10, true);
      bits = view.getUint16(at + 22, true);
    } else if (tag(at) === "data") {
      if (channels !== 1 || bits !== 16) throw new Error("not PCM16 mono");
      const n = Math.floor(Math.min(size, bytes.length - at - 8) / 2);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = view.getInt16(at + 8 + 2 * i, true) / 32768;
      }
      return out;
    }
    at += 8 + size + (size & 1);
  }
  throw new Error("WAV has no data chunk");
}

/** Loads `<repo>/assets/<name>.wav.b64` and its `.txt` transcript. */
export async function loadAssetClip(
  name: string,
): Promise<{ pcm: Float32Array; text: string }> {
  const base = join(PROJECT_ROOT, "assets", name);
  const b64 = (await Deno.readTextFile(`${base}.wav.b64`)).replace(/\s/g, "");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return {
    pcm: readPcm16Wav(bytes),
    text: (await Deno.readTextFile(`${base}.txt`)).trim(),
  };
}

/** Lower-case words without punctuation: "Hello, World!" → ["hello", "world"]. */
export function words(text: string): string[] {
  return text.toLowerCase().replace(/[^\p{L}\p{N}' ]+/gu, " ").split(/\s+/)
    .filter((w) => w.length > 0);
}
