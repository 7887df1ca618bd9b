/**
 * End to end with real parts: redis-server, the API and workers as
 * subprocesses, the real tiny.en model and the committed speech sample.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
} from "../src/testing/assert.ts";
import { Redis } from "ioredis";
import { startStack } from "../src/stack/mod.ts";
import {
  alive,
  portOpen,
  sample,
  uploadChunked,
  waitForJob,
  words,
} from "./_client.ts";
import { longClip, withStack } from "./chaos_helpers.ts";
import { until } from "./_wait.ts";
import { writeReport } from "./_corpus_http.ts";
import { transcoded } from "./_audio.ts";

Deno.test("stack transcribes the sample end to end and leaves nothing behind", async (t) => {
  let pids: number[] = [];
  let apiPort = 0;
  let redisPort = 0;
  let socket = "";
  await withStack({ workers: 2 }, async (stack) => {
    pids = stack.processes().map((p) => p.pid);
    apiPort = Number(new URL(stack.baseUrl).port);
    redisPort = Number(new URL(stack.redisUrl).port);
    const { wav, text } = await sample();

    await t.step(
      "upload → poll → transcript with the expected words",
      async () => {
        const id = await uploadChunked(stack.baseUrl, wav, "alice");
        const job = await waitForJob(stack.baseUrl, id, "alice");
        assertEquals(job.status, "completed", JSON.stringify(job.error));
        assertEquals(words(job.transcript), words(text));
        assertEquals(job.model_name, "tiny.en-q8_0");
        assert(job.segments.length >= 1);
        assert(job.segments[0].end > job.segments[0].start);
        assert(job.processing_ms > 0 && job.processing_ms < 10_000);
        assert(job.queue_wait_ms >= 0);
        assertMatch(job.completed_at, /Z$/);
      },
    );

    await t.step("identities are isolated across processes", async () => {
      const id = await uploadChunked(stack.baseUrl, wav, "carol");
      const other = await fetch(`${stack.baseUrl}/jobs/${id}`, {
        headers: { "x-user-id": "dave" },
      });
      assertEquals(other.status, 404);
      assertEquals((await other.json()).error.code, "job_not_found");
      const list = await (await fetch(`${stack.baseUrl}/jobs`, {
        headers: { "x-user-id": "dave" },
      })).json();
      assertEquals(list.jobs, []);
      await waitForJob(stack.baseUrl, id, "carol");
    });

    await t.step(
      "single-request upload and concurrent jobs on two workers",
      async () => {
        const ids = await Promise.all(Array.from({ length: 6 }, async () => {
          const form = new FormData();
          form.append("file", new Blob([wav as BlobPart]), "s.wav");
          const r = await fetch(`${stack.baseUrl}/jobs`, {
            method: "POST",
            headers: { "x-user-id": "erin" },
            body: form,
          });
          assertEquals(r.status, 202);
          return (await r.json()).job_id as string;
        }));
        for (const id of ids) {
          const job = await waitForJob(stack.baseUrl, id, "erin");
          assertEquals(words(job.transcript), words(text));
        }
      },
    );

    await t.step(
      "the API and workers reach the stack's Redis over its Unix socket",
      async () => {
        const redis = new Redis(stack.redisUrl);
        try {
          const me = await redis.call("CLIENT", "ID") as number;
          const list = await redis.call("CLIENT", "LIST") as string;
          const clients = list.trim().split("\n").map((line) => ({
            id: Number(/\bid=(\d+)/.exec(line)?.[1]),
            name: /\bname=(\S*)/.exec(line)?.[1] ?? "",
            addr: /\baddr=(\S*)/.exec(line)?.[1] ?? "",
          }));
          const service = clients.filter((c) => c.id !== me);
          // api, api-bull, api-sub, and each worker's own and BullMQ's.
          assert(service.length >= 7, JSON.stringify(clients));
          assert(service.some((c) => c.name === "api"));
          for (const c of service) {
            assertMatch(c.addr, /^\/.*\/redis\.sock:0$/, JSON.stringify(c));
          }
          socket = service[0]!.addr.replace(/:0$/, "");
        } finally {
          redis.disconnect();
        }
      },
    );

    await t.step(
      "the API's log holds its own lines only, no runtime warning",
      async () => {
        // Deno 2.9's Deno.serve warned on every start that request.signal
        // aborts after a successful response ("legacy behavior"); deno.json
        // opts into the new behavior (aborts when the client goes away).
        const lines = (await Deno.readTextFile(`${stack.logDir}/api.log`))
          .split("\n").filter((l) => l !== "");
        assert(lines.length >= 2, lines.join("\n"));
        for (const line of lines) {
          assert(
            /^listening: /.test(line) ||
              JSON.parse(line).component === "api",
            `not the API's own line: ${line}`,
          );
        }
      },
    );

    await t.step("health and metrics", async () => {
      const ready = await (await fetch(`${stack.baseUrl}/health/ready`)).json();
      assertEquals(ready.status, "ready");
      const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
      assertMatch(metrics, /whisper_workers 2/);
      assertMatch(metrics, /whisper_jobs\{status="completed"\} 8/);
    });

    await t.step(
      "recordings as phones and Macs make them: G.711, GSM, ADPCM WAVs, AIFF, CAF",
      async () => {
        // Call recorders store 8 kHz G.711 (decoded in-process) or GSM 6.10
        // and ADPCM (through ffmpeg); macOS and iOS apps AIFF and CAF.
        const call = ["-ar", "8000", "-c:a"];
        const files: [string, string[], string][] = [
          ["call-ulaw.wav", [...call, "pcm_mulaw"], ".wav"],
          ["call-alaw.wav", [...call, "pcm_alaw"], ".wav"],
          ["call-gsm.wav", [...call, "gsm_ms"], ".wav"],
          ["call-adpcm.wav", [...call, "adpcm_ima_wav"], ".wav"],
          ["memo.aiff", ["-c:a", "pcm_s16be"], ".aiff"],
          ["memo.caf", ["-c:a", "alac"], ".caf"],
        ];
        for (const [name, args, suffix] of files) {
          const form = new FormData();
          const bytes = await transcoded(wav, args, suffix);
          form.append("file", new Blob([bytes as BlobPart]), name);
          const r = await fetch(`${stack.baseUrl}/jobs`, {
            method: "POST",
            headers: { "x-user-id": "frank" },
            body: form,
          });
          assertEquals(r.status, 202, `${name}: ${await r.clone().text()}`);
          const { job_id } = await r.json();
          const job = await waitForJob(stack.baseUrl, job_id, "frank");
          assertEquals(job.status, "completed", name);
          assertEquals(words(job.transcript), words(text), name);
          assert(
            Math.abs(job.audio_duration_s - 1.1) < 0.3,
            `${name}: ${job.audio_duration_s} s`,
          );
        }
      },
    );
  });
  for (const pid of pids) assert(!alive(pid), `process ${pid} still running`);
  assert(!(await portOpen(apiPort)), "API port still bound");
  assert(!(await portOpen(redisPort)), "Redis port still bound");
  assert(socket !== "", "no socket seen");
  assert(!(await exists(socket)), `${socket} left behind`);
});

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("a worker killed mid-job: the job still completes, stored once", async () => {
  // A longer clip so the kill lands while the job is running.
  const long = await longClip();
  await withStack({
    workers: 1,
    workerEnv: {
      LOCK_MS: "2000",
      STALLED_INTERVAL_MS: "1000",
      AUDIO_CTX: "full",
      WHISPER_THREADS: "1",
    },
  }, async (stack) => {
    const id = await uploadChunked(stack.baseUrl, long, "frank", "long.wav");
    // Wait until a worker has it, then kill that worker.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const job = await (await fetch(`${stack.baseUrl}/jobs/${id}`)).json();
      if (job.status === "processing") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const victim = stack.processes().find((p) => p.name === "worker-1")!;
    Deno.kill(victim.pid, "SIGKILL");
    const job = await waitForJob(stack.baseUrl, id, "frank", 120_000);
    assertEquals(job.status, "completed");
    assert(job.attempts >= 2, `attempts ${job.attempts}`);
    assert(words(job.transcript).length > 20);
    assertEquals(stack.restarts(), 1);
    const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    assertMatch(metrics, /whisper_jobs\{status="completed"\} 1\n/);
  });
});

Deno.test("a /v1 client that hangs up, streaming or not, takes its queued job with it; one that waits gets its text", async () => {
  // One worker held 5 s per job, so the other jobs wait in the queue.
  await withStack({
    workers: 1,
    env: { STREAM_KEEP_ALIVE_S: "1" },
    workerEnv: {
      FAULT_INJECTION: "test-only",
      FAULT_PROCESSING_DELAY_MS: "5000",
    },
  }, async (stack) => {
    // Each step well within the worker's 5 s hold.
    const WAIT = { timeoutMs: 2500, intervalMs: 20 };
    const soon = (ok: () => Promise<boolean>) => async () =>
      (await ok()) ? true : undefined;
    const v1 = (
      user: string,
      wav: Uint8Array,
      signal?: AbortSignal,
      stream = false,
    ) => {
      const form = new FormData();
      form.append("file", new Blob([wav as BlobPart]), "s.wav");
      form.append("model", "whisper-1");
      if (stream) form.append("stream", "true");
      return fetch(`${stack.baseUrl}/v1/audio/transcriptions`, {
        method: "POST",
        headers: { "x-user-id": user },
        body: form,
        signal,
      });
    };
    const jobsOf = async (user: string) =>
      (await (await fetch(`${stack.baseUrl}/jobs`, {
        headers: { "x-user-id": user },
      })).json()).jobs as { job_id: string; status: string }[];
    const { wav, text } = await sample();
    const stays = v1("stays", wav);
    await until(
      "the first job to start",
      soon(async () => (await jobsOf("stays"))[0]?.status === "processing"),
      WAIT,
    );
    const hangUp = new AbortController();
    const gone = v1("gone", wav, hangUp.signal).catch((e: unknown) => e);
    await until(
      "the second job to queue",
      soon(async () => (await jobsOf("gone"))[0]?.status === "queued"),
      WAIT,
    );
    const hungUp = performance.now();
    hangUp.abort();
    assert((await gone) instanceof Error);
    // Cancelled while the worker is still busy with the first job.
    await until(
      "the second job to go",
      soon(async () => (await jobsOf("gone")).length === 0),
      WAIT,
    );
    const goneMs = Math.round(performance.now() - hungUp);
    // A streaming caller: its answer had begun (events), then it hung up.
    const streamStop = new AbortController();
    const streaming = await v1("gone-stream", wav, streamStop.signal, true);
    assertEquals(streaming.status, 200);
    assertEquals(
      streaming.headers.get("content-type"),
      "text/event-stream; charset=utf-8",
    );
    assertEquals((await jobsOf("gone-stream"))[0]?.status, "queued");
    // While it waits, a keep-alive comment comes every STREAM_KEEP_ALIVE_S.
    const waitStarted = performance.now();
    const reader = streaming.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    const first = await reader.read();
    const keepAliveMs = Math.round(performance.now() - waitStarted);
    assertEquals(first.value, ": keep-alive\n\n");
    assert(keepAliveMs >= 900 && keepAliveMs < 2500, `${keepAliveMs} ms`);
    const streamHungUp = performance.now();
    streamStop.abort();
    await until(
      "the streamed job to go",
      soon(async () => (await jobsOf("gone-stream")).length === 0),
      WAIT,
    );
    const streamGoneMs = Math.round(performance.now() - streamHungUp);
    assertEquals((await jobsOf("stays"))[0]?.status, "processing");
    const done = await stays;
    assertEquals(done.status, 200);
    assertEquals(words((await done.json()).text), words(text));
    assertEquals((await jobsOf("stays"))[0]?.status, "completed");
    await writeReport("client_gone", {
      suite: "tests/stack_test.ts",
      job_gone_after_ms: goneMs,
      streamed_job_gone_after_ms: streamGoneMs,
      stream_keep_alive_after_ms: keepAliveMs,
      worker_hold_ms: 5000,
      summary:
        `a /v1 caller hung up while its job was queued behind another (one worker, each job held 5 s): ` +
        `the job was gone ${goneMs} ms later (${streamGoneMs} ms for a caller streaming events, ` +
        `whose keep-alive comment came after ${keepAliveMs} ms at STREAM_KEEP_ALIVE_S 1), ` +
        `before the worker was free; the caller that stayed got its text`,
    });
  });
});

Deno.test("a component that fails to start is named and nothing is left running", async () => {
  const logDir = await Deno.makeTempDir({ prefix: "wt-fail-" });
  const error = await assertRejects(() =>
    startStack({
      workers: 1,
      logDir,
      workerEnv: { WORKER_CONCURRENCY: "lots" },
      timeoutMs: 60_000,
    })
  );
  assertMatch(String(error), /worker-1 exited with code 2/);
  assertMatch(String(error), /WORKER_CONCURRENCY/);
  // redis-server was started with --dir <logDir>: it must be gone.
  const ps = await new Deno.Command("pgrep", {
    args: ["-f", logDir],
    stdout: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(ps.stdout).trim(), "");
  await Deno.remove(logDir, { recursive: true });
});
