/**
 * Accuracy of the sized encoder context against full context: transcribes
 * the sample and `assets/clips/01..12` both ways and prints the corpus word
 * error rates, plus the median wall time of each setting.
 *
 *     deno run -A src/engine/bench_accuracy.ts [--floor 128] [--margin 2]
 *         [--threads 1] [--no-guard] [--model PATH]
 *
 * Last line: `wer_full=8.33 wer_fast=8.33 clips=13 ...`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { modelsDir } from "../config/mod.ts";
import { loadAssetClip } from "./_test_wav.ts";
import { audioCtxFor } from "./audio_ctx.ts";
import { free, openModel, transcribe } from "./engine.ts";
import { wordErrorRate, wordErrors } from "./wer.ts";

/** The clips measured: the sample and the 12 numbered clips. */
export const ACCURACY_CLIPS: readonly string[] = [
  "sample",
  ...Array.from(
    { length: 12 },
    (_, i) => `clips/${String(i + 1).padStart(2, "0")}`,
  ),
];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      floor: { type: "string", default: "128" },
      margin: { type: "string", default: "2" },
      threads: { type: "string", default: "1" },
      "no-guard": { type: "boolean", default: false },
      model: { type: "string", default: join(modelsDir(), "ggml-tiny.en.bin") },
    },
  });
  const floor = Number(values.floor);
  const margin = Number(values.margin);
  const threads = Number(values.threads);
  const guard = !values["no-guard"];
  const model = await openModel(values.model);
  const full: { reference: string; hypothesis: string }[] = [];
  const fast: { reference: string; hypothesis: string }[] = [];
  const fullMs: number[] = [];
  const fastMs: number[] = [];
  let retried = 0;
  try {
    for (const name of ACCURACY_CLIPS) {
      const { pcm, text } = await loadAssetClip(name);
      const audioCtx = audioCtxFor(pcm.length / 16_000, { floor, margin });
      const a = await transcribe(model, pcm, { threads, audioCtx: 0 });
      const b = await transcribe(model, pcm, { threads, audioCtx, guard });
      full.push({ reference: text, hypothesis: a.text });
      fast.push({ reference: text, hypothesis: b.text });
      fullMs.push(a.timings!.total_ms);
      fastMs.push(b.timings!.total_ms);
      if (b.timings!.retried) retried++;
      console.log(
        `${name.padEnd(9)} ctx ${String(audioCtx).padStart(4)} ` +
          `errors full ${wordErrors(text, a.text)} fast ${
            wordErrors(text, b.text)
          }${b.timings!.retried ? " (retried at full)" : ""}: ` +
          JSON.stringify(b.text),
      );
    }
  } finally {
    await free(model);
  }
  console.log(
    `wer_full=${wordErrorRate(full).toFixed(2)} ` +
      `wer_fast=${
        wordErrorRate(fast).toFixed(2)
      } clips=${ACCURACY_CLIPS.length} ` +
      `floor=${floor} margin=${margin} threads=${threads} guard=${guard} ` +
      `retried=${retried} median_ms_full=${median(fullMs).toFixed(0)} ` +
      `median_ms_fast=${median(fastMs).toFixed(0)}`,
  );
}

if (import.meta.main) await main();
