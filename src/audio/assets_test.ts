import assert from "node:assert/strict";
import { readBase64File } from "./base64.ts";
import { decodeAudio } from "./decode.ts";
import { readWavHeader } from "./parse_wav.ts";
import { sineAmplitude } from "./_testing.ts";

const assets = new URL("../../assets/", import.meta.url);

async function checkClip(
  name: string,
  minS: number,
  maxS: number,
): Promise<void> {
  const bytes = await readBase64File(new URL(`${name}.wav.b64`, assets));
  const info = readWavHeader(bytes);
  assert.equal(info.sampleRate, 16000);
  assert.equal(info.channels, 1);
  assert.equal(info.bitsPerSample, 16);
  assert.equal(info.format, "pcm");
  const audio = await decodeAudio(bytes);
  assert.ok(
    audio.durationS >= minS && audio.durationS <= maxS,
    `${name}: ${audio.durationS} s`,
  );
  // Speech, not silence.
  assert.ok(sineAmplitude(audio.samples) > 0.02, `${name} is near silent`);
  const words = await Deno.readTextFile(new URL(`${name}.txt`, assets));
  assert.match(words, /^[A-Z][^\n]+[.?!]\n$/, `${name}.txt is one sentence`);
}

Deno.test("assets sample is ~1 s of 16 kHz mono 16-bit speech with its words", async () => {
  await checkClip("sample", 0.8, 1.5);
  assert.equal(
    await Deno.readTextFile(new URL("sample.txt", assets)),
    "Open the door.\n",
  );
});

Deno.test("assets clips are at least 10 sentences of 1-4 s", async () => {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL("clips/", assets))) {
    const match = /^(\d\d)\.wav\.b64$/.exec(entry.name);
    if (match) names.push(match[1]!);
  }
  assert.ok(names.length >= 10, `${names.length} clips`);
  const sentences = new Set<string>();
  for (const name of names.sort()) {
    await checkClip(`clips/${name}`, 1, 4);
    sentences.add(
      await Deno.readTextFile(new URL(`clips/${name}.txt`, assets)),
    );
  }
  assert.equal(sentences.size, names.length, "sentences are all different");
});
