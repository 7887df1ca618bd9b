import { join } from "node:path";
import { decodeAudio, splitAtPauses } from "../audio/mod.ts";
import { wordErrorRate } from "../accuracy/mod.ts";
import { modelsDir, parseEnv, WorkerConfigSchema } from "../config/mod.ts";
import { free, openModel } from "../engine/mod.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { longRecording } from "../testing/long_audio.ts";
import {
  type PieceSettings,
  piecesThroughEngine,
  withLeadingSilence,
} from "./long_engine.ts";

const MODEL = join(modelsDir(), "ggml-tiny.en-q8_0.bin");
const haveModel = await Deno.stat(MODEL).then(() => true, () => false);

/** The workers' defaults, as an empty environment gives them. */
const DEFAULTS: PieceSettings = parseEnv(
  WorkerConfigSchema,
  {},
);

Deno.test({
  name:
    "piecesThroughEngine transcribes a recording's pieces as the workers cut them (needs ggml-tiny.en-q8_0.bin)",
  ignore: !haveModel,
  fn: async (t) => {
    const rec = await longRecording(70);
    const { samples } = await decodeAudio(rec.wav);
    const model = await openModel(MODEL);
    try {
      await t.step("default pieces, two streams", async () => {
        const want = splitAtPauses(samples, {
          maxPieceS: DEFAULTS.PIECE_MAX_S,
        });
        assert(want.length >= 4, `70 s in ${want.length} pieces`);
        const r = await piecesThroughEngine(model, samples, DEFAULTS, 2);
        assertEquals(r.pieces, want.length);
        assertEquals(r.streams, 2);
        assert(r.wall_s > 0, `wall ${r.wall_s}`);
        const wer = wordErrorRate([{
          reference: rec.text,
          hypothesis: r.text,
        }]);
        assert(wer < 25, `WER ${wer} % of "${r.text}"`);
      });
      await t.step("PIECE_MAX_S decides the cut", async () => {
        const r = await piecesThroughEngine(
          model,
          samples,
          { ...DEFAULTS, PIECE_MAX_S: 30 },
          1,
        );
        assertEquals(
          r.pieces,
          splitAtPauses(samples, { maxPieceS: 30 }).length,
        );
        assert(
          r.pieces < splitAtPauses(samples, { maxPieceS: 20 }).length,
          `${r.pieces} pieces at 30 s`,
        );
      });
      await t.step(
        "another cut layout: the speech after leading silence",
        async () => {
          const shifted = withLeadingSilence(samples, 6);
          const r = await piecesThroughEngine(model, shifted, DEFAULTS, 2);
          assertEquals(
            r.pieces,
            splitAtPauses(shifted, { maxPieceS: DEFAULTS.PIECE_MAX_S }).length,
          );
          const wer = wordErrorRate([
            { reference: rec.text, hypothesis: r.text },
          ]);
          assert(wer < 25, `after 6 s of silence: WER ${wer} %`);
        },
      );
      await t.step("streams must be a whole number >= 1", async () => {
        for (const streams of [0, 1.5, -1]) {
          await assertRejects(() =>
            piecesThroughEngine(model, samples, DEFAULTS, streams)
          );
        }
      });
    } finally {
      await free(model);
    }
  },
});

Deno.test("withLeadingSilence puts the samples after that many seconds of zeros", () => {
  const s = new Float32Array([0.5, -0.25, 1]);
  const out = withLeadingSilence(s, 0.5);
  assertEquals(out.length, 8_000 + 3);
  assert(out.subarray(0, 8_000).every((v) => v === 0), "silence first");
  assertEquals([...out.subarray(8_000)], [0.5, -0.25, 1]);
  assertEquals([...withLeadingSilence(s, 0)], [0.5, -0.25, 1]);
  for (const bad of [-1, NaN, Infinity]) {
    let threw = false;
    try {
      withLeadingSilence(s, bad);
    } catch (error) {
      threw = error instanceof RangeError;
    }
    assert(threw, `seconds ${bad} must be refused`);
  }
});
