import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { snapToSpeech, speechFrames, wordsFromTokens } from "./words.ts";

const EOT = 50256;

Deno.test("wordsFromTokens joins sub-word tokens and punctuation into words", () => {
  const words = wordsFromTokens(
    [
      { text: "[_BEG_]", id: 50363, from: 0, to: 0 },
      { text: " Open", id: 4946, from: 100, to: 300 },
      { text: " the", id: 262, from: 300, to: 420 },
      { text: " do", id: 466, from: 420, to: 560 },
      { text: "or", id: 273, from: 560, to: 700 },
      { text: ".", id: 13, from: 700, to: 720 },
      { text: "[_TT_50]", id: 50413, from: 1000, to: 1000 },
    ],
    EOT,
    1.1,
  );
  assertEquals(words, [
    { word: "Open", start_s: 0.1, end_s: 0.3 },
    { word: "the", start_s: 0.3, end_s: 0.42 },
    { word: "door.", start_s: 0.42, end_s: 0.72 },
  ]);
});

Deno.test("wordsFromTokens clamps to the clip and keeps times non-decreasing", () => {
  const words = wordsFromTokens(
    [
      { text: " a", id: 257, from: 500, to: 900 },
      { text: " b", id: 275, from: 400, to: 450 },
      { text: " c", id: 269, from: 1500, to: 2500 },
    ],
    EOT,
    2,
  );
  assertEquals(words, [
    { word: "a", start_s: 0.5, end_s: 0.9 },
    { word: "b", start_s: 0.9, end_s: 0.9 },
    { word: "c", start_s: 1.5, end_s: 2 },
  ]);
});

Deno.test("wordsFromTokens: no text tokens, no words", () => {
  assertEquals(wordsFromTokens([{ text: "[_BEG_]", id: 50363 }], EOT, 1), []);
  assertEquals(wordsFromTokens([], EOT, 1), []);
});

Deno.test("snapToSpeech pulls word edges out of the silence around them", () => {
  // 0–0.5 s silence, 0.5–1.0 s speech, 1.0–1.5 s silence, 1.5–2.0 s speech.
  const pcm = new Float32Array(32_000);
  for (let i = 8_000; i < 16_000; i++) pcm[i] = Math.sin(i / 3) * 0.3;
  for (let i = 24_000; i < 32_000; i++) pcm[i] = Math.sin(i / 3) * 0.3;
  const words = snapToSpeech([
    { word: "early", start_s: 0.2, end_s: 0.7 }, // starts in silence
    { word: "late", start_s: 0.7, end_s: 1.3 }, // ends in silence
    { word: "lost", start_s: 1.35, end_s: 1.45 }, // wholly in the pause, nearer the next speech
    { word: "inside", start_s: 1.6, end_s: 1.9 }, // untouched
  ], speechFrames(pcm));
  assertEquals(words, [
    { word: "early", start_s: 0.5, end_s: 0.7 },
    { word: "late", start_s: 0.7, end_s: 1 },
    { word: "lost", start_s: 1.5, end_s: 1.51 },
    { word: "inside", start_s: 1.6, end_s: 1.9 },
  ]);
});

Deno.test("snapToSpeech leaves silence-only audio's words as they were", () => {
  const w = [{ word: "x", start_s: 0.1, end_s: 0.2 }];
  assertEquals(snapToSpeech(w, speechFrames(new Float32Array(16_000))), w);
});
