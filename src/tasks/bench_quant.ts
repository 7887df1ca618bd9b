/**
 * f16 vs quantized models, side by side: processing time (median of N, one
 * thread) of the sample clip and of the sample + 12 clips, at the sized
 * encoder context (default floor and margin, repetition guard on, confidence
 * gate off: `src/accuracy/bench.ts` measures the gate) and at full context; whisper's own encoder/decoder split; word
 * error rate over the 13 clips; model load time; and the memory of a process
 * that loaded the model and ran 20 jobs.
 *
 * Timings come from one child process that holds every model and alternates
 * between them on each run, so load on the machine affects all alike. Each
 * model's memory is measured in fresh children of its own (/proc/self/status
 * VmRSS, VmHWM; median of `--mem-reps` children, since glibc's per-thread
 * malloc arenas make it vary from run to run), with the default allocator
 * settings and with each `--malloc-env` setting (`MALLOC_ARENA_MAX=1`).
 *
 *     deno run -A src/tasks/bench_quant.ts [--runs 20] [--passes 2]
 *         [--models tiny.en,tiny.en-q8_0,/path/to/ggml-x.bin] [--json FILE]
 *         [--mem-reps 3] [--malloc-env MALLOC_ARENA_MAX=1]
 *
 * @module
 */
import { median } from "../stats/mod.ts";
import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { modelsDir } from "../config/mod.ts";
import { loadAssetClip } from "../testing/clips.ts";
import { audioCtxFor } from "../engine/mod.ts";
import { ORIGINAL_CLIPS } from "../accuracy/mod.ts";
import {
  engineSystemInfo,
  free,
  type ModelHandle,
  openModel,
  transcribe,
  type TranscribeTimings,
} from "../engine/mod.ts";
import { wordErrorRate } from "../accuracy/mod.ts";

/** Medians of one model in one setting. */
interface Medians {
  n: number;
  total_ms: number;
  encode_ms: number;
  decode_ms: number;
  /** Decoder ms per decoded token (1-token steps). */
  decode_ms_per_token: number;
  mel_ms: number;
  sample_ms: number;
}

/** Everything measured about one model in the timing child. */
interface ModelTimings {
  model: string;
  size_bytes: number;
  load_ms: number;
  sample_sized: Medians;
  sample_full: Medians;
  clips_sized: Medians;
  clips_full: Medians;
  wer_sized: number;
  wer_full: number;
  retried_sized: number;
  texts_sized: string[];
}

/** Memory of a process that loaded one model and ran 20 jobs. */
interface ModelMemory {
  model: string;
  /** Allocator environment of the child ("" = default). */
  env: string;
  /** Deno with the addon loaded, before the model. */
  rss_base_mib: number;
  rss_loaded_mib: number;
  rss_after_jobs_mib: number;
  hwm_mib: number;
  jobs: number;
}

function medians(timings: TranscribeTimings[]): Medians {
  const pick = (f: (t: TranscribeTimings) => number) => median(timings.map(f));
  return {
    n: timings.length,
    total_ms: pick((t) => t.total_ms),
    encode_ms: pick((t) => t.native?.encode_ms ?? NaN),
    decode_ms: pick((t) =>
      (t.native?.decode_ms ?? NaN) + (t.native?.batchd_ms ?? 0) +
      (t.native?.prompt_ms ?? 0)
    ),
    decode_ms_per_token: pick((t) =>
      (t.native?.decode_ms ?? NaN) / Math.max(1, t.native?.n_decode ?? 1)
    ),
    mel_ms: pick((t) => t.native?.mel_ms ?? NaN),
    sample_ms: pick((t) => t.native?.sample_ms ?? NaN),
  };
}

function modelPath(spec: string): string {
  return spec.includes("/") ? spec : join(modelsDir(), `ggml-${spec}.bin`);
}

function statusMiB(field: "VmRSS" | "VmHWM"): number {
  const text = Deno.readTextFileSync("/proc/self/status");
  const m = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function loadClips() {
  return await Promise.all(
    ORIGINAL_CLIPS.map(async (name) => ({
      name,
      ...await loadAssetClip(name),
    })),
  );
}

const sized = (pcm: Float32Array) => audioCtxFor(pcm.length / 16_000);

async function timingChild(
  specs: string[],
  runs: number,
  passes: number,
): Promise<ModelTimings[]> {
  const clips = await loadClips();
  const sample = clips.find((c) => c.name === "sample")!;
  const paths = specs.map(modelPath);

  // Load time: median of 5 loads each, alternating (file in page cache).
  const loads: number[][] = specs.map(() => []);
  for (let i = 0; i < 5; i++) {
    for (const [m, path] of paths.entries()) {
      const h = await openModel(path);
      loads[m]!.push(h.loadMs);
      await free(h);
    }
  }
  const handles: ModelHandle[] = [];
  for (const path of paths) handles.push(await openModel(path));
  try {
    const collect = () => specs.map(() => [] as TranscribeTimings[]);
    // Warm-up.
    for (const h of handles) {
      await transcribe(h, sample.pcm, {
        audioCtx: sized(sample.pcm),
        minAvgLogprob: -Infinity,
      });
      await transcribe(h, sample.pcm, { audioCtx: 0 });
    }
    const sampleSized = collect();
    const sampleFull = collect();
    for (
      const [audioCtx, into] of [
        [sized(sample.pcm), sampleSized],
        [0, sampleFull],
      ] as const
    ) {
      for (let i = 0; i < runs; i++) {
        for (const [m, h] of handles.entries()) {
          const r = await transcribe(h, sample.pcm, {
            threads: 1,
            audioCtx,
            minAvgLogprob: -Infinity,
          });
          into[m]!.push(r.timings!);
        }
      }
    }
    const clipsSized = collect();
    const clipsFull = collect();
    const texts = specs.map(() => ({
      sized: [] as string[],
      full: [] as string[],
    }));
    const retried = specs.map(() => 0);
    for (let pass = 0; pass < passes; pass++) {
      for (const clip of clips) {
        for (const [m, h] of handles.entries()) {
          const a = await transcribe(h, clip.pcm, {
            threads: 1,
            audioCtx: sized(clip.pcm),
            minAvgLogprob: -Infinity,
          });
          const b = await transcribe(h, clip.pcm, { threads: 1, audioCtx: 0 });
          clipsSized[m]!.push(a.timings!);
          clipsFull[m]!.push(b.timings!);
          if (pass === 0) {
            texts[m]!.sized.push(a.text);
            texts[m]!.full.push(b.text);
            if (a.timings!.retried) retried[m]!++;
          }
        }
      }
    }
    return specs.map((model, m) => {
      const pairs = (kind: "sized" | "full") =>
        clips.map((c, i) => ({
          reference: c.text,
          hypothesis: texts[m]![kind][i]!,
        }));
      return {
        model,
        size_bytes: Deno.statSync(paths[m]!).size,
        load_ms: median(loads[m]!),
        sample_sized: medians(sampleSized[m]!),
        sample_full: medians(sampleFull[m]!),
        clips_sized: medians(clipsSized[m]!),
        clips_full: medians(clipsFull[m]!),
        wer_sized: wordErrorRate(pairs("sized")),
        wer_full: wordErrorRate(pairs("full")),
        retried_sized: retried[m]!,
        texts_sized: texts[m]!.sized,
      };
    });
  } finally {
    for (const h of handles) await free(h);
  }
}

async function memoryChild(spec: string, jobs: number): Promise<ModelMemory> {
  const clips = await loadClips();
  await engineSystemInfo(); // loads the addon
  const rssBase = statusMiB("VmRSS");
  const h = await openModel(modelPath(spec));
  const rssLoaded = statusMiB("VmRSS");
  try {
    for (let i = 0; i < jobs; i++) {
      const clip = clips[i % clips.length]!;
      await transcribe(h, clip.pcm, { threads: 1, audioCtx: sized(clip.pcm) });
    }
    return {
      model: spec,
      env: Deno.env.get("BENCH_MALLOC_ENV") ?? "",
      rss_base_mib: rssBase,
      rss_loaded_mib: rssLoaded,
      rss_after_jobs_mib: statusMiB("VmRSS"),
      hwm_mib: statusMiB("VmHWM"),
      jobs,
    };
  } finally {
    await free(h);
  }
}

async function runChild(
  args: string[],
  env: Record<string, string> = {},
): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, ...args],
    env,
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench child ${args.join(" ")} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "-";
}

function report(timings: ModelTimings[], memory: ModelMemory[]): string {
  const lines: string[] = [];
  const row = (cells: string[]) => lines.push(`| ${cells.join(" | ")} |`);
  row(["", ...timings.map((t) => basename(t.model))]);
  row(["---", ...timings.map(() => "---:")]);
  row([
    "file size (MiB)",
    ...timings.map((t) => fmt(t.size_bytes / 2 ** 20)),
  ]);
  row([
    "model load (ms, median of 5)",
    ...timings.map((t) => fmt(t.load_ms, 0)),
  ]);
  const settings = [
    ["sample, ctx sized", "sample_sized"],
    ["sample, ctx full", "sample_full"],
    ["13 clips, ctx sized", "clips_sized"],
    ["13 clips, ctx full", "clips_full"],
  ] as const;
  for (const [label, key] of settings) {
    const n = timings[0]![key].n;
    row([
      `**${label}** total (ms, median of ${n})`,
      ...timings.map((t) => fmt(t[key].total_ms)),
    ]);
    row(["  encoder (ms)", ...timings.map((t) => fmt(t[key].encode_ms))]);
    row(["  decoder (ms)", ...timings.map((t) => fmt(t[key].decode_ms))]);
    row([
      "  decoder per token (ms)",
      ...timings.map((t) => fmt(t[key].decode_ms_per_token, 2)),
    ]);
    row([
      "  mel + sampling (ms)",
      ...timings.map((t) => fmt(t[key].mel_ms + t[key].sample_ms)),
    ]);
  }
  row([
    "WER % ctx sized (13 clips)",
    ...timings.map((t) => fmt(t.wer_sized, 2)),
  ]);
  row(["WER % ctx full (13 clips)", ...timings.map((t) => fmt(t.wer_full, 2))]);
  row([
    "guard retries (ctx sized)",
    ...timings.map((t) => String(t.retried_sized)),
  ]);
  const envs = [...new Set(memory.map((m) => m.env))];
  for (const env of envs) {
    const of = (t: ModelTimings) =>
      memory.filter((m) => m.model === t.model && m.env === env);
    const med = (t: ModelTimings, f: (m: ModelMemory) => number) =>
      fmt(median(of(t).map(f)));
    const range = (t: ModelTimings, f: (m: ModelMemory) => number) => {
      const v = of(t).map(f);
      return `${fmt(median(v))} (${fmt(Math.min(...v), 0)}–${
        fmt(Math.max(...v), 0)
      })`;
    };
    const label = env || "default malloc";
    const reps = of(timings[0]!).length;
    row([
      `[${label}] RSS Deno + addon (MiB)`,
      ...timings.map((t) => med(t, (m) => m.rss_base_mib)),
    ]);
    row([
      `[${label}] RSS + model loaded (MiB)`,
      ...timings.map((t) => med(t, (m) => m.rss_loaded_mib)),
    ]);
    row([
      `[${label}] RSS after ${
        memory[0]!.jobs
      } jobs (MiB, median (min–max) of ${reps})`,
      ...timings.map((t) => range(t, (m) => m.rss_after_jobs_mib)),
    ]);
    row([
      `[${label}] VmHWM (MiB)`,
      ...timings.map((t) => range(t, (m) => m.hwm_mib)),
    ]);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "20" },
      passes: { type: "string", default: "2" },
      jobs: { type: "string", default: "20" },
      models: { type: "string", default: "tiny.en,tiny.en-q8_0" },
      json: { type: "string" },
      "mem-reps": { type: "string", default: "3" },
      "malloc-env": { type: "string", default: "MALLOC_ARENA_MAX=1" },
      child: { type: "string" },
    },
  });
  const specs = values.models.split(",").map((s) => s.trim()).filter(Boolean);
  const runs = Number(values.runs);
  const passes = Number(values.passes);
  const jobs = Number(values.jobs);
  if (values.child === "timing") {
    console.log(JSON.stringify(await timingChild(specs, runs, passes)));
    return;
  }
  if (values.child === "memory") {
    console.log(JSON.stringify(await memoryChild(specs[0]!, jobs)));
    return;
  }
  const memory: ModelMemory[] = [];
  const envs = ["", ...values["malloc-env"].split(",").filter(Boolean)];
  for (let rep = 0; rep < Number(values["mem-reps"]); rep++) {
    for (const env of envs) {
      for (const spec of specs) {
        const [key, value] = env.split("=");
        memory.push(
          await runChild(
            ["--child", "memory", "--models", spec, "--jobs", String(jobs)],
            env ? { [key!]: value ?? "", BENCH_MALLOC_ENV: env } : {},
          ) as ModelMemory,
        );
      }
    }
  }
  const timings = await runChild([
    "--child",
    "timing",
    "--models",
    specs.join(","),
    "--runs",
    String(runs),
    "--passes",
    String(passes),
  ]) as ModelTimings[];
  console.log(report(timings, memory));
  const base = timings[0]!;
  for (const t of timings.slice(1)) {
    const diff = t.texts_sized.filter((s, i) => s !== base.texts_sized[i]);
    console.log(
      `${
        basename(t.model)
      }: ${diff.length} of ${t.texts_sized.length} transcripts differ from ${
        basename(base.model)
      } (ctx sized)`,
    );
  }
  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify({ timings, memory }, null, 2) + "\n",
    );
  }
}

if (import.meta.main) await main();
