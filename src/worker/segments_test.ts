import { deepStrictEqual } from "node:assert/strict";
import { recordSegments } from "./segments.ts";

Deno.test("recordSegments shifts by the piece's start, clamps to its end, keeps detail", () => {
  const out = recordSegments(
    [
      {
        start_s: 0.5,
        end_s: 3.25,
        text: "Open the door.",
        tokens: [4946, 262, 3420, 13],
        avg_logprob: -0.488523,
        words: [
          { word: "Open", start_s: 0.5, end_s: 1 },
          { word: "door.", start_s: 2.9, end_s: 3.25 },
        ],
      },
      { start_s: 3.25, end_s: 9, text: "Next." },
    ],
    20,
    25,
  );
  deepStrictEqual(out, [
    {
      start: 20.5,
      end: 23.25,
      text: "Open the door.",
      tokens: [4946, 262, 3420, 13],
      avg_logprob: -0.4885,
      words: [
        { word: "Open", start: 20.5, end: 21 },
        { word: "door.", start: 22.9, end: 23.25 },
      ],
    },
    { start: 23.25, end: 25, text: "Next." },
  ]);
});

Deno.test("recordSegments without offset keeps plain segments plain", () => {
  deepStrictEqual(
    recordSegments([{ start_s: 0, end_s: 1.1019375, text: "Hi." }]),
    [{ start: 0, end: 1.102, text: "Hi." }],
  );
});
