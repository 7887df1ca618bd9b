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

Deno.test("numbers count the same spoken or in digits", async (t) => {
  const same = (a: string, b: string) =>
    strictEqual(normalizeWords(a).join(" "), normalizeWords(b).join(" "));
  await t.step("cardinals, with and without hundreds and thousands", () => {
    same("climbed one hundred and twelve steps", "climbed 112 steps");
    same("every twelve seconds", "every 12 seconds");
    same("he was seventy-one", "He was 71.");
    same("two thousand five hundred and six", "2,506");
    same("a hundred people", "100 people");
    same("one million", "1,000,000");
  });
  await t.step("years, ordinals, decimals, percent", () => {
    same("built in eighteen seventy-two", "built in 1872");
    same("nineteen hundred and five", "1905");
    same("the twenty-first of February", "the 21st of February");
    same("the third", "the 3rd");
    same("three point one four percent", "3.14%");
  });
  await t.step("what is not one number stays apart", () => {
    strictEqual(normalizeWords("one two three").join(" "), "1 2 3");
    strictEqual(normalizeWords("two and three").join(" "), "2 and 3");
    strictEqual(normalizeWords("a man, a plan").join(" "), "a man a plan");
    strictEqual(normalizeWords("the point is").join(" "), "the point is");
    strictEqual(normalizeWords("hundred").join(" "), "hundred");
    strictEqual(normalizeWords("3 point fifteen").join(" "), "3 point 15");
    strictEqual(normalizeWords("1,5 and 1.5.").join(" "), "1 5 and 1.5");
  });
  await t.step("so a number in digits is no error", () => {
    strictEqual(
      wordErrors("once every twelve seconds", "once every 12 seconds"),
      0,
    );
    strictEqual(wordErrors("in eighteen seventy two", "in 1872"), 0);
    strictEqual(wordErrors("in eighteen seventy two", "in 1873"), 1);
  });
  strictEqual(normalizeWords("Café, naïve").join(" "), "cafe naive");
});

Deno.test("wordErrorRate pools errors over all reference words", () => {
  const rate = wordErrorRate([
    { reference: "one two three", hypothesis: "one two three" },
    { reference: "four", hypothesis: "for" },
  ]);
  strictEqual(rate, 25);
  throws(() => wordErrorRate([]), RangeError);
});
