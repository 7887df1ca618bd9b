/**
 * `deno task bench:long`'s measurement: long espeak-ng recordings end to end
 * through the real stack (one `POST /jobs`, long-polled to the end) and
 * through faster-whisper in one Python process and through our engine alone
 * (the same pieces in this process: the stack's floor), alternating run by
 * run, plus our engine in-process on the whole file at full context
 * ("sequential").
 *
 * @module
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../config/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { decodeAudio, readBase64File } from "../audio/mod.ts";
import {
  free,
  type ModelHandle,
  openModel,
  transcribe,
} from "../engine/mod.ts";
import { verifyInstalledModel } from "../models/mod.ts";
import { parseEnv, WorkerConfigSchema } from "../config/mod.ts";
import { piecesThroughEngine } from "./long_engine.ts";
import {
  layoutMeasure,
  type LayoutSystems,
  measureLayout,
  measureVoices,
  speakVoices,
  werAndWords,
} from "./long_layouts.ts";
import { setup } from "../setup/mod.ts";
import { type Stack, startStack } from "../stack/mod.ts";
import { SAMPLE_CLIP } from "./engine_throughput.ts";
import {
  transcribeThroughOpenAi,
  transcribeThroughStack,
} from "./long_clients.ts";
import {
  ensureLongRecording,
  EspeakMissingError,
  espeakVersion,
  type LongRecording,
  type LongVoice,
  voiceLabel,
} from "./long_corpus.ts";
import {
  type LayoutMeasure,
  type LayoutsSummary,
  type LongRun,
  pieceStats,
  type RecordingSummary,
  summarizeLayouts,
  summarizeRuns,
  type VoicesSummary,
} from "./long_report.ts";
import {
  ensurePeer,
  type Peer,
  type PeerInstall,
  PeerProtocolError,
  PeerUnavailableError,
  startPeer,
} from "./peer_faster_whisper.ts";

import { type FairnessResult, measureFairness } from "./long_fairness.ts";

/** Options of {@linkcode runLongBench}. */
export interface LongBenchOptions {
  /** Recording names (`assets/long/<name>.txt`). */
  recordings: string[];
  /** Runs of each system per recording (alternating ours, peer, …). */
  repeat: number;
  /** Stack workers (one whisper thread each). */
  workers: number;
  /** faster-whisper's cpu_threads. */
  peerThreads: number;
  /** Model of the stack and of the sequential reference. */
  model: string;
  /**
   * Concurrent 1-thread streams of the engine-alone runs (the recording's
   * pieces in this process); 0 skips them.
   */
  engineStreams: number;
  /**
   * Cut layouts of the word error rates: the recording as is, then after 3,
   * 6, … s of leading silence (1: as is only), through the engine alone's
   * pieces and (when they run) the peer and the whole-file pass.
   */
  layouts: number;
  /**
   * Other voices to speak each recording's text in: every cut layout is
   * measured in each (engine alone, peer, whole-file pass), then the means
   * over the voices. Needs the engine alone (`engineStreams` > 0).
   * @default []
   */
  voices?: LongVoice[];
  /** Measure the in-process full-context reference too. */
  sequential: boolean;
  /** Threads of the sequential reference. */
  sequentialThreads: number;
  /**
   * Then measure fairness: this many copies of the last recording from one
   * identity, 1 s clips at 1/s from another (0: skip).
   */
  fairnessRecordings: number;
  /**
   * How ours is asked: `native` (`POST /jobs`, long-polled) or `openai`
   * (`POST /v1/audio/transcriptions` answering SubRip, the job read back).
   * @default "native"
   */
  api?: "native" | "openai";
  /** Folder of bench_long.json and the logs. */
  outDir: string;
  /** Progress lines (stderr). */
  say: (line: string) => void;
  /** Rejects (with the reason) when the bench must stop, e.g. on Ctrl-C. */
  interrupt: Promise<never>;
}

/** What {@linkcode runLongBench} measured. */
export interface LongBenchResult {
  runs: LongRun[];
  summaries: RecordingSummary[];
  /** Why the peer was left out, or null when it ran. */
  peerUnavailable: string | null;
  /** Path of bench_long.json. */
  jsonPath: string;
  /** The fairness measurement, when it ran. */
  fairness: FairnessResult | null;
  /** Per recording, the WERs over cut layouts (when measured). */
  layouts: LayoutsSummary[];
  /** The same over cut layouts, per recording and `--voices` voice. */
  voiceLayouts: LayoutsSummary[];
  /** Per recording, the means over its voices (with `voices`). */
  voices: VoicesSummary[];
}

/** Rough wall time of a bench, minutes, for the up-front notice. */
export function estimateMinutes(
  audioS: readonly number[],
  repeat: number,
  sequential: boolean,
  engine = false,
): number {
  // Seen on the 2-core machine (2026-12-06, shared with other work): stack
  // 0.04–0.13 × audio, peer 0.03–0.05 ×, engine alone 0.02–0.03 ×,
  // sequential (full context, 2 threads) ~0.03 × (it was 0.1–1.0 × before
  // each 30 s window stopped being prompted with the ones before);
  // start-up ≈ 40 s.
  const total = audioS.reduce((a, b) => a + b, 0);
  const s = 40 + total * repeat * (0.12 + 0.045 + (engine ? 0.03 : 0)) +
    (sequential ? total * 0.05 : 0);
  return Math.max(1, Math.ceil(s / 60));
}

/** Machine facts recorded with the runs. */
async function machineFacts(): Promise<Record<string, unknown>> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const git = await new Deno.Command("git", {
    args: ["rev-parse", "HEAD"],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "null",
  }).output().then(
    (o) => o.success ? new TextDecoder().decode(o.stdout).trim() : null,
    () => null,
  );
  return {
    cores: navigator.hardwareConcurrency,
    cpu_model: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? null,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    git_commit: git,
    mem_total_kib: Number(
      /MemTotal:\s*(\d+)/.exec(
        await Deno.readTextFile("/proc/meminfo").catch(() => ""),
      )?.[1] ?? NaN,
    ) || null,
  };
}

/**
 * The 1-minute load average (other work on the machine shows here; the
 * runs alternate so both systems see it alike); null when unreadable.
 */
async function loadAverage(): Promise<number | null> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "");
  const v = Number(text.split(" ")[0]);
  return text && Number.isFinite(v) ? v : null;
}

/**
 * Runs the bench: provisions, generates the recordings, installs the peer
 * (or says why not), starts the stack and the peer, warms both with the
 * one-second sample, then for each recording `repeat` times ours, peer and
 * the engine alone, then the sequential reference once, then the other
 * cut layouts (engine alone, peer, sequential on each). Writes
 * `bench_long.json` (also when it fails part-way, with an `error`) and stops
 * every process it started.
 *
 * @throws {ConfigError} (exit 2) when espeak-ng is missing or a recording has no text.
 */
export async function runLongBench(
  o: LongBenchOptions,
): Promise<LongBenchResult> {
  const say = o.say;
  const startedAt = new Date().toISOString();
  await Deno.mkdir(o.outDir, { recursive: true });
  const jsonPath = join(o.outDir, "bench_long.json");
  const logDir = join(o.outDir, "logs");
  await Deno.mkdir(logDir, { recursive: true });
  const guard = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([p, o.interrupt]);

  const runs: LongRun[] = [];
  const layouts: LayoutsSummary[] = [];
  const voiceLayouts: LayoutsSummary[] = [];
  const voiceSummaries: VoicesSummary[] = [];
  const report: Record<string, unknown> = {
    schema: "bench-long/1",
    started_at: startedAt,
    machine: await machineFacts(),
    config: {
      model: o.model,
      workers: o.workers,
      whisper_threads: 1,
      peer_threads: o.peerThreads,
      peer_compute_type: "int8",
      engine_streams: o.engineStreams,
      layouts: o.layouts,
      voices: (o.voices ?? []).map(voiceLabel),
      api: o.api ?? "native",
      sequential: o.sequential,
      sequential_threads: o.sequentialThreads,
      repeat: o.repeat,
      recordings: o.recordings,
      order:
        "per recording: ours, peer, engine alone, ours, …, then sequential once, then per extra cut layout: engine alone, peer, sequential",
    },
    runs,
    layouts,
    voice_layouts: voiceLayouts,
    voices: voiceSummaries,
  };
  const write = async (extra: Record<string, unknown> = {}) => {
    await Deno.writeTextFile(
      jsonPath,
      `${
        JSON.stringify(
          {
            ...report,
            finished_at: new Date().toISOString(),
            summaries: summarizeRuns(runs),
            ...extra,
          },
          null,
          2,
        )
      }\n`,
    );
  };

  let stack: Stack | null = null;
  let peer: Peer | null = null;
  let model: ModelHandle | null = null;
  /** Shifted copies of a recording for the peer (removed at the end). */
  let layoutDir: string | null = null;
  let ok = false;
  try {
    await guard(setup({ models: [o.model], k6: false, say }));

    // The recordings.
    let espeak: string;
    try {
      espeak = await espeakVersion();
    } catch (error) {
      if (error instanceof EspeakMissingError) {
        throw new ConfigError(
          `${error.message}; install espeak-ng (Debian: apt-get install espeak-ng)`,
          { cause: error },
        );
      }
      throw error;
    }
    report.espeak_ng = espeak;
    const recordings: LongRecording[] = [];
    for (const name of o.recordings) {
      const r = await ensureLongRecording(name, { espeak }).catch((error) => {
        if (error instanceof Deno.errors.NotFound) {
          throw new ConfigError(
            `recording ${name}: no text assets/long/${name}.txt`,
            { cause: error },
          );
        }
        throw error;
      });
      say(
        `bench:long: ${name}: ${
          r.sidecar.duration_s.toFixed(1)
        } s, ${r.sidecar.words} words${r.generated ? " (generated)" : ""}`,
      );
      recordings.push(r);
    }
    // The same texts in the other voices (with the engine alone only).
    const voices = o.engineStreams > 0 ? o.voices ?? [] : [];
    const voiced = await speakVoices(recordings, voices, espeak, say);
    report.corpus = [...recordings, ...voiced.values()].map((r) => ({
      ...r.sidecar,
      wav: r.wavPath,
    }));

    // The peer: installed and started, or a clear reason it isn't.
    let peerUnavailable: string | null = null;
    let install: PeerInstall | null = null;
    try {
      say("bench:long: checking faster-whisper (pip, project-local)");
      install = await guard(
        ensurePeer({ log: (l) => say(`bench:long: ${l}`) }),
      );
      peer = await guard(startPeer(install, {
        threads: o.peerThreads,
        logPath: join(logDir, "faster-whisper.log"),
      }));
      say(
        `bench:long: faster-whisper ${install.fasterWhisper} (ctranslate2 ${install.ctranslate2}) ` +
          `loaded in ${
            peer.ready.load_s.toFixed(2)
          } s, ${o.peerThreads} thread(s)`,
      );
    } catch (error) {
      if (
        !(error instanceof PeerUnavailableError ||
          error instanceof PeerProtocolError)
      ) throw error;
      peerUnavailable = error.message;
      say(
        `bench:long: PEER UNAVAILABLE — faster-whisper could not be installed or started: ` +
          `${error.message}\nbench:long: measuring ours alone`,
      );
    }
    report.peer = install
      ? {
        available: peer !== null,
        reason: peerUnavailable,
        install_command: install.installCommand,
        installed_now: install.installedNow,
        faster_whisper: install.fasterWhisper,
        ctranslate2: install.ctranslate2,
        model_dir: install.modelDir,
        load_s: peer?.ready.load_s ?? null,
        settings: {
          device: "cpu",
          compute_type: "int8",
          cpu_threads: o.peerThreads,
          beam_size: 1,
          language: "en",
          condition_on_previous_text: false,
          vad_filter: false,
          word_timestamps: false,
        },
      }
      : { available: false, reason: peerUnavailable };

    // The settings the stack's workers read from this environment (the
    // engine-alone runs follow them).
    const pieceSettings = parseEnv(WorkerConfigSchema);

    // Our stack, mirroring `deno task perf`: workers × 1 whisper thread.
    say(
      `bench:long: starting the stack (${o.workers} workers × 1 thread, ${o.model})`,
    );
    stack = await guard(startStack({
      workers: o.workers,
      model: o.model,
      logDir: join(logDir, "stack"),
      workerEnv: { WHISPER_THREADS: "1" },
      onEvent: (m) => say(`bench:long: stack: ${m}`),
    }));
    const live = stack;
    const died = live.died.then((d) => {
      throw new Error(
        `${d.component} died (code ${d.exit.code}); log ${d.logPath}:\n  ${
          d.tail.join("\n  ")
        }`,
      );
    });
    died.catch(() => undefined);
    const watch = <T>(p: Promise<T>) => guard(Promise.race([p, died]));

    // Warm both with the one-second sample (not measured).
    const sample = await readBase64File(SAMPLE_CLIP);
    const samplePath = join(logDir, "warmup-sample.wav");
    await Deno.writeFile(samplePath, sample);
    const warm = await watch(
      transcribeThroughStack(live.baseUrl, sample, "sample.wav", 120_000),
    );
    say(`bench:long: warm-up job: ${warm.wall_s.toFixed(2)} s`);
    if (peer) {
      const w = await watch(peer.transcribe(samplePath));
      say(`bench:long: warm-up peer: ${w.wall_s.toFixed(2)} s`);
    }
    if (o.engineStreams > 0) {
      model = await guard(
        openModel((await verifyInstalledModel(o.model)).path),
      );
      const t0 = performance.now();
      await guard(transcribe(model, (await decodeAudio(sample)).samples, {
        threads: 1,
      }));
      say(
        `bench:long: warm-up engine alone: ${
          ((performance.now() - t0) / 1000).toFixed(2)
        } s`,
      );
    }

    for (const rec of recordings) {
      const audioS = rec.sidecar.duration_s;
      const wav = await Deno.readFile(rec.wavPath);
      // Decoded once: the engine alone, the whole-file pass and the layouts.
      const samples = (await decodeAudio(wav)).samples;
      for (let i = 1; i <= o.repeat; i++) {
        const oursLoad = await loadAverage();
        const { wall_s, first_text_s, job, cues } = await watch(
          o.api === "openai"
            ? transcribeThroughOpenAi(live.baseUrl, wav, `${rec.name}.wav`)
              .then((r) => ({ ...r, first_text_s: null as number | null }))
            : transcribeThroughStack(
              live.baseUrl,
              wav,
              `${rec.name}.wav`,
              Math.max(600_000, audioS * 3000),
            ).then((r) => ({ ...r, cues: null as number | null })),
        );
        const transcript = String(job.transcript ?? "");
        const pieces = pieceStats(job);
        runs.push({
          recording: rec.name,
          system: "ours",
          index: i,
          wall_s,
          first_text_s,
          audio_s: audioS,
          ...werAndWords(rec.text, transcript),
          pieces,
          transcript,
          detail: {
            load_1m_before: oursLoad,
            job_id: job.job_id,
            processing_ms: job.processing_ms ?? null,
            queue_wait_ms: job.queue_wait_ms ?? null,
            audio_duration_s: job.audio_duration_s ?? null,
            attempts: job.attempts ?? null,
            segments: Array.isArray(job.segments) ? job.segments.length : null,
            progress: job.progress ?? null,
            pieces: job.pieces ?? null,
            api: o.api ?? "native",
            srt_cues: cues,
          },
        });
        const last = runs.at(-1)!;
        say(
          `bench:long: ${rec.name} run ${i}/${o.repeat} ours: ${
            wall_s.toFixed(2)
          } s${firstText(first_text_s)}, ` +
            `WER ${last.wer_pct.toFixed(2)} %, ${
              pieces
                ? `${pieces.count} pieces on ${pieces.worker_ids.length} worker(s)${
                  pieces.timeline
                    ? `, lead ${pieces.timeline.lead_ms} ms, tail ${pieces.timeline.tail_ms} ms (alone ${pieces.timeline.alone_ms} ms)`
                    : ""
                }`
                : "not split"
            }`,
        );
        await write();
        if (peer) {
          const peerLoad = await loadAverage();
          const p = await watch(peer.transcribe(rec.wavPath));
          runs.push({
            recording: rec.name,
            system: "peer",
            index: i,
            wall_s: p.wall_s,
            first_text_s: p.first_text_s,
            audio_s: audioS,
            ...werAndWords(rec.text, p.text),
            pieces: null,
            transcript: p.text,
            detail: {
              load_1m_before: peerLoad,
              audio_s: p.audio_s,
              segments: p.segments.length,
            },
          });
          say(
            `bench:long: ${rec.name} run ${i}/${o.repeat} peer: ${
              p.wall_s.toFixed(2)
            } s${firstText(p.first_text_s)}, ` +
              `WER ${runs.at(-1)!.wer_pct.toFixed(2)} %`,
          );
          await write();
        }
        if (model && o.engineStreams > 0) {
          const engineLoad = await loadAverage();
          const e = await guard(
            piecesThroughEngine(model, samples, pieceSettings, o.engineStreams),
          );
          runs.push({
            recording: rec.name,
            system: "engine",
            index: i,
            wall_s: e.wall_s,
            audio_s: audioS,
            ...werAndWords(rec.text, e.text),
            pieces: null,
            transcript: e.text,
            detail: {
              load_1m_before: engineLoad,
              pieces: e.pieces,
              streams: e.streams,
              retried: e.retried,
            },
          });
          say(
            `bench:long: ${rec.name} run ${i}/${o.repeat} engine alone: ${
              e.wall_s.toFixed(2)
            } s, WER ${
              runs.at(-1)!.wer_pct.toFixed(2)
            } %, ${e.pieces} pieces, ` +
              `${e.streams} streams × 1 thread`,
          );
          await write();
        }
      }
      /** Our engine on the whole file at full context, in this process. */
      const wholeFile = async (pcm: Float32Array) => {
        model ??= await guard(
          openModel((await verifyInstalledModel(o.model)).path),
        );
        const t0 = performance.now();
        // The pieces' decoding but for the split: the same fallback.
        const out = await guard(transcribe(model, pcm, {
          threads: o.sequentialThreads,
          audioCtx: 0,
          fallback: pieceSettings.PIECE_FALLBACK,
        }));
        return { wall_s: (performance.now() - t0) / 1000, out };
      };
      if (o.sequential) {
        const seqLoad = await loadAverage();
        const { wall_s, out } = await wholeFile(samples);
        runs.push({
          recording: rec.name,
          system: "sequential",
          index: 1,
          wall_s,
          audio_s: audioS,
          ...werAndWords(rec.text, out.text),
          pieces: null,
          transcript: out.text,
          detail: {
            load_1m_before: seqLoad,
            threads: o.sequentialThreads,
            audio_ctx: 0,
            fallback: pieceSettings.PIECE_FALLBACK,
            segments: out.segments.length,
            timings: out.timings ?? null,
          },
        });
        say(
          `bench:long: ${rec.name} sequential (${o.sequentialThreads} threads, full context): ` +
            `${wall_s.toFixed(2)} s, WER ${runs.at(-1)!.wer_pct.toFixed(2)} %`,
        );
        await write();
      }

      // More cut layouts: the same speech after 3, 6, … s of silence,
      // through the engine alone's pieces and, on the same shifted files,
      // the peer and our whole-file pass.
      const lastOf = (system: LongRun["system"]) =>
        runs.findLast((r) => r.recording === rec.name && r.system === system);
      const engineRun = lastOf("engine");
      const systems: LayoutSystems = {
        engine: (pcm) =>
          guard(
            piecesThroughEngine(model!, pcm, pieceSettings, o.engineStreams),
          ),
        peer: peer
          ? async (path) => (await watch(peer!.transcribe(path))).text
          : null,
        wholeFile: o.sequential
          ? async (pcm) => (await wholeFile(pcm)).out.text
          : null,
        tempDir: async () =>
          layoutDir ??= await Deno.makeTempDir({
            prefix: "bench-long-layouts-",
          }),
        say,
      };
      let own: LayoutsSummary | null = null;
      if (model && engineRun) {
        const measures: LayoutMeasure[] = [
          layoutMeasure(0, Number(engineRun.detail?.pieces), rec.text, {
            engine: engineRun.transcript,
            peer: lastOf("peer")?.transcript ?? null,
            sequential: lastOf("sequential")?.transcript ?? null,
          }),
        ];
        for (let k = 1; k < o.layouts; k++) {
          measures.push(
            await measureLayout(systems, rec.name, samples, rec.text, 3 * k),
          );
        }
        own = summarizeLayouts(rec.name, measures);
        if (o.layouts > 1) {
          layouts.push(own);
          await write();
        }
      }
      // The same text in other voices: every layout measured the same way.
      if (own && voiced.size > 0) {
        voiceSummaries.push(
          await measureVoices(
            systems,
            rec.name,
            rec.text,
            own,
            voices,
            voiced,
            o.layouts,
            async (summary) => {
              voiceLayouts.push(summary);
              await write();
            },
          ),
        );
        await write();
      }
    }
    let fairness: FairnessResult | null = null;
    const last = recordings.at(-1);
    if (o.fairnessRecordings > 0 && last) {
      say(
        `bench:long: fairness: ${o.fairnessRecordings} × ${last.name} from one identity, 1 s clips at 1/s from another`,
      );
      fairness = await watch(measureFairness({
        baseUrl: live.baseUrl,
        longWav: await Deno.readFile(last.wavPath),
        clipWav: sample,
        recordings: o.fairnessRecordings,
        say,
      }));
      report.fairness = { recording: last.name, ...fairness };
      say(
        `bench:long: fairness: ${fairness.clips} clips while the recordings ran ${fairness.long_wall_s} s: ` +
          `processing p95 ${fairness.clip_processing_ms.p95} ms, end to end p95 ${fairness.clip_e2e_ms.p95} ms, ` +
          `${fairness.clips_refused} refused`,
      );
    }
    report.stack = { restarts: live.restarts(), events: live.events() };
    await write();
    ok = true;
    return {
      runs,
      summaries: summarizeRuns(runs),
      peerUnavailable,
      jsonPath,
      fairness,
      layouts,
      voiceLayouts,
      voices: voiceSummaries,
    };
  } catch (error) {
    await write({ error: String((error as Error)?.message ?? error) }).catch(
      () => {},
    );
    throw error;
  } finally {
    if (peer) await peer.close();
    if (layoutDir) {
      await Deno.remove(layoutDir, { recursive: true }).catch(() => {});
    }
    if (stack) {
      say("bench:long: stopping the stack");
      await stack.stop();
    }
    // After a failure or Ctrl-C a native call may still be running, and
    // free() would wait for it; the process exits instead.
    if (model && ok) await free(model).catch(() => {});
  }
}

/** ", first text after N s" for a progress line; "" when not measured. */
function firstText(seconds: number | null): string {
  return seconds === null ? "" : `, first text after ${seconds.toFixed(2)} s`;
}
