import { assertEquals } from "../../testing/assert.ts";
import { bareWord, compressionRatio, languageName } from "./render.ts";

Deno.test("bareWord drops the punctuation around a word, not inside it", () => {
  assertEquals(bareWord("door."), "door");
  assertEquals(bareWord('"Hello,'), "Hello");
  assertEquals(bareWord("don't"), "don't");
  assertEquals(bareWord("well-known!"), "well-known");
  assertEquals(bareWord("1,872."), "1,872");
  assertEquals(bareWord("..."), "");
});

Deno.test("compressionRatio is whisper's: UTF-8 length over its zlib length", () => {
  assertEquals(compressionRatio(""), 0);
  const repetitive = "open the door ".repeat(20);
  const plain = "Open the door.";
  assertEquals(compressionRatio(repetitive) > 5, true);
  assertEquals(compressionRatio(plain) < 1.5, true);
});

Deno.test("languageName: whisper's names for known codes, else the code", () => {
  assertEquals(languageName("en"), "english");
  assertEquals(languageName("de"), "german");
  assertEquals(languageName("xx"), "xx");
});
