import assert from "node:assert/strict";
import { isAnnotation, isSilent, SILENCE_PEAK } from "./non_speech.ts";

Deno.test("isAnnotation: whisper's notes for silence, noise and music, not speech", async (t) => {
  const notes = [
    "[BLANK_AUDIO]",
    "[ Silence ]",
    "[MUSIC PLAYING]",
    "(bell dings)",
    "(water running) (water running)",
    "[SOUND]",
    "♪",
    "♪♪♪",
    "- [Music]",
    "*sighs*",
    ".",
    " . . ",
    "",
  ];
  const speech = [
    "Open the door.",
    "(laughs) Yes, I agree.",
    "[Music] Welcome back to the show.",
    "you",
    "1872",
    "Ça va.",
    "♪ Happy birthday to you ♪",
  ];
  const cases = [
    ...notes.map((text) => [text, true] as const),
    ...speech.map((text) => [text, false] as const),
  ];
  for (const [text, note] of cases) {
    await t.step(
      JSON.stringify(text),
      () => assert.equal(isAnnotation(text), note),
    );
  }
});

Deno.test("isSilent: nothing reaches −70 dBFS", () => {
  assert.equal(isSilent(new Float32Array(16_000)), true);
  assert.equal(isSilent(new Float32Array(0)), true);
  // 16-bit dither (a step or two) is silence.
  const dither = Float32Array.from(
    { length: 16_000 },
    (_, i) => ((i * 7919) % 5 - 2) / 32768,
  );
  assert.equal(isSilent(dither), true);
  for (const level of [SILENCE_PEAK, -SILENCE_PEAK, 0.01, -1]) {
    const one = new Float32Array(16_000);
    one[12_345] = level;
    assert.equal(isSilent(one), false, `one sample at ${level}`);
  }
});
