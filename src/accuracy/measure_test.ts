import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  chooseMinAvgLogprob,
  type ClipAccuracy,
  crossValidate,
  gateOutcome,
  type PassResult,
  summarizeAccuracy,
} from "./measure.ts";

/** A clip of 10 words with the errors of each setting and the sized pass' confidence. */
function clip(
  name: string,
  full: number,
  fast: number,
  avgLogprob: number | undefined,
  options: { runaway?: boolean; ms?: [number, number, number] } = {},
): ClipAccuracy {
  const [fullMs, fastMs, gatedMs] = options.ms ?? [1000, 100, 100];
  const pass = (errors: number, ms: number): PassResult => ({
    text: "",
    errors,
    ms,
  });
  const runaway = options.runaway ? { retryReason: "runaway" as const } : {};
  return {
    name,
    reference: "one two three four five six seven eight nine ten",
    words: 10,
    audioCtx: 160,
    full: pass(full, fullMs),
    fast: { ...pass(fast, fastMs), ...runaway },
    gated: {
      ...pass(fast, gatedMs),
      ...runaway,
      ...(avgLogprob !== undefined ? { avgLogprob } : {}),
    },
  };
}

Deno.test("gateOutcome takes full context below the threshold, fast above", async (t) => {
  const rows = [
    clip("a", 0, 3, -0.9), // unsure and wrong: the gate helps
    clip("b", 1, 0, -0.2), // sure and right
    clip("c", 2, 2, -0.7), // unsure, wrong either way
    clip("d", 0, 0, -0.1, { runaway: true }), // guard already retried it
    clip("e", 0, 0, undefined), // no text
  ];
  await t.step("gate off: the fast errors, runaway retries only", () => {
    deepStrictEqual(gateOutcome(rows, -Infinity), {
      minAvgLogprob: -Infinity,
      errors: 5,
      wer: 10,
      retried: 1,
    });
  });
  await t.step("-0.8 retries a only", () => {
    const o = gateOutcome(rows, -0.8);
    strictEqual(o.errors, 0 + 0 + 2 + 0 + 0);
    strictEqual(o.retried, 2);
  });
  await t.step("-0.15 retries all but e; b now takes full's error", () => {
    const o = gateOutcome(rows, -0.15);
    strictEqual(o.errors, 0 + 1 + 2 + 0 + 0);
    strictEqual(o.retried, 4);
  });
});

Deno.test("chooseMinAvgLogprob picks the fewest errors, then the fewest retries", () => {
  const rows = [
    clip("a", 0, 3, -0.9),
    clip("b", 1, 0, -0.2),
    clip("c", 2, 2, -0.7),
    clip("d", 0, 0, -0.4),
  ];
  // Retrying a alone gives 2 errors; also retrying c gains nothing and costs
  // a retry, so the threshold falls between a (-0.9) and c (-0.7).
  const best = chooseMinAvgLogprob(rows);
  strictEqual(best.errors, 2);
  strictEqual(best.retried, 1);
  strictEqual(best.minAvgLogprob, -0.8);
  // When no retry helps, the gate stays off.
  strictEqual(
    chooseMinAvgLogprob([clip("x", 1, 0, -0.9), clip("y", 0, 0, -0.1)])
      .minAvgLogprob,
    -Infinity,
  );
});

Deno.test("crossValidate chooses on one half and measures on the other", () => {
  const rows = [
    clip("e0", 0, 3, -0.9),
    clip("o0", 0, 2, -0.95),
    clip("e1", 1, 1, -0.3),
    clip("o1", 0, 0, -0.2),
  ];
  const [even, odd] = crossValidate(rows);
  strictEqual(even!.chosenOn, "even");
  strictEqual(even!.chosen.minAvgLogprob, -0.6); // between -0.9 and -0.3
  strictEqual(even!.heldOut.errors, 0); // odd clips: o0 retried
  strictEqual(even!.heldOutFullWer, 0);
  strictEqual(even!.heldOutFastWer, 10);
  strictEqual(odd!.chosenOn, "odd");
  strictEqual(odd!.heldOut.errors, 1); // even clips: e0 retried, e1 kept
});

Deno.test("summarizeAccuracy gives corpus WER, retries and ms per setting", () => {
  const s = summarizeAccuracy([
    clip("a", 0, 3, -0.9, { ms: [1000, 100, 1100] }),
    clip("b", 1, 0, -0.2, { ms: [1200, 120, 125] }),
    clip("c", 0, 0, -0.1, { runaway: true, ms: [900, 1000, 1010] }),
  ]);
  strictEqual(s.clips, 3);
  strictEqual(s.words, 30);
  strictEqual(s.full.errors, 1);
  strictEqual(s.fast.wer, 10);
  strictEqual(s.fast.retried, 1);
  strictEqual(s.full.ms_p50, 1000);
  strictEqual(s.fast.ms_p50, 120);
  strictEqual(s.gated.ms_mean, 745);
  strictEqual(s.gated.ms_p95, 1100 - 0.1 * (1100 - 1010));
});
