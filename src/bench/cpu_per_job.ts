/**
 * CPU per job, by component: what the engine alone spends on one
 * transcription of the sample, and what the service's processes (API,
 * workers, Redis) spend per job through the whole path — chunked upload
 * (initialize, one chunk, finalize) and a long poll — read from
 * `/proc/<pid>/stat` over batches of jobs. The difference between the
 * workers' figure and the engine's is the work outside whisper.
 */
import process from "node:process";
import { median } from "../stats/mod.ts";
import { clockTicks, type CpuTarget, readCpu } from "../perf/proc_cpu.ts";
import type { Stack } from "../stack/mod.ts";
import { free, openModel, transcribe } from "../engine/mod.ts";
import { connectRedis, liveWorkers } from "../queue/mod.ts";
import { ApiConfigSchema, parseEnv } from "../config/mod.ts";

/** CPU ms per job of each component, one batch. */
export interface CpuPerJob {
  api: number;
  workers: number;
  redis: number;
  /**
   * The part of `workers` the engine's calls used, as each call's thread
   * measured it (engine patch 09, reported in the workers' heartbeats).
   */
  workersEngine: number;
}

/**
 * The sum of the workers' engine-CPU counters (ms) once each of `count`
 * workers has published a heartbeat at or after `sinceMs`, so every job
 * finished before then is in it (heartbeats come every HEARTBEAT_MS;
 * bounded: 50 reads 200 ms apart).
 * @throws {Error} when they don't come.
 */
async function engineCpuOfWorkers(
  stack: Stack,
  count: number,
  sinceMs: number,
): Promise<number> {
  const redis = connectRedis(stack.redisUrl);
  const prefix = parseEnv(ApiConfigSchema, {}).REDIS_PREFIX;
  try {
    for (let i = 0; i < 50; i++) {
      const beats = await liveWorkers(redis, prefix);
      if (beats.length >= count && beats.every((b) => b.at >= sinceMs)) {
        return beats.reduce((n, b) => n + b.engine_cpu_ms, 0);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    redis.disconnect();
  }
  throw new Error(`the ${count} workers' heartbeats did not come`);
}

/** Engine alone: CPU ms per transcription of `pcm`, medians of batches. */
export async function engineCpuPerJob(
  modelPath: string,
  pcm: Float32Array,
  jobs: number,
  batches: number,
): Promise<number> {
  const model = await openModel(modelPath);
  try {
    for (let i = 0; i < 5; i++) await transcribe(model, pcm, { threads: 1 });
    const per: number[] = [];
    for (let b = 0; b < batches; b++) {
      const before = process.cpuUsage();
      for (let i = 0; i < jobs; i++) {
        await transcribe(model, pcm, { threads: 1 });
      }
      const used = process.cpuUsage(before);
      per.push((used.user + used.system) / 1000 / jobs);
    }
    return median(per);
  } finally {
    await free(model);
  }
}

/** One job the way `deno task perf`'s scenario makes it (long-polled). */
async function oneJob(base: string, wav: Uint8Array, user: string) {
  const h = { "x-user-id": user };
  const init = await (await fetch(`${base}/uploads/initialize`, {
    method: "POST",
    headers: { ...h, "content-type": "application/json" },
    body: JSON.stringify({ filename: "sample.wav", file_size: wav.length }),
  })).json();
  const form = new FormData();
  form.append("chunk_data", new Blob([wav as BlobPart]), "chunk");
  await (await fetch(`${base}/uploads/${init.session_id}/chunks/0`, {
    method: "POST",
    headers: h,
    body: form,
  })).body?.cancel();
  const fin =
    await (await fetch(`${base}/uploads/${init.session_id}/finalize`, {
      method: "POST",
      headers: h,
    })).json();
  for (let i = 0; i < 20; i++) {
    const job = await (await fetch(`${base}/jobs/${fin.job_id}?wait=10`, {
      headers: h,
    })).json();
    if (job.status === "completed") return;
    if (job.status === "failed") {
      throw new Error(`job failed: ${JSON.stringify(job.error)}`);
    }
  }
  throw new Error(`job ${fin.job_id} did not finish`);
}

/**
 * The service: CPU ms per job of the API, all workers together and Redis,
 * over one batch of `jobs` jobs, `concurrency` at a time.
 */
export async function serviceCpuPerJob(
  stack: Stack,
  wav: Uint8Array,
  jobs: number,
  concurrency: number,
): Promise<CpuPerJob> {
  const targets: CpuTarget[] = stack.processes().map((p) => ({
    name: p.name.startsWith("worker") ? "workers" : p.name,
    pid: p.pid,
  }));
  const hz = await clockTicks();
  const sum = (r: Awaited<ReturnType<typeof readCpu>>, name: string) =>
    r.processes.filter((p) => p.name === name).reduce((n, p) => n + p.ticks, 0);
  const workerCount = targets.filter((t) => t.name === "workers").length;
  const engineBefore = await engineCpuOfWorkers(stack, workerCount, Date.now());
  const before = await readCpu(targets);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (next < jobs) {
        next++;
        await oneJob(stack.baseUrl, wav, `cpu-${lane}`);
      }
    }),
  );
  const after = await readCpu(targets);
  const engineAfter = await engineCpuOfWorkers(stack, workerCount, Date.now());
  const ms = (name: string) =>
    (sum(after, name) - sum(before, name)) * 1000 / hz / jobs;
  return {
    api: ms("api"),
    workers: ms("workers"),
    redis: ms("redis"),
    workersEngine: (engineAfter - engineBefore) / jobs,
  };
}
