import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  AUDIO_CTX_PER_SECOND,
  audioCtxFor,
  FULL_AUDIO_CTX,
} from "./audio_ctx.ts";

Deno.test("audioCtxFor sizes the context to clip + margin, rounded to 16", () => {
  // (1.0 s + 1 s margin) × 50 = 100 → 112
  strictEqual(audioCtxFor(1), 112);
  // (2.15 + 1) × 50 = 157.5 → 160
  strictEqual(audioCtxFor(2.15), 160);
  // (1.0 s + 2 s margin) × 50 = 150 → 160
  strictEqual(audioCtxFor(1, { margin: 2 }), 160);
  strictEqual(audioCtxFor(1, { margin: 0, floor: 1, multiple: 1 }), 50);
  strictEqual(AUDIO_CTX_PER_SECOND * 30, FULL_AUDIO_CTX);
});

Deno.test("audioCtxFor applies the floor", async (t) => {
  await t.step("default floor 96 for an empty clip", () => {
    strictEqual(audioCtxFor(0, { margin: 0 }), 96);
    // 0.5 s + 1 s margin = 75 frames, raised to the floor
    strictEqual(audioCtxFor(0.5), 96);
  });
  await t.step("custom floor 64, rounded to the multiple", () => {
    strictEqual(audioCtxFor(0.2, { margin: 0, floor: 64 }), 64);
    strictEqual(audioCtxFor(0.2, { margin: 0, floor: 70 }), 80);
  });
});

Deno.test("audioCtxFor caps at 1500 and grows monotonically", () => {
  strictEqual(audioCtxFor(28), 1456); // (28 + 1) × 50 = 1450 → 1456
  strictEqual(audioCtxFor(29), 1500);
  strictEqual(audioCtxFor(30), 1500);
  strictEqual(audioCtxFor(600), 1500);
  const sizes = [0, 0.5, 1, 2, 5, 10, 20, 29].map((d) => audioCtxFor(d));
  deepStrictEqual(sizes, [...sizes].sort((a, b) => a - b));
  for (const n of sizes) strictEqual(n % 16 === 0 || n === 1500, true);
});

Deno.test("audioCtxFor returns 0 (full context) when disabled", () => {
  strictEqual(audioCtxFor(1, { enabled: false }), 0);
});

Deno.test("audioCtxFor rejects bad input", () => {
  throws(() => audioCtxFor(-1), RangeError);
  throws(() => audioCtxFor(Number.NaN), RangeError);
  throws(() => audioCtxFor(Infinity), RangeError);
  throws(() => audioCtxFor(1, { floor: 0 }), RangeError);
  throws(() => audioCtxFor(1, { multiple: 0.5 }), RangeError);
  throws(() => audioCtxFor(1, { margin: -1 }), RangeError);
});
