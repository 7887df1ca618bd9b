import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { speechSpan, wordTimingErrors } from "./word_timing.ts";

Deno.test("speechSpan finds the first and last loud 10 ms frames", () => {
  const s = new Float32Array(16_000); // 1 s
  for (let i = 3_200; i < 12_800; i++) s[i] = Math.sin(i / 5) * 0.5; // 0.2–0.8 s
  s[100] = 0.001; // a click far below the floor
  deepStrictEqual(speechSpan(s), { start_s: 0.2, end_s: 0.8 });
  strictEqual(speechSpan(new Float32Array(1600)), null);
});

Deno.test("wordTimingErrors assigns words to the nearest clip and measures its edges", () => {
  const speech = [{ start_s: 1, end_s: 2 }, { start_s: 3, end_s: 4 }];
  const r = wordTimingErrors(speech, [
    { word: "a", start: 1.05, end: 1.5 }, // onset +50 ms
    { word: "b", start: 1.5, end: 1.9 }, // offset −100 ms
    { word: "c", start: 2.9, end: 3.5 }, // onset −100 ms
    { word: "d", start: 3.5, end: 4.2 }, // offset +200 ms
    { word: "e", start: 2.4, end: 2.6 }, // in the pause
  ]);
  strictEqual(r.clips, 2);
  strictEqual(r.words, 5);
  strictEqual(r.words_in_pauses, 1);
  deepStrictEqual(r.onset_ms, { median: 75, p95: 98, bias: -25 });
  // "e" is nearer clip 1's end (2.5 vs 3.0): clip 1's last word is "e".
  deepStrictEqual(r.offset_ms, { median: 400, p95: 580, bias: 400 });
});
