/**
 * Engine micro-benchmark: model load time and the median of N
 * transcriptions of the ~1 s sample clip, threads 1 vs 2, encoder context
 * sized vs full (1500), for the default build (AVX2/FMA/F16C) and an
 * AVX-512 build (and, on request, `novec`: no vector flags). Each build
 * runs in its own subprocess.
 *
 *     deno run -A src/tasks/bench_engine.ts [--runs 20] [--model PATH]
 *         [--variants default,avx512]
 *
 * @module
 */
import { median } from "../stats/mod.ts";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { engineDir, modelsDir } from "../config/mod.ts";
import { loadAssetClip } from "../testing/clips.ts";
import { audioCtxFor } from "../engine/mod.ts";
import { ensureEngine } from "../engine/mod.ts";
import { cpuFlags } from "../engine/mod.ts";
import {
  engineSystemInfo,
  free,
  openModel,
  transcribe,
} from "../engine/mod.ts";

/** Figures measured for one build variant. */
interface VariantResult {
  variant: string;
  system_info: string;
  load_ms: number;
  /** Median ms per case, e.g. `t1_sized`. */
  median_ms: Record<string, number>;
  audio_ctx_sized: number;
  /** Two concurrent 1-thread calls: wall ms and their texts. */
  concurrent: { wall_ms: number; texts: string[] };
  text: string;
}

async function addonFor(variant: string): Promise<string> {
  if (variant === "default") return await ensureEngine();
  if (variant === "avx512") {
    return await ensureEngine({
      dir: join(engineDir(), "variant-avx512"),
      cpuFlags: cpuFlags({ avx512: true }),
    });
  }
  if (variant === "novec") {
    // smart-whisper's stock flags: no vector extensions beyond SSE2.
    return await ensureEngine({
      dir: join(engineDir(), "variant-novec"),
      cpuFlags: [],
    });
  }
  throw new Error(`unknown variant ${variant}`);
}

async function measure(
  variant: string,
  modelPath: string,
  runs: number,
): Promise<VariantResult> {
  const addonPath = await addonFor(variant);
  const { pcm } = await loadAssetClip("sample");
  const model = await openModel(modelPath, { addonPath });
  try {
    const sized = audioCtxFor(pcm.length / 16_000);
    const median_ms: Record<string, number> = {};
    let text = "";
    for (const threads of [1, 2]) {
      for (
        const [label, audioCtx] of [["sized", sized], ["full", 0]] as const
      ) {
        await transcribe(model, pcm, { threads, audioCtx }); // warm-up
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const r = await transcribe(model, pcm, { threads, audioCtx });
          times.push(r.timings!.total_ms);
          text = r.text;
        }
        median_ms[`t${threads}_${label}`] = median(times);
      }
    }
    const t0 = performance.now();
    const both = await Promise.all([
      transcribe(model, pcm, { threads: 1, audioCtx: sized }),
      transcribe(model, pcm, { threads: 1, audioCtx: sized }),
    ]);
    return {
      variant,
      system_info: await engineSystemInfo(addonPath),
      load_ms: model.loadMs,
      median_ms,
      audio_ctx_sized: sized,
      concurrent: {
        wall_ms: performance.now() - t0,
        texts: both.map((r) => r.text),
      },
      text,
    };
  } finally {
    await free(model);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "20" },
      model: {
        type: "string",
        default: join(modelsDir(), "ggml-tiny.en.bin"),
      },
      variants: { type: "string", default: "default,avx512" },
      child: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  if (values.child) {
    const result = await measure(values.child, values.model, runs);
    console.log(JSON.stringify(result));
    return;
  }
  for (const variant of values.variants.split(",")) {
    // Build first (in this process) so progress is visible.
    await addonFor(variant);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--child",
        variant,
        "--runs",
        String(runs),
        "--model",
        values.model,
      ],
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`bench ${variant} failed`);
    const r = JSON.parse(new TextDecoder().decode(out.stdout)) as VariantResult;
    const features = r.system_info.split(" | ")
      .filter((f) => /^(AVX|AVX2|AVX512|FMA|F16C) = /.test(f)).join(", ");
    console.log(`\n== ${variant}: ${features}`);
    console.log(`model load            ${r.load_ms.toFixed(0)} ms`);
    for (const [k, v] of Object.entries(r.median_ms)) {
      const [t, ctx] = k.split("_");
      const label = `${t!.slice(1)} thr, ctx ${
        ctx === "sized" ? r.audio_ctx_sized : 1500
      }`;
      console.log(`median of ${runs} ${label.padEnd(18)} ${v.toFixed(1)} ms`);
    }
    console.log(
      `2 concurrent (1 thr)  ${r.concurrent.wall_ms.toFixed(0)} ms wall: ${
        JSON.stringify(r.concurrent.texts)
      }`,
    );
    console.log(`text                  ${JSON.stringify(r.text)}`);
  }
}

if (import.meta.main) await main();
