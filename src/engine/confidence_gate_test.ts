import { strictEqual } from "node:assert/strict";
import {
  averageLogprob,
  DEFAULT_MIN_AVG_LOGPROB,
  endOfTextToken,
  MIN_TOKEN_P,
  retryReason,
} from "./confidence_gate.ts";

const EOT = 50256;
/** Timestamp and other special tokens of tiny.en lie above end of text. */
const BEG = 50363;

function close(actual: number | undefined, expected: number): void {
  strictEqual(
    actual !== undefined && Math.abs(actual - expected) < 1e-12,
    true,
    `${actual} is not ${expected}`,
  );
}

Deno.test("endOfTextToken tells English-only and multilingual vocabularies apart", () => {
  strictEqual(endOfTextToken(51864), 50256); // tiny.en
  strictEqual(endOfTextToken(51865), 50257); // tiny
  strictEqual(endOfTextToken(51866), 50257); // large-v3
});

Deno.test("averageLogprob averages ln p over text tokens only", async (t) => {
  await t.step("special tokens are left out", () => {
    close(
      averageLogprob([
        { id: BEG, p: 0.01 },
        { id: 100, p: 0.5 },
        { id: 200, p: 0.25 },
        { id: EOT, p: 0.001 },
        { id: BEG + 50, p: 0.02 },
      ], EOT),
      (Math.log(0.5) + Math.log(0.25)) / 2,
    );
  });
  await t.step("a sure transcript averages 0", () => {
    close(averageLogprob([{ id: 1, p: 1 }, { id: 2, p: 1 }], EOT), 0);
  });
  await t.step("no text token gives undefined", () => {
    strictEqual(averageLogprob([], EOT), undefined);
    strictEqual(averageLogprob([{ id: BEG, p: 0.9 }], EOT), undefined);
  });
  await t.step("probability 0 counts as MIN_TOKEN_P, not -Infinity", () => {
    close(
      averageLogprob([{ id: 1, p: 0 }, { id: 2, p: 1 }], EOT),
      Math.log(MIN_TOKEN_P) / 2,
    );
  });
  await t.step("the vocabulary decides what is text", () => {
    // 50256 is text in a multilingual vocabulary (end of text is 50257).
    close(averageLogprob([{ id: 50256, p: 0.5 }], 50257), Math.log(0.5));
    strictEqual(averageLogprob([{ id: 50256, p: 0.5 }], 50256), undefined);
  });
});

Deno.test("retryReason retries runaway and unsure passes", async (t) => {
  await t.step("runaway comes first, whatever the confidence", () => {
    strictEqual(retryReason({ runaway: true, avgLogprob: -0.01 }), "runaway");
    strictEqual(
      retryReason({ runaway: true, avgLogprob: -3, minAvgLogprob: -1 }),
      "runaway",
    );
  });
  await t.step("below the threshold is low confidence", () => {
    strictEqual(
      retryReason({ runaway: false, avgLogprob: -0.9, minAvgLogprob: -0.6 }),
      "low_confidence",
    );
  });
  await t.step("at or above the threshold is kept", () => {
    strictEqual(
      retryReason({ runaway: false, avgLogprob: -0.6, minAvgLogprob: -0.6 }),
      undefined,
    );
    strictEqual(
      retryReason({ runaway: false, avgLogprob: -0.1, minAvgLogprob: -0.6 }),
      undefined,
    );
  });
  await t.step("the default threshold applies when none is given", () => {
    strictEqual(
      retryReason({
        runaway: false,
        avgLogprob: DEFAULT_MIN_AVG_LOGPROB - 0.01,
      }),
      "low_confidence",
    );
    strictEqual(
      retryReason({
        runaway: false,
        avgLogprob: DEFAULT_MIN_AVG_LOGPROB + 0.01,
      }),
      undefined,
    );
  });
  await t.step("-Infinity turns the confidence check off", () => {
    strictEqual(
      retryReason({
        runaway: false,
        avgLogprob: Math.log(MIN_TOKEN_P),
        minAvgLogprob: -Infinity,
      }),
      undefined,
    );
  });
  await t.step("no text (silence) is not retried", () => {
    strictEqual(
      retryReason({ runaway: false, avgLogprob: undefined }),
      undefined,
    );
  });
});

Deno.test("averageLogprob and retryReason together gate a token list", () => {
  // An unsure decode: "cup and coffee" with two shaky words.
  const unsure = [
    { id: BEG, p: 0.9 },
    ...[0.95, 0.9, 0.3, 0.2, 0.9].map((p, i) => ({ id: 1000 + i, p })),
    { id: BEG + 90, p: 0.8 },
  ];
  const sure = unsure.map((t) => ({ ...t, p: Math.max(t.p, 0.9) }));
  const gate = (tokens: typeof unsure) =>
    retryReason({
      runaway: false,
      avgLogprob: averageLogprob(tokens, EOT),
      minAvgLogprob: -0.6,
    });
  strictEqual(gate(unsure), "low_confidence");
  strictEqual(gate(sure), undefined);
});
