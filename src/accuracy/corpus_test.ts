import { ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../config/mod.ts";
import { decodeAudio, readWavHeader } from "../audio/mod.ts";
import {
  ACCURACY_CLIPS,
  GENERATED_CLIPS,
  loadAccuracyCorpus,
  ORIGINAL_CLIPS,
} from "./corpus.ts";
import { EspeakMissingError, synthesizeClip, toBase64 } from "./make_clips.ts";
import { normalizeWords } from "./wer.ts";

const ASSETS = join(PROJECT_ROOT, "assets");

Deno.test("accuracy corpus holds at least 40 clips and 250 words of known text", async () => {
  strictEqual(
    ACCURACY_CLIPS.length,
    ORIGINAL_CLIPS.length + GENERATED_CLIPS.length,
  );
  ok(ACCURACY_CLIPS.length >= 40, `${ACCURACY_CLIPS.length} clips`);
  strictEqual(new Set(ACCURACY_CLIPS).size, ACCURACY_CLIPS.length);
  const clips = await loadAccuracyCorpus();
  const words = clips.reduce((n, c) => n + normalizeWords(c.text).length, 0);
  ok(words >= 250, `${words} words`);
  strictEqual(
    new Set(clips.map((c) => c.text.toLowerCase())).size,
    clips.length,
    "every sentence is different",
  );
});

Deno.test("accuracy corpus clips are decodable 16 kHz speech with their text", async (t) => {
  for (const name of ACCURACY_CLIPS) {
    await t.step(name, async () => {
      const b64 = await Deno.readTextFile(join(ASSETS, `${name}.wav.b64`));
      const bytes = Uint8Array.from(atob(b64.trim()), (c) => c.charCodeAt(0));
      const info = readWavHeader(bytes);
      strictEqual(info.sampleRate, 16_000);
      strictEqual(info.channels, 1);
      strictEqual(info.bitsPerSample, 16);
      const audio = await decodeAudio(bytes);
      ok(
        audio.durationS >= 0.8 && audio.durationS <= 10,
        `${audio.durationS} s`,
      );
      const peak = audio.samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      ok(peak > 0.1, `near silent (peak ${peak})`);
      const text = await Deno.readTextFile(join(ASSETS, `${name}.txt`));
      ok(/^[A-Z][^\n]+[.?!]\n$/.test(text), `${name}.txt is one sentence`);
      ok(!/\d/.test(text), "numbers are spelled out");
    });
  }
});

Deno.test("generated clips match their table and speak 3-15 words each", async () => {
  const voices = new Set<string>();
  const speeds = new Set<number>();
  for (const clip of GENERATED_CLIPS) {
    const text = await Deno.readTextFile(
      join(ASSETS, "corpus", `${clip.id}.txt`),
    );
    strictEqual(text, `${clip.text}\n`);
    const n = normalizeWords(clip.text).length;
    ok(n >= 3 && n <= 15, `${clip.id}: ${n} words`);
    voices.add(clip.voice);
    speeds.add(clip.speed);
  }
  ok(voices.size >= 8, `${voices.size} voices`);
  ok(speeds.size >= 5, `${speeds.size} speeds`);
  ok(new Set([...voices].map((v) => v.split("+")[0])).size >= 3, "accents");
});

Deno.test("make_clips regenerates a committed clip byte for byte (needs espeak-ng)", async (t) => {
  for (const clip of [GENERATED_CLIPS[0]!, GENERATED_CLIPS.at(-1)!]) {
    let bytes: Uint8Array;
    try {
      bytes = await synthesizeClip(clip);
    } catch (error) {
      if (error instanceof EspeakMissingError) {
        console.warn("espeak-ng not installed; determinism not checked");
        return;
      }
      throw error;
    }
    await t.step(clip.id, async () => {
      const committed = await Deno.readTextFile(
        join(ASSETS, "corpus", `${clip.id}.wav.b64`),
      );
      strictEqual(toBase64(bytes), committed);
    });
  }
});
