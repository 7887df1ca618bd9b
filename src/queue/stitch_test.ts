import { assertEquals, assertThrows } from "../testing/assert.ts";
import type { PieceResult } from "./records.ts";
import { stitchPieces } from "./stitch.ts";

function piece(
  index: number,
  start_s: number,
  end_s: number,
  segments: [number, number, string][],
): PieceResult {
  return {
    index,
    start_s,
    end_s,
    text: segments.map((s) => s[2]).join(" "),
    segments: segments.map(([start, end, text]) => ({ start, end, text })),
    worker_id: `w${index}`,
    processing_ms: 100,
    attempts: 1,
  };
}

Deno.test("stitchPieces joins pieces in index order with global times", () => {
  const out = stitchPieces([
    piece(1, 20, 41.5, [[20.4, 30, "Second piece."], [30, 41, "Ends here."]]),
    piece(0, 0, 20, [[0, 9.5, "First words,"], [9.5, 19.8, "then more."]]),
    piece(2, 41.5, 50, [[41.9, 49, "Last one."]]),
  ]);
  assertEquals(
    out.transcript,
    "First words, then more. Second piece. Ends here. Last one.",
  );
  assertEquals(out.segments.map((s) => [s.start, s.end]), [
    [0, 9.5],
    [9.5, 19.8],
    [20.4, 30],
    [30, 41],
    [41.9, 49],
  ]);
});

Deno.test("stitchPieces keeps times monotonic and inside each piece", () => {
  const out = stitchPieces([
    piece(0, 0, 10, [[0, 10.4, "Overlong end."]]),
    // starts before the previous segment ended, ends past its piece
    piece(1, 10, 20, [[9.8, 21, "Early start."], [15, 14, "Backwards."]]),
  ]);
  assertEquals(out.segments.map((s) => [s.start, s.end]), [
    [0, 10],
    [10, 20],
    [20, 20],
  ]);
  for (let i = 1; i < out.segments.length; i++) {
    const a = out.segments[i - 1]!, b = out.segments[i]!;
    assertEquals(b.start >= a.end, true);
    assertEquals(b.end >= b.start, true);
  }
});

Deno.test("stitchPieces skips empty pieces and refuses gaps", async (t) => {
  await t.step("an empty piece (silence) adds no text", () => {
    const out = stitchPieces([
      piece(0, 0, 5, [[0, 4, "Hello."]]),
      piece(1, 5, 30, []),
      piece(2, 30, 35, [[30.5, 34, "World."]]),
    ]);
    assertEquals(out.transcript, "Hello. World.");
  });
  await t.step("a missing piece is an error", () => {
    assertThrows(() =>
      stitchPieces([piece(0, 0, 5, []), piece(2, 10, 15, [])])
    );
  });
  await t.step("a repeated piece is an error", () => {
    assertThrows(() => stitchPieces([piece(0, 0, 5, []), piece(0, 0, 5, [])]));
  });
  await t.step("prefixOnly stops at the first gap", () => {
    const out = stitchPieces([
      piece(0, 0, 5, [[0, 4, "One."]]),
      piece(1, 5, 10, [[5, 9, "Two."]]),
      piece(3, 15, 20, [[15, 19, "Four."]]),
    ], { prefixOnly: true });
    assertEquals(out.transcript, "One. Two.");
    assertEquals(out.segments.length, 2);
  });
});

Deno.test("stitchPieces keeps words and token detail, on one timeline", () => {
  const a = piece(0, 0, 15.52, [[0, 15.52, "One two."]]);
  a.segments[0]!.tokens = [1, 2];
  a.segments[0]!.avg_logprob = -0.2;
  a.segments[0]!.words = [
    { word: "One", start: 0.5, end: 1 },
    { word: "two.", start: 14.9, end: 15.52 },
  ];
  const b = piece(1, 15.5, 30, [[15.5, 20, "Three."]]);
  b.segments[0]!.words = [{ word: "Three.", start: 15.51, end: 16 }];
  const out = stitchPieces([a, b]);
  assertEquals(out.segments[0]!.tokens, [1, 2]);
  assertEquals(out.segments[0]!.avg_logprob, -0.2);
  assertEquals(out.segments.flatMap((s) => s.words ?? []), [
    { word: "One", start: 0.5, end: 1 },
    { word: "two.", start: 14.9, end: 15.52 },
    { word: "Three.", start: 15.52, end: 16 },
  ]);
});
