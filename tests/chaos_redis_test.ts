/**
 * Redis outage with the durable stack (append-only file): Redis is killed
 * while jobs are queued and running. Meanwhile the API answers 503 with
 * Retry-After and the JSON error body, quickly, `/health` stays 200 and
 * `/health/ready` is 503 naming Redis. Redis comes back on the same port and
 * folder: the API recovers within 5 s, the workers reconnect (no restart),
 * and every job accepted before the outage completes, once.
 */
import { assert, assertEquals } from "../src/testing/assert.ts";
import { startStack } from "../src/stack/mod.ts";
import { alive, sample, waitForJob, words } from "./_client.ts";
import {
  pollFor,
  postJob,
  RedisView,
  removeLogs,
  round,
  type Timed,
  timedFetch,
  writeReport,
} from "./chaos_helpers.ts";

const MAX_OUTAGE_LATENCY_MS = 5000;
const MAX_RECOVERY_MS = 5000;

Deno.test("chaos redis: an outage answers 503 fast, recovers within 5 s and loses no accepted job", async () => {
  const figures: Record<string, unknown> = {};
  let summary = "";
  let failure: unknown;
  // Full audio context: ~1 s per job, so jobs are still queued and running
  // when Redis goes away.
  const stack = await startStack({
    workers: 2,
    durable: true,
    workerEnv: { AUDIO_CTX: "full" },
  });
  let view = await RedisView.open(stack.redisUrl);
  try {
    const { wav, text } = await sample();
    const base = stack.baseUrl;
    const pids = stack.processes().filter((p) => p.name !== "redis")
      .map((p) => p.pid);

    const accepted: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await postJob(base, wav, "rita");
      assertEquals(r.status, 202, JSON.stringify(r.body));
      accepted.push(r.body.job_id);
    }
    await pollFor(
      "a job running",
      async () => {
        for (const id of accepted) {
          if ((await view.job(id)).status === "processing") return true;
        }
      },
      30_000,
      10,
    );
    const states = await Promise.all(accepted.map((id) => view.job(id)));
    figures.jobs_at_outage = {
      queued: states.filter((s) => s.status === "queued").length,
      processing: states.filter((s) => s.status === "processing").length,
      completed: states.filter((s) => s.status === "completed").length,
    };
    assert(
      states.some((s) => s.status === "queued"),
      "some jobs are still queued when Redis goes down",
    );
    view.close();

    // ---- outage ---------------------------------------------------------
    const redisExit = await stack.stopRedis("SIGKILL");
    assertEquals(redisExit.signal, "SIGKILL");
    const latencies: number[] = [];
    const seen: Record<string, number[]> = {};
    const probe = async (name: string, p: Promise<Timed>) => {
      const r = await p;
      latencies.push(r.ms);
      (seen[name] ??= []).push(r.status);
      return r;
    };
    const jsonHeaders = {
      "x-user-id": "rita",
      "content-type": "application/json",
    };
    for (let round = 0; round < 3; round++) {
      const [health, ready, post, init, get, wait, metrics] = await Promise.all(
        [
          probe("health", timedFetch(`${base}/health`)),
          probe("health_ready", timedFetch(`${base}/health/ready`)),
          probe("post_jobs", postJob(base, wav, "rita")),
          probe(
            "uploads_initialize",
            timedFetch(`${base}/uploads/initialize`, {
              method: "POST",
              headers: jsonHeaders,
              body: JSON.stringify({ filename: "a.wav", file_size: 1000 }),
            }),
          ),
          probe(
            "get_job",
            timedFetch(`${base}/jobs/${accepted[0]}`, {
              headers: { "x-user-id": "rita" },
            }),
          ),
          probe(
            "get_job_wait",
            timedFetch(`${base}/jobs/${accepted.at(-1)}?wait=10`, {
              headers: { "x-user-id": "rita" },
            }),
          ),
          probe("metrics", timedFetch(`${base}/metrics`)),
        ],
      );
      assertEquals(health.status, 200);
      assertEquals(ready.status, 503);
      assertEquals(ready.body.status, "not_ready");
      assertEquals(ready.body.checks.redis.ok, false);
      for (const r of [post, init, get, wait, metrics]) {
        assertEquals(r.status, 503, JSON.stringify(r.body));
        assertEquals(r.body.error.code, "unavailable");
        assertEquals(typeof r.body.error.message, "string");
        assertEquals(r.body.detail, r.body.error.message);
        assert(Number(r.headers.get("retry-after")) >= 1, "Retry-After");
      }
    }
    const maxLatency = Math.max(...latencies);
    assert(
      maxLatency <= MAX_OUTAGE_LATENCY_MS,
      `slowest answer during the outage took ${maxLatency} ms`,
    );
    for (const pid of pids) assert(alive(pid), `process ${pid} died`);

    // ---- recovery -------------------------------------------------------
    await stack.startRedis();
    const back = performance.now();
    await pollFor(
      "the API to serve a job again",
      async () => {
        const r = await timedFetch(`${base}/jobs/${accepted[0]}`, {
          headers: { "x-user-id": "rita" },
        }, 5000);
        return r.status === 200 || undefined;
      },
      30_000,
      20,
    );
    const apiRecoveryMs = performance.now() - back;
    await pollFor(
      "the API to accept a job again",
      async () => {
        const r = await postJob(base, wav, "rita", 5000);
        if (r.status === 202) {
          accepted.push(r.body.job_id);
          return true;
        }
      },
      30_000,
      20,
    );
    const submitRecoveryMs = performance.now() - back;
    await pollFor(
      "/health/ready",
      async () => {
        const r = await timedFetch(`${base}/health/ready`, {}, 5000);
        return r.status === 200 || undefined;
      },
      30_000,
      20,
    );
    const readyRecoveryMs = performance.now() - back;
    assert(
      submitRecoveryMs <= MAX_RECOVERY_MS,
      `the API took ${submitRecoveryMs} ms to accept jobs again`,
    );

    // Every job accepted before (and after) the outage completes, once.
    for (const id of accepted) {
      const job = await waitForJob(base, id, "rita", 90_000);
      assertEquals(job.status, "completed", JSON.stringify(job.error));
      assertEquals(words(job.transcript), words(text));
    }
    view = await RedisView.open(stack.redisUrl);
    const finished = await view.finished();
    assertEquals(finished.completed, accepted.length, "each stored once");
    assertEquals(finished.failed, 0);
    assertEquals(stack.restarts(), 0, "workers rode out the outage");
    for (const pid of pids) assert(alive(pid), `process ${pid} died`);

    Object.assign(figures, {
      durable: true,
      accepted_before_outage: 8,
      completed_after_restart: finished.completed,
      lost: accepted.length - finished.completed,
      outage_probes: latencies.length,
      outage_statuses: seen,
      outage_max_latency_ms: round(maxLatency),
      api_recovery_ms: round(apiRecoveryMs),
      submit_recovery_ms: round(submitRecoveryMs),
      ready_recovery_ms: round(readyRecoveryMs),
      worker_restarts: stack.restarts(),
    });
    summary =
      `durable Redis SIGKILLed with ${
        8 - (figures.jobs_at_outage as { completed: number }).completed
      } jobs pending: ` +
      `503 + Retry-After in ≤ ${
        Math.ceil(maxLatency)
      } ms, /health 200, /health/ready 503; ` +
      `API serving ${Math.round(apiRecoveryMs)} ms and accepting ${
        Math.round(submitRecoveryMs)
      } ms after Redis returned ` +
      `(ready ${
        Math.round(readyRecoveryMs)
      } ms); ${finished.completed}/${accepted.length} jobs completed, ` +
      `0 lost, workers not restarted`;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    view.close();
    await stack.stop();
    await removeLogs(stack, failure);
    await writeReport({ suite: "chaos_redis", summary, figures }, failure);
  }
});
