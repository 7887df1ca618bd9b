/**
 * `deno task bench:cpu [--jobs 100] [--batches 3] [--workers N]`: CPU per
 * job of the 1 s sample, by component — the engine alone, then the service
 * (API, workers, Redis) through the path `deno task perf` uses (chunked
 * upload, long poll), `--workers` (default cores + 1) × 1 thread — and the
 * work outside whisper: the workers' CPU minus what their engine calls used
 * by the engine's own clock (each call's thread CPU, in the heartbeats),
 * plus the API's and Redis's. Medians over `--batches` batches of `--jobs`
 * jobs; CPU from /proc (Linux).
 *
 * Exit 0 done, 2 a bad flag.
 *
 * @module
 */
import { join } from "node:path";
import { parseFlags, runCli } from "../cli/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { decodeAudio, readBase64File } from "../audio/mod.ts";
import { DEFAULT_MODEL, modelFilePath } from "../models/mod.ts";
import { setup } from "../setup/mod.ts";
import { startStack } from "../stack/mod.ts";
import { median } from "../stats/mod.ts";
import { SAMPLE_CLIP } from "../bench/mod.ts";
import {
  type CpuPerJob,
  engineCpuPerJob,
  serviceCpuPerJob,
} from "../bench/cpu_per_job.ts";

const USAGE =
  "usage: deno task bench:cpu [--jobs N] [--batches N] [--workers N]";

function intFlag(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new ConfigError(
      `--${name} must be an integer in ${min}..${max}; ${USAGE}`,
    );
  }
  return n;
}

async function main(): Promise<number> {
  const cores = navigator.hardwareConcurrency;
  const { values } = parseFlags({
    args: Deno.args,
    options: {
      jobs: { type: "string", default: "100" },
      batches: { type: "string", default: "3" },
      workers: { type: "string", default: String(cores + 1) },
    },
  }, USAGE);
  const jobs = intFlag("jobs", values.jobs, 10, 10_000);
  const batches = intFlag("batches", values.batches, 1, 20);
  const workers = intFlag("workers", values.workers, 1, 64);
  console.error(
    `bench:cpu: ${batches} × ${jobs} jobs of the 1 s sample, engine alone then the service ` +
      `(${workers} workers × 1 thread); about ${
        Math.ceil(batches * jobs * 0.25 / 60) + 1
      } min`,
  );
  await setup({ models: [DEFAULT_MODEL], k6: false });
  const wav = await readBase64File(SAMPLE_CLIP);
  const pcm = (await decodeAudio(wav)).samples;
  const engine = await engineCpuPerJob(
    modelFilePath(DEFAULT_MODEL),
    pcm,
    jobs,
    batches,
  );
  const logDir = await Deno.makeTempDir({ prefix: "bench-cpu-" });
  const stack = await startStack({ workers, logDir: join(logDir, "stack") });
  const rows: CpuPerJob[] = [];
  try {
    await serviceCpuPerJob(stack, wav, 20, 3); // warm-up
    for (let b = 0; b < batches; b++) {
      rows.push(await serviceCpuPerJob(stack, wav, jobs, 3));
    }
  } finally {
    await stack.stop();
    await Deno.remove(logDir, { recursive: true }).catch(() => undefined);
  }
  const m = (k: keyof CpuPerJob) => median(rows.map((r) => r[k]));
  const fmt = (x: number) => x.toFixed(1);
  const outside = median(rows.map((r) => r.workers - r.workersEngine));
  console.log(`engine alone: ${fmt(engine)} ms CPU per transcription`);
  console.log(
    `service per job: workers ${fmt(m("workers"))} ms (whisper ${
      fmt(m("workersEngine"))
    } by the engine's clock, outside whisper ${fmt(outside)}), ` +
      `api ${fmt(m("api"))} ms, redis ${fmt(m("redis"))} ms`,
  );
  console.log(
    `outside whisper in total: ${
      fmt(outside + m("api") + m("redis"))
    } ms per job ` +
      `(medians of ${batches} × ${jobs} jobs)`,
  );
  console.log(JSON.stringify({ engine_ms: engine, batches: rows }));
  return 0;
}

if (import.meta.main) await runCli("bench:cpu", main);
