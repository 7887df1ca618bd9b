/**
 * `deno task bench:long [--recordings 2min,8min] [--repeat 3] [--workers N]
 * [--peer-threads N] [--engine-streams N] [--layouts N] [--model NAME]
 * [--voices VOICE:SPEED,…] [--no-sequential]
 * [--fairness N] [--api native|openai] [--out DIR]`: one long
 * recording at a time end to end through our stack (one `POST /jobs`,
 * long-polled; with `--api openai` one `POST /v1/audio/transcriptions`
 * answering SubRip) against faster-whisper 1.2.1 on the same tiny.en weights
 * and against our engine alone (the same pieces, cut and set up as the
 * workers do, in this process with N streams × 1 thread; 0 skips it: the
 * stack's floor), in the same run, alternating ours, peer, engine, ours …;
 * then our engine in-process on the whole file at full context
 * ("sequential", skipped with `--no-sequential`); then word error rates
 * over `--layouts` cut layouts (default 4: the recording after 0, 3, 6, 9 s
 * of leading silence, which moves where the pieces are cut; 1 skips it) of
 * the engine alone, faster-whisper and the whole-file pass, with issue 12's
 * accuracy targets judged on their means; with `--voices en-gb:160,…`
 * the same texts spoken by espeak-ng in those voices too, every layout
 * measured in each, and the means over the voices (issue 12's targets stay
 * judged on the corpus' own voice); then fairness: N copies
 * (default 4, 0 skips) of the last recording from one identity while
 * another sends 1 s clips at 1/s.
 *
 * Prints a table of medians (wall s, first text s — when a client first
 * had words to show: ours' first poll with a `partial_transcript`, the
 * peer's first segment —, real-time factor, WER %, words out /
 * reference words, per-piece processing p50/p95, ours ÷ peer, engine alone
 * ÷ peer) and what the stack adds over the engine alone on stdout, and
 * writes every run, the medians and the machine's facts to
 * `<out>/bench_long.json` (default `perf/results/bench-long-<time>/`).
 * Defaults: workers = cores + 1 (as `deno task perf`), 1 whisper thread
 * each; peer threads = cores; engine streams = cores; sequential threads =
 * cores; model tiny.en-q8_0. When faster-whisper can't be installed the
 * bench says so and measures ours alone.
 *
 * Exit 0 done, 1 a run failed or Ctrl-C, 2 a bad flag or missing espeak-ng.
 *
 * @module
 */
import { join, relative } from "node:path";
import { parseFlags, runCli } from "../cli/mod.ts";
import { PROJECT_ROOT } from "../config/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { DEFAULT_MODEL } from "../models/mod.ts";
import { estimateMinutes, runLongBench } from "../bench/long_bench.ts";
import {
  LONG_RECORDINGS,
  LONG_TEXT_DIR,
  type LongVoice,
  parseVoices,
} from "../bench/long_corpus.ts";
import {
  formatLayouts,
  formatTable,
  formatVoices,
} from "../bench/long_report.ts";

const USAGE = "usage: deno task bench:long [--recordings 2min,8min] " +
  "[--repeat N] [--workers N] [--peer-threads N] [--engine-streams N] " +
  "[--layouts N] [--model NAME] [--voices VOICE:SPEED,...] " +
  "[--no-sequential] [--fairness N] [--api native|openai] [--out DIR]";

/** Approximate durations of the committed recordings, for the notice. */
const APPROX_AUDIO_S: Record<string, number> = { "2min": 120, "8min": 479 };

function intFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new ConfigError(
      `--${name} must be an integer in ${min}..${max}, got "${raw}"; ${USAGE}`,
    );
  }
  return n;
}

const shownPath = (path: string) => relative(PROJECT_ROOT, path);

/** `perf/results` or `PERF_RESULTS_DIR`, as `deno task perf` uses. */
function resultsRoot(): string {
  return Deno.env.get("PERF_RESULTS_DIR") ?? join(PROJECT_ROOT, "perf/results");
}

async function main(): Promise<number> {
  const { values, positionals } = parseFlags({
    args: Deno.args,
    allowPositionals: true,
    options: {
      recordings: { type: "string", default: LONG_RECORDINGS.join(",") },
      repeat: { type: "string" },
      workers: { type: "string" },
      "peer-threads": { type: "string" },
      "engine-streams": { type: "string" },
      layouts: { type: "string" },
      model: { type: "string" },
      voices: { type: "string", default: "" },
      "no-sequential": { type: "boolean", default: false },
      fairness: { type: "string" },
      api: { type: "string", default: "native" },
      out: { type: "string" },
    },
  }, USAGE);
  if (positionals.length > 0) {
    throw new ConfigError(`unexpected argument "${positionals[0]}"; ${USAGE}`);
  }
  const cores = navigator.hardwareConcurrency;
  const recordings = values.recordings.split(",").map((s) => s.trim())
    .filter(Boolean);
  if (recordings.length === 0) {
    throw new ConfigError(`--recordings is empty; ${USAGE}`);
  }
  for (const name of recordings) {
    const path = join(LONG_TEXT_DIR, `${name}.txt`);
    if (!(await Deno.stat(path).then((s) => s.isFile, () => false))) {
      throw new ConfigError(
        `--recordings: no text ${shownPath(path)} for "${name}" (have: ${
          LONG_RECORDINGS.join(", ")
        })`,
      );
    }
  }
  const repeat = intFlag("repeat", values.repeat, 3, 1, 50);
  const workers = intFlag("workers", values.workers, cores + 1, 1, 64);
  const peerThreads = intFlag(
    "peer-threads",
    values["peer-threads"],
    cores,
    1,
    256,
  );
  const engineStreams = intFlag(
    "engine-streams",
    values["engine-streams"],
    cores,
    0,
    64,
  );
  const layouts = intFlag("layouts", values.layouts, 4, 1, 16);
  let voices: LongVoice[];
  try {
    voices = parseVoices(values.voices);
  } catch (error) {
    throw new ConfigError(`--voices: ${(error as Error).message}; ${USAGE}`);
  }
  if (voices.length > 0 && engineStreams === 0) {
    throw new ConfigError(
      `--voices needs the engine alone (--engine-streams 0 skips it); ${USAGE}`,
    );
  }
  const model = values.model ?? DEFAULT_MODEL;
  const sequential = !values["no-sequential"];
  const fairnessRecordings = intFlag("fairness", values.fairness, 4, 0, 16);
  const api = values.api;
  if (api !== "native" && api !== "openai") {
    throw new ConfigError(
      `--api must be native or openai, got "${api}"; ${USAGE}`,
    );
  }
  const stamp = new Date().toISOString().replace(/\.\d{3}Z$/, "Z")
    .replace(/:/g, "-");
  const outDir = values.out ?? join(resultsRoot(), `bench-long-${stamp}`);

  const minutes = estimateMinutes(
    recordings.map((r) => APPROX_AUDIO_S[r] ?? 300),
    repeat,
    sequential,
    engineStreams > 0,
  ) + Math.ceil(
    // The extra cut layouts (and every layout of each other voice): engine
    // alone ~0.025 × the audio, the peer ~0.03 ×, the whole-file pass
    // ~0.03 × each.
    (engineStreams > 0 ? layouts - 1 + voices.length * layouts : 0) *
      recordings.reduce((a, r) => a + (APPROX_AUDIO_S[r] ?? 300), 0) *
      (0.025 + 0.03 + (sequential ? 0.03 : 0)) / 60,
  ) + Math.ceil(
    // The fairness phase: the recordings at ~0.03 × their audio.
    fairnessRecordings * (APPROX_AUDIO_S[recordings.at(-1)!] ?? 300) * 0.03 /
      60,
  );
  console.error(
    `bench:long: ${recordings.length} recording${
      recordings.length === 1 ? "" : "s"
    } × ${repeat} run${repeat === 1 ? "" : "s"}, ~${minutes} min ` +
      `(${recordings.join(", ")}; ours: ${workers} workers × 1 thread, ` +
      `faster-whisper: ${peerThreads} thread(s)` +
      `${
        engineStreams
          ? `, engine alone: ${engineStreams} streams × 1 thread`
          : ""
      }` +
      `${sequential ? `, sequential: ${cores} threads` : ""}); out ${outDir}`,
  );

  const interrupt = Promise.withResolvers<never>();
  interrupt.promise.catch(() => {});
  let signalled = false;
  const onSignal = () => {
    signalled = true;
    console.error("bench:long: interrupted; stopping what was started");
    interrupt.reject(new Error("interrupted by a signal"));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const result = await runLongBench({
      recordings,
      repeat,
      workers,
      peerThreads,
      engineStreams,
      layouts,
      voices,
      model,
      sequential,
      sequentialThreads: cores,
      fairnessRecordings,
      api,
      outDir,
      say: (line) => console.error(line),
      interrupt: interrupt.promise,
    });
    console.log(formatTable(result.summaries));
    if (result.peerUnavailable) {
      console.log(`faster-whisper: not measured (${result.peerUnavailable})`);
    }
    for (const s of result.summaries) {
      if (s.ratio_ours_engine !== null) {
        console.log(
          `${s.recording}: the stack took ${
            s.ratio_ours_engine.toFixed(2)
          } × the engine alone on the same pieces (${
            s.ours!.wall_s.toFixed(2)
          } vs ${s.engine!.wall_s.toFixed(2)} s)`,
        );
      }
      const ids = s.ours?.worker_ids ?? [];
      console.log(
        `${s.recording}: workers that took pieces: ${
          ids.length ? ids.join(", ") : "n/a (job not split)"
        }`,
      );
    }
    for (const l of [...result.layouts, ...result.voiceLayouts]) {
      for (const line of formatLayouts(l)) console.log(line);
    }
    for (const v of result.voices) console.log(formatVoices(v));
    const f = result.fairness;
    if (f) {
      console.log(
        `fairness: ${f.recordings} recordings of ${
          recordings.at(-1)
        } from one identity took ${f.long_wall_s} s; meanwhile ${f.clips} 1 s clips at ${f.rate_hz}/s ` +
          `from another: processing p50/p95 ${f.clip_processing_ms.p50}/${f.clip_processing_ms.p95} ms, ` +
          `end to end p50/p95 ${f.clip_e2e_ms.p50}/${f.clip_e2e_ms.p95} ms, ` +
          `${f.clips_refused} refused, ${f.clips_failed} failed`,
      );
    }
    console.log(`bench_long.json: ${result.jsonPath}`);
    return 0;
  } catch (error) {
    if (signalled) {
      console.error(`bench:long: interrupted; partial runs in ${outDir}`);
      return 1;
    }
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) await runCli("bench:long", main);
