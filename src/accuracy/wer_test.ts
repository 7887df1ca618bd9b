import { strictEqual, throws } from "node:assert/strict";
import { normalizeWords, wordErrorRate, wordErrors } from "./wer.ts";

Deno.test("wordErrors counts substitutions, deletions and insertions", async (t) => {
  await t.step("identical up to case and punctuation", () => {
    strictEqual(wordErrors("Open the door.", "open the door"), 0);
  });
  await t.step("substitution", () => {
    strictEqual(wordErrors("the weather is nice", "the weather is ice"), 1);
  });
  await t.step("deletion and insertion", () => {
    strictEqual(wordErrors("a b c", "a c"), 1);
    strictEqual(wordErrors("a b", "a x b y"), 2);
  });
  await t.step("runaway repetition", () => {
    strictEqual(wordErrors("thank you", "thank you thank you thank you"), 4);
  });
  strictEqual(normalizeWords("Hello, World!").join(" "), "hello world");
});

Deno.test("wordErrorRate pools errors over all reference words", () => {
  const rate = wordErrorRate([
    { reference: "one two three", hypothesis: "one two three" },
    { reference: "four", hypothesis: "for" },
  ]);
  strictEqual(rate, 25);
  throws(() => wordErrorRate([]), RangeError);
});
