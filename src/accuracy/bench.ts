/**
 * The accuracy guard: word error rate on the accuracy corpus (the sample,
 * `assets/clips/01..12` and `assets/corpus/*`, see `corpus.ts`) at
 * full context, at the sized context (`fast`, repetition guard only) and
 * with the confidence gate (`gated`, the worker default), with time per
 * clip, the threshold the data would choose (and a two-fold check of that
 * choice), and what the gate costs on the 1 s sample.
 *
 *     deno task bench --accuracy [--models tiny.en,tiny.en-q8_0]
 *         [--min-logprob -0.6|off] [--floor 96] [--margin 1] [--threads 1]
 *         [--sample-runs 20] [--json FILE]
 *     deno task bench --accuracy [same options]
 *
 * Models are catalog names (`ggml-<name>.bin` in the models folder) or
 * paths. The first model's full-context WER is the reference: exit 1 when a
 * model's gated WER exceeds it by more than 1 point. One line per model
 * ends the output, e.g.
 * `accuracy: model=tiny.en wer_full=… wer_fast=… wer_gated=… clips=53 words=415 retried=10 …`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { modelsDir } from "../config/mod.ts";
import {
  type AccuracySummary,
  chooseMinAvgLogprob,
  type ClipAccuracy,
  crossValidate,
  type GateCost,
  measureAccuracy,
  measureGateCost,
  summarizeAccuracy,
} from "./measure.ts";
import {
  ACCURACY_CLIPS,
  GENERATED_CLIPS,
  loadAccuracyCorpus,
  ORIGINAL_CLIPS,
} from "./corpus.ts";
import {
  DEFAULT_AUDIO_CTX_FLOOR,
  DEFAULT_AUDIO_CTX_MARGIN_S,
} from "../engine/mod.ts";
import { DEFAULT_MIN_AVG_LOGPROB } from "../engine/mod.ts";
import { free, openModel } from "../engine/mod.ts";

export { ACCURACY_CLIPS };

/** Most a gated WER may exceed the reference full-context WER, points. */
export const MAX_WER_INCREASE = 1;

/** Options of {@linkcode runAccuracyBench}. */
export interface AccuracyBenchOptions {
  /** Runs before measuring, with the catalog names asked for (e.g. setup). */
  prepare?: (modelNames: string[]) => Promise<void>;
  /** Where lines go. @default console.log */
  say?: (line: string) => void;
}

/**
 * Parses `args` (see the module doc), measures and prints; resolves to the
 * exit code: 0 within {@linkcode MAX_WER_INCREASE}, 1 beyond it, 2 for bad
 * arguments.
 */
export async function runAccuracyBench(
  args: string[],
  options: AccuracyBenchOptions = {},
): Promise<number> {
  const say = options.say ?? ((line: string) => console.log(line));
  const { values } = parseArgs({
    args,
    options: {
      models: { type: "string", default: "tiny.en,tiny.en-q8_0" },
      "min-logprob": {
        type: "string",
        default: String(DEFAULT_MIN_AVG_LOGPROB),
      },
      floor: { type: "string", default: String(DEFAULT_AUDIO_CTX_FLOOR) },
      margin: { type: "string", default: String(DEFAULT_AUDIO_CTX_MARGIN_S) },
      threads: { type: "string", default: "1" },
      "sample-runs": { type: "string", default: "20" },
      json: { type: "string" },
    },
  });
  const specs = values.models.split(",").map((s) => s.trim()).filter(Boolean);
  const gate = values["min-logprob"] === "off"
    ? -Infinity
    : Number(values["min-logprob"]);
  const floor = Number(values.floor);
  const margin = Number(values.margin);
  const threads = Number(values.threads);
  const sampleRuns = Number(values["sample-runs"]);
  const bad = [
    specs.length === 0 && "--models names no model",
    !(gate <= 0) && "--min-logprob must be a number <= 0 or off",
    !(Number.isInteger(floor) && floor >= 1) &&
    "--floor must be an integer >= 1",
    !(margin >= 0) && "--margin must be >= 0",
    !(Number.isInteger(threads) && threads >= 1) &&
    "--threads must be an integer >= 1",
    !(Number.isInteger(sampleRuns) && sampleRuns >= 0) &&
    "--sample-runs must be an integer >= 0",
  ].filter((x) => typeof x === "string");
  if (bad.length > 0) {
    console.error(`bench --accuracy: ${bad.join("; ")}`);
    return 2;
  }
  await options.prepare?.(specs.filter((s) => !s.includes("/")));

  const clips = await loadAccuracyCorpus(ACCURACY_CLIPS);
  const sample = clips.find((c) => c.name === "sample")!;
  const settings = { threads, floor, margin, minAvgLogprob: gate };
  const results: {
    model: string;
    rows: ClipAccuracy[];
    summary: AccuracySummary;
  }[] = [];
  const lines: string[] = [];
  const f2 = (x: number) => x.toFixed(2);
  for (const spec of specs) {
    const path = spec.includes("/")
      ? spec
      : join(modelsDir(), `ggml-${spec}.bin`);
    const model = await openModel(path);
    say(`model ${spec} (${basename(path)}), min_avg_logprob ${gate}`);
    say(
      `${"clip".padEnd(10)} ${"ctx".padStart(4)}  errors full/fast/gated  ` +
        `avg_logprob  gated transcript`,
    );
    let rows: ClipAccuracy[];
    let cost: GateCost | undefined;
    try {
      rows = await measureAccuracy(model, clips, {
        ...settings,
        onClip: (r) =>
          say(
            `${r.name.padEnd(10)} ${String(r.audioCtx).padStart(4)}  ` +
              `${r.full.errors}/${r.fast.errors}/${r.gated.errors}`.padEnd(
                23,
              ) +
              `${(r.gated.avgLogprob?.toFixed(3) ?? "-").padStart(11)}  ` +
              `${r.gated.retryReason ? `[${r.gated.retryReason}] ` : ""}` +
              JSON.stringify(r.gated.text),
          ),
      });
      cost = sampleRuns > 0
        ? await measureGateCost(model, sample.pcm, sampleRuns, settings)
        : undefined;
    } finally {
      await free(model);
    }
    const s = summarizeAccuracy(rows);
    results.push({ model: spec, rows, summary: s });
    say(
      `${"setting".padEnd(8)} ${"wer %".padStart(6)} ${"errors".padStart(8)} ` +
        `${"retried".padStart(8)} ${"ms/clip p50".padStart(12)} ${
          "p95".padStart(7)
        } ${"mean".padStart(7)}`,
    );
    for (const k of ["full", "fast", "gated"] as const) {
      say(
        `${k.padEnd(8)} ${f2(s[k].wer).padStart(6)} ${
          `${s[k].errors}/${s.words}`.padStart(8)
        } ${`${s[k].retried}/${s.clips}`.padStart(8)} ${
          s[k].ms_p50.toFixed(0).padStart(12)
        } ${s[k].ms_p95.toFixed(0).padStart(7)} ${
          s[k].ms_mean.toFixed(0).padStart(7)
        }`,
      );
    }
    for (
      const [group, names] of [
        ["original", ORIGINAL_CLIPS],
        ["generated", GENERATED_CLIPS.map((c) => `corpus/${c.id}`)],
      ] as const
    ) {
      const part = rows.filter((r) => names.includes(r.name));
      if (part.length === 0) continue;
      const g = summarizeAccuracy(part);
      say(
        `${group.padEnd(9)} ${String(g.clips).padStart(2)} clips ` +
          `${String(g.words).padStart(3)} words: wer full/fast/gated ` +
          `${f2(g.full.wer)} / ${f2(g.fast.wer)} / ${f2(g.gated.wer)}, ` +
          `retried ${g.gated.retried}`,
      );
    }
    const retries = (reason: string) =>
      rows.filter((r) => r.gated.retryReason === reason).length;
    say(
      `gated retries: ${retries("runaway")} runaway, ` +
        `${retries("low_confidence")} low confidence`,
    );
    const best = chooseMinAvgLogprob(rows);
    say(
      `threshold chosen on all clips: ${f2(best.minAvgLogprob)} ` +
        `(wer ${f2(best.wer)}, retried ${best.retried}/${s.clips})`,
    );
    for (const fold of crossValidate(rows, gate)) {
      const other = fold.chosenOn === "even" ? "odd" : "even";
      const held = fold.heldOut;
      const fixed = fold.heldOutFixed;
      say(
        `chosen on ${fold.chosenOn} clips: ${f2(fold.chosen.minAvgLogprob)}; ` +
          `on the ${other} clips it gives wer ${f2(held.wer)}, retried ` +
          `${held.retried} (${gate} gives wer ${f2(fixed.wer)}, retried ` +
          `${fixed.retried}; full ${f2(fold.heldOutFullWer)}, ` +
          `fast ${f2(fold.heldOutFastWer)})`,
      );
    }
    if (cost) {
      say(
        `sample (${(sample.pcm.length / 16_000).toFixed(2)} s), ${cost.runs} ` +
          `runs each: median ${cost.ungated_ms_p50.toFixed(1)} ms ungated, ` +
          `${cost.gated_ms_p50.toFixed(1)} ms gated (retried ${cost.retried})`,
      );
    }
    const ref = results[0]!.summary.full.wer;
    const ok = s.gated.wer <= ref + MAX_WER_INCREASE;
    lines.push(
      `accuracy: model=${spec} wer_full=${f2(s.full.wer)} ` +
        `wer_fast=${f2(s.fast.wer)} wer_gated=${f2(s.gated.wer)} ` +
        (results.length > 1 ? `wer_ref_full=${f2(ref)} ` : "") +
        `clips=${s.clips} words=${s.words} retried=${s.gated.retried} ` +
        `min_avg_logprob=${gate} ms_p50_full=${s.full.ms_p50.toFixed(0)} ` +
        `ms_p50_gated=${s.gated.ms_p50.toFixed(0)} ` +
        `ms_p95_gated=${s.gated.ms_p95.toFixed(0)} ${ok ? "ok" : "FAILED"}`,
    );
  }
  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify({ settings, results }, null, 1) + "\n",
    );
  }
  for (const line of lines) say(line);
  return lines.every((l) => l.endsWith(" ok")) ? 0 : 1;
}
