import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { modelsDir } from "../config/mod.ts";
import { loadAssetClip } from "../testing/clips.ts";
import { normalizeWords as words } from "../accuracy/mod.ts";
import { free, openModel, transcribe } from "./engine.ts";
import { hasRepeatedPhrase, isRunaway } from "./repetition_guard.ts";

const MODEL = join(modelsDir(), "ggml-tiny.en.bin");
const haveModel = await Deno.stat(MODEL).then(() => true, () => false);

Deno.test("hasRepeatedPhrase finds a phrase said 3 times back to back", () => {
  strictEqual(
    hasRepeatedPhrase("Open the door. Open the door. Open the"),
    false,
  );
  strictEqual(
    hasRepeatedPhrase("Open the door, Open the door, Open the door, Open"),
    true,
  );
  strictEqual(hasRepeatedPhrase("no no no"), false); // single words are speech
  strictEqual(hasRepeatedPhrase("Thank you very much."), false);
});

Deno.test("isRunaway flags unclosed segments and the token limit", async (t) => {
  const ok = [{ from: 0, to: 1000, text: " Open the door." }];
  await t.step("a closed segment inside the window is fine", () => {
    strictEqual(
      isRunaway(ok, { audioCtx: 160, maxTokens: 46, nTokens: 6 }),
      false,
    );
  });
  await t.step("a segment ending at the 30 s window is not", () => {
    const open = [{ from: 0, to: 30000, text: " Open the door, Open the" }];
    strictEqual(isRunaway(open, { audioCtx: 160, maxTokens: 46 }), true);
    // Without timestamps segments always span the window.
    strictEqual(
      isRunaway(open, { audioCtx: 160, maxTokens: 46, noTimestamps: true }),
      false,
    );
  });
  await t.step("the token limit reached", () => {
    strictEqual(isRunaway(ok, { audioCtx: 0, maxTokens: 6, nTokens: 6 }), true);
  });
});

Deno.test({
  name:
    "transcribe re-runs a looping clip at full context (needs ggml-tiny.en.bin)",
  ignore: !haveModel,
  fn: async () => {
    // clips/11 ("Thank you very much.") loops at audio_ctx 176, the context
    // the old default (margin 2 s) gave it.
    const { pcm, text } = await loadAssetClip("clips/11");
    const model = await openModel(MODEL);
    try {
      const raw = await transcribe(model, pcm, { audioCtx: 176, guard: false });
      strictEqual(hasRepeatedPhrase(raw.text), true, raw.text);
      const guarded = await transcribe(model, pcm, { audioCtx: 176 });
      strictEqual(guarded.timings?.retried, true);
      deepStrictEqual(words(guarded.text), words(text));
      strictEqual(guarded.timings?.native?.n_encode, 1);
    } finally {
      await free(model);
    }
  },
});
