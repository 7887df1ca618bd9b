/**
 * The engine alone on the committed sample: no API, queue or workers, just
 * decode + whisper in this process. `deno task bench` reports it, and
 * `deno task perf --find-capacity` compares the service's capacity with it.
 */
import { decodeAudio, readBase64File } from "../audio/mod.ts";
import { audioCtxFor, free, openModel, transcribe } from "../engine/mod.ts";
import { DEFAULT_MODEL, verifyInstalledModel } from "../models/mod.ts";
import { percentile } from "../stats/mod.ts";

/** The committed one-second sample (base64 WAV). */
export const SAMPLE_CLIP: URL = new URL(
  "../../assets/sample.wav.b64",
  import.meta.url,
);

/** Options of {@linkcode engineFigures}. */
export interface EngineFiguresOptions {
  /** Installed model to load. @default DEFAULT_MODEL */
  model?: string;
  /** Single jobs timed one after another (0: none). @default 0 */
  runs?: number;
  /**
   * Concurrent streams of 1-thread jobs for the throughput; with several
   * counts each is measured in turn on the same loaded model and the best
   * is reported.
   */
  streams: number | readonly number[];
  /** Jobs shared by the streams. */
  jobs: number;
  /** Untimed jobs first. @default 3 */
  warmup?: number;
  /** Called with each stream count's throughput as it is measured. */
  onThroughput?: (streams: number, jobsPerSecond: number) => void;
}

/** What {@linkcode engineFigures} measured. */
export interface EngineFigures {
  /** Model load time, ms. */
  loadMs: number;
  /** Single-job time, ms (NaN when `runs` is 0). */
  processing: { p50: number; p95: number };
  /** Jobs per second with `streams` 1-thread streams (the best count). */
  throughput: number;
  streams: number;
  jobs: number;
  /** The last transcript. */
  text: string;
}

/**
 * Measures the engine on the sample: optional single-job times, then
 * throughput with `streams` streams of 1-thread jobs (the stack runs one
 * job at a time per worker, one thread each; with several counts, the best).
 */
export async function engineFigures(
  o: EngineFiguresOptions,
): Promise<EngineFigures> {
  const bytes = await readBase64File(SAMPLE_CLIP);
  const path = (await verifyInstalledModel(o.model ?? DEFAULT_MODEL)).path;
  const model = await openModel(path);
  try {
    const job = async () => {
      const audio = await decodeAudio(bytes);
      return await transcribe(model, audio.samples, {
        threads: 1,
        audioCtx: audioCtxFor(audio.durationS),
      });
    };
    let text = "";
    for (let i = 0; i < (o.warmup ?? 3); i++) text = (await job()).text;
    const times: number[] = [];
    for (let i = 0; i < (o.runs ?? 0); i++) {
      const t0 = performance.now();
      text = (await job()).text;
      times.push(performance.now() - t0);
    }
    let best = { throughput: 0, streams: 0 };
    for (const streams of [o.streams].flat()) {
      let left = o.jobs;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: streams }, async () => {
        while (left-- > 0) await job();
      }));
      const throughput = o.jobs / ((performance.now() - t0) / 1000);
      o.onThroughput?.(streams, throughput);
      if (throughput > best.throughput) best = { throughput, streams };
    }
    return {
      loadMs: model.loadMs,
      processing: { p50: percentile(times, 50), p95: percentile(times, 95) },
      ...best,
      jobs: o.jobs,
      text,
    };
  } finally {
    await free(model);
  }
}
