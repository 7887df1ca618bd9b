/**
 * Worker faults under load: users submit 3 jobs/s for 30 s while one worker
 * is SIGKILLed mid-job and another is sent SIGTERM mid-job. Nothing is lost,
 * no transcript is stored twice, the SIGTERMed worker drains and exits 0, and
 * the stack restarts both (counted and logged).
 */
import { assert, assertEquals, assertMatch } from "../src/testing/assert.ts";
import { type ManagedProcess, startStack } from "../src/stack/mod.ts";
import { sample, uploadChunked, waitForJob, words } from "./_client.ts";
import {
  longClip,
  percentile,
  pollFor,
  RedisView,
  removeLogs,
  round,
  workerName,
  writeReport,
} from "./chaos_helpers.ts";

const RATE = 3;
const DURATION_S = 30;

Deno.test("chaos worker: SIGKILL and SIGTERM mid-job under 3 jobs/s lose nothing and store once", async () => {
  const figures: Record<string, unknown> = {};
  let summary = "";
  let failure: unknown;
  const stack = await startStack({ workers: 2 });
  const view = await RedisView.open(stack.redisUrl);
  try {
    const { wav, text } = await sample();
    const long = await longClip();
    const jobs: { id: Promise<string>; kind: "short" | "long"; at: number }[] =
      [];
    const submitErrors: string[] = [];
    const submit = (bytes: Uint8Array, kind: "short" | "long") => {
      const id = uploadChunked(stack.baseUrl, bytes, "chaos", `${kind}.wav`);
      id.catch((e) => submitErrors.push(String(e)));
      jobs.push({ id, kind, at: Date.now() });
      return id;
    };

    // Load: RATE jobs/s for DURATION_S, paced against the clock.
    const t0 = Date.now();
    const load = (async () => {
      for (let i = 0; i < RATE * DURATION_S; i++) {
        const due = t0 + i * 1000 / RATE;
        const ahead = due - Date.now();
        if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
        submit(wav, "short");
      }
    })();

    const workerProc = (name: string): ManagedProcess =>
      stack.processes().find((p) => p.name === name)!;
    const catchRunning = async (id: string) =>
      await pollFor(
        `job ${id} to be processing`,
        async () => {
          const j = await view.job(id);
          return j.status === "processing" && j.worker ? j.worker : undefined;
        },
        30_000,
        5,
      );

    // 1. SIGKILL the worker running a long job.
    await pollFor(
      "a few jobs submitted",
      () => jobs.length >= 6 || undefined,
      10_000,
    );
    const killedJob = await submit(long, "long");
    const killedWorkerId = await catchRunning(killedJob);
    const victim = workerProc(workerName(killedWorkerId));
    const killedAt = Date.now();
    Deno.kill(victim.pid, "SIGKILL");
    const victimExit = await victim.exited;
    assertEquals(victimExit.signal, "SIGKILL");
    await pollFor(
      `${victim.name} restarted`,
      () =>
        stack.events().some((e) => e === `${victim.name} restarted`) ||
        undefined,
      60_000,
      50,
    );
    figures.sigkill_restart_ms = Date.now() - killedAt;

    // 2. SIGTERM the worker running another long job: it must finish it.
    const drainedJob = await submit(long, "long");
    const drainingWorkerId = await catchRunning(drainedJob);
    const draining = workerProc(workerName(drainingWorkerId));
    const termAt = Date.now();
    Deno.kill(draining.pid, "SIGTERM");
    const drainExit = await draining.exited;
    figures.sigterm_drain_ms = Date.now() - termAt;
    assertEquals(
      drainExit.code,
      0,
      `SIGTERM exit ${JSON.stringify(drainExit)}`,
    );
    assertEquals(drainExit.signal, null);
    const drained = await view.job(drainedJob);
    assertEquals(drained.status, "completed", "finished before exiting");
    assertEquals(drained.worker, drainingWorkerId);
    assertEquals(drained.attempts, 1);

    await load;
    const loadS = (Date.now() - t0) / 1000;
    assertEquals(submitErrors, []);

    // Every job completes, each transcript stored exactly once.
    const latencies: number[] = [];
    for (const j of jobs) {
      const id = await j.id;
      const job = await waitForJob(stack.baseUrl, id, "chaos", 90_000);
      assertEquals(job.status, "completed", JSON.stringify(job.error));
      if (j.kind === "short") assertEquals(words(job.transcript), words(text));
      else assert(words(job.transcript).length > 30, job.transcript);
      latencies.push(Date.parse(job.completed_at) - Date.parse(job.created_at));
    }
    const killed = await waitForJob(stack.baseUrl, killedJob, "chaos");
    figures.sigkill_job_recovered_ms = Date.parse(killed.completed_at) -
      killedAt;
    figures.sigkill_job_attempts = killed.attempts;
    assert(killed.attempts >= 2, `attempts ${killed.attempts}`);

    const finished = await view.finished();
    const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    const completedMetric = Number(
      /whisper_jobs\{status="completed"\} (\d+)/.exec(metrics)?.[1],
    );
    assertEquals(finished.completed, jobs.length, "stored once per job");
    assertEquals(finished.failed, 0);
    assertEquals(completedMetric, jobs.length);

    // The stack restarted both workers and said so in its log.
    assertEquals(stack.restarts(), 2);
    const log = await Deno.readTextFile(`${stack.logDir}/stack.log`);
    assertMatch(
      log,
      new RegExp(
        `${victim.name} died \\(code 137, SIGKILL\\); restarting in \\d+ ms`,
      ),
    );
    assertMatch(
      log,
      new RegExp(`${draining.name} died \\(code 0\\); restarting`),
    );
    assertMatch(log, new RegExp(`${victim.name} restarted`));

    Object.assign(figures, {
      submitted: jobs.length,
      completed: finished.completed,
      failed: finished.failed,
      lost: jobs.length - finished.completed - finished.failed,
      stored_twice: Math.max(0, finished.completed - jobs.length),
      offered_rate_per_s: round(jobs.length / loadS, 2),
      job_latency_p50_ms: percentile(latencies, 50),
      job_latency_p95_ms: percentile(latencies, 95),
      job_latency_max_ms: Math.max(...latencies),
      worker_restarts: stack.restarts(),
      sigterm_exit_code: drainExit.code,
      lock_ms: 10_000,
      stalled_interval_ms: 5000,
    });
    summary = `${jobs.length} jobs at ${RATE}/s, SIGKILL + SIGTERM mid-job: ` +
      `${finished.completed} completed, 0 lost, 0 stored twice; ` +
      `killed job recovered in ${figures.sigkill_job_recovered_ms} ms ` +
      `(attempt ${killed.attempts}); SIGTERM drained in ${figures.sigterm_drain_ms} ms, exit 0; ` +
      `${stack.restarts()} restarts logged`;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    view.close();
    await stack.stop();
    await removeLogs(stack, failure);
    await writeReport({ suite: "chaos_worker", summary, figures }, failure);
  }
});
