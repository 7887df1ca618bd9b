/**
 * `deno task bench [--jobs N] [--api-seconds S] [--runs N]`: prints, for the
 * committed one-second sample on this machine,
 *
 * - model load time;
 * - single-job processing time (decode + whisper, median of `--runs`);
 * - raw engine throughput (engine alone, one 1-thread stream per core);
 * - service throughput (through API, queue and workers at saturation) and its
 *   ratio to the engine's;
 * - API latency (p50/p95) of upload and poll requests at 3 jobs/s.
 *
 * Figures are medians or percentiles of repeated measurements; run it a few
 * times on a shared machine and compare medians.
 *
 * `deno task bench --accuracy [options]` prints the accuracy guard instead:
 * word error rates on the accuracy corpus at full context, sized context and
 * sized context with the confidence gate; exit 1 when the gated one exceeds
 * full context's by more than 1 point (options and output:
 * `src/accuracy/bench.ts`).
 */
import { parseArgs } from "node:util";
import { runCli } from "../cli/mod.ts";
import { runAccuracyBench } from "../accuracy/mod.ts";
import { readBase64File } from "../audio/mod.ts";
import { DEFAULT_MODEL } from "../models/mod.ts";
import { setup } from "../setup/mod.ts";
import { type Stack, startStack } from "../stack/mod.ts";
import { connectRedis, TranscribeQueue } from "../queue/mod.ts";
import { percentile } from "../stats/mod.ts";
import { engineFigures, SAMPLE_CLIP } from "../bench/engine_throughput.ts";

/**
 * Service throughput at saturation, two ways: `drain` — N jobs uploaded
 * through the API into a paused queue, then the clock runs while the workers
 * drain it (queue, workers, result storage and long-poll notification: the
 * service's own capacity); `mixed` — N jobs uploaded and processed at once,
 * so uploads and the client compete with the workers for the same cores.
 */
async function serviceThroughput(stack: Stack, jobs: number, wav: Uint8Array) {
  const baseUrl = stack.baseUrl;
  const submit = async () => {
    const form = new FormData();
    form.append("file", new Blob([wav as BlobPart]), "sample.wav");
    const r = await fetch(`${baseUrl}/jobs`, {
      method: "POST",
      headers: { "x-user-id": "bench" },
      body: form,
    });
    if (r.status !== 202) {
      throw new Error(`POST /jobs: ${r.status} ${await r.text()}`);
    }
    return (await r.json()).job_id as string;
  };
  const finish = async (id: string) => {
    while (true) {
      const r = await fetch(`${baseUrl}/jobs/${id}?wait=10`, {
        headers: { "x-user-id": "bench" },
      });
      const job = await r.json();
      if (job.status === "completed") return;
      if (job.status === "failed") {
        throw new Error(`job failed: ${JSON.stringify(job.error)}`);
      }
    }
  };
  const submitAll = async () => {
    const ids: string[] = [];
    for (let i = 0; i < jobs; i += 8) {
      ids.push(
        ...await Promise.all(
          Array.from({ length: Math.min(8, jobs - i) }, submit),
        ),
      );
    }
    return ids;
  };
  // Warm the path (and the admission controller's processing-time estimate).
  for (let i = 0; i < 4; i++) await finish(await submit());

  const bull = connectRedis(stack.redisUrl, { name: "bench", forBullmq: true });
  const queue = new TranscribeQueue(bull, "wt");
  try {
    await queue.queue.pause();
    const queued = await submitAll();
    const t0 = performance.now();
    await queue.queue.resume();
    await Promise.all(queued.map(finish));
    const drain = jobs / ((performance.now() - t0) / 1000);

    const t1 = performance.now();
    const ids = await submitAll();
    await Promise.all(ids.map(finish));
    const mixed = jobs / ((performance.now() - t1) / 1000);
    return { drain, mixed };
  } finally {
    await queue.close();
    bull.disconnect();
  }
}

async function apiLatency(
  baseUrl: string,
  seconds: number,
  rate: number,
  wav: Uint8Array,
) {
  const upload: number[] = [];
  const poll: number[] = [];
  const timed = async (into: number[], url: string, init?: RequestInit) => {
    const t0 = performance.now();
    const r = await fetch(url, init);
    const body = await r.json();
    into.push(performance.now() - t0);
    if (r.status >= 400) {
      throw new Error(`${url}: ${r.status} ${JSON.stringify(body)}`);
    }
    return body;
  };
  const headers = { "x-user-id": "bench-latency" };
  const iteration = async () => {
    const s = await timed(upload, `${baseUrl}/uploads/initialize`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ filename: "sample.wav", file_size: wav.length }),
    });
    const form = new FormData();
    form.append("chunk_data", new Blob([wav as BlobPart]), "chunk");
    await timed(upload, `${baseUrl}/uploads/${s.session_id}/chunks/0`, {
      method: "POST",
      headers,
      body: form,
    });
    const f = await timed(
      upload,
      `${baseUrl}/uploads/${s.session_id}/finalize`,
      {
        method: "POST",
        headers,
      },
    );
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const job = await timed(poll, `${baseUrl}/jobs/${f.job_id}`, { headers });
      if (job.status === "completed" || job.status === "failed") return;
    }
  };
  const running: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < seconds * rate; i++) {
    const due = start + (i * 1000) / rate;
    await new Promise((r) =>
      setTimeout(r, Math.max(0, due - performance.now()))
    );
    running.push(iteration());
  }
  await Promise.all(running);
  return {
    upload: {
      p50: percentile(upload, 50),
      p95: percentile(upload, 95),
      n: upload.length,
    },
    poll: {
      p50: percentile(poll, 50),
      p95: percentile(poll, 95),
      n: poll.length,
    },
  };
}

if (import.meta.main) {
  await runCli("bench", async () => {
    if (Deno.args.includes("--accuracy")) {
      return await runAccuracyBench(
        Deno.args.filter((a) => a !== "--accuracy"),
        { prepare: (models) => setup({ k6: false, models }) },
      );
    }
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        runs: { type: "string", default: "25" },
        jobs: { type: "string", default: "150" },
        "api-seconds": { type: "string", default: "20" },
      },
    });
    const runs = Number(values.runs);
    const jobs = Number(values.jobs);
    const apiSeconds = Number(values["api-seconds"]);
    const cores = navigator.hardwareConcurrency;
    await setup({ k6: false });
    const wav = await readBase64File(SAMPLE_CLIP);

    // One worker more than cores, as deno task perf runs (docs/performance.md,
    // "Threads and workers"); the engine alone gets both stream counts and
    // its better figure is the reference.
    const workers = cores + 1;
    console.error(
      `bench: engine alone (${runs} single jobs, then ${jobs} jobs on ${cores} and on ${workers} streams)`,
    );
    const engine = await engineFigures({
      runs,
      streams: [cores, workers],
      jobs,
    });
    console.error(`bench: starting the stack (${workers} workers × 1 thread)`);
    const stack = await startStack({
      workers,
      onEvent: (m) => console.error(`bench: ${m}`),
    });
    let service: { drain: number; mixed: number };
    let latency: Awaited<ReturnType<typeof apiLatency>>;
    try {
      console.error(`bench: service throughput (${jobs} jobs at saturation)`);
      service = await serviceThroughput(stack, jobs, wav);
      console.error(`bench: API latency at 3 jobs/s for ${apiSeconds} s`);
      latency = await apiLatency(stack.baseUrl, apiSeconds, 3, wav);
    } finally {
      await stack.stop();
    }
    const f = (n: number, d = 1) => n.toFixed(d);
    const rows: [string, string, string][] = [
      [`model load (${DEFAULT_MODEL})`, `${f(engine.loadMs)} ms`, ""],
      [
        "single-job processing, 1 s clip (p50 / p95)",
        `${f(engine.processing.p50)} / ${f(engine.processing.p95)} ms`,
        "target ≤ 150 ms",
      ],
      [
        "engine throughput (engine alone, all cores)",
        `${f(engine.throughput, 2)} jobs/s (${engine.streams} streams)`,
        "",
      ],
      [
        "service throughput, queued jobs drained",
        `${f(service.drain, 2)} jobs/s`,
        "",
      ],
      [
        "service / engine",
        f(service.drain / engine.throughput, 3),
        "target ≥ 0.9",
      ],
      [
        "service throughput, uploads competing (client on the same cores)",
        `${f(service.mixed, 2)} jobs/s`,
        `ratio ${f(service.mixed / engine.throughput, 3)}`,
      ],
      [
        `upload requests at 3 jobs/s (p50 / p95, n=${latency.upload.n})`,
        `${f(latency.upload.p50)} / ${f(latency.upload.p95)} ms`,
        "target p95 ≤ 20 ms",
      ],
      [
        `poll requests at 3 jobs/s (p50 / p95, n=${latency.poll.n})`,
        `${f(latency.poll.p50)} / ${f(latency.poll.p95)} ms`,
        "target p95 ≤ 20 ms",
      ],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`transcript of the sample: ${JSON.stringify(engine.text)}`);
    for (const [k, v, t] of rows) {
      console.log(`${k.padEnd(w)}  ${v.padStart(18)}  ${t}`);
    }
    console.log(JSON.stringify({
      bench: "service",
      cores,
      load_ms: engine.loadMs,
      processing_ms_p50: engine.processing.p50,
      processing_ms_p95: engine.processing.p95,
      engine_jobs_per_s: engine.throughput,
      service_jobs_per_s: service.drain,
      service_mixed_jobs_per_s: service.mixed,
      ratio: service.drain / engine.throughput,
      upload_ms_p95: latency.upload.p95,
      poll_ms_p95: latency.poll.p95,
    }));
    return 0;
  });
}
