import { assertEquals } from "../testing/assert.ts";
import { layoutMeasure } from "./long_layouts.ts";
import { summarizeLayouts } from "./long_report.ts";

Deno.test("layoutMeasure scores each system's text and keeps the texts", () => {
  const text = "The keeper climbed one hundred and twelve steps every evening.";
  const m = layoutMeasure(3, 4, text, {
    engine: "The keeper climbed 112 steps every evening.",
    peer: "The keeper climbed a hundred and twelve steps every evening.",
    sequential: null,
  });
  // Reference words: the keeper climbed 112 steps every evening (7).
  assertEquals(m.engine, 0);
  // "a hundred and twelve" reads 112 too.
  assertEquals(m.peer, 0);
  assertEquals(m.sequential, null);
  const wrong = layoutMeasure(0, 4, text, {
    engine: "The keeper climbed 12 steps every evening.",
    peer: null,
    sequential: "keeper climbed 112 steps every evening",
  });
  assertEquals(wrong.engine, 100 / 7);
  assertEquals(wrong.sequential, 100 / 7);
  const s = summarizeLayouts("2min", [wrong, m]);
  assertEquals(s.transcripts.map((t) => t?.engine), [
    "The keeper climbed 12 steps every evening.",
    "The keeper climbed 112 steps every evening.",
  ]);
  assertEquals(s.peer, null);
});
