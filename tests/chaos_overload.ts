/**
 * Overload (run by `deno task test:chaos`; ~90 s): capacity is measured,
 * then jobs are offered at 6× capacity for 60 s. The API stays responsive
 * (`/health` p95 < 50 ms from a probe running throughout), admission control
 * answers 429 with Retry-After once the backlog reaches its derived limit,
 * memory stays bounded (API and worker RSS from /proc), and afterwards the
 * queue drains, every accepted job completes and a fresh job is quick. The
 * load comes from one identity, so its per-identity job quota is lifted
 * here (QUOTA_JOBS=0): this suite is about the global admission control;
 * quotas have their own (tests/storage_test.ts).
 */
import { assert, assertEquals } from "../src/testing/assert.ts";
import { startStack } from "../src/stack/mod.ts";
import { sample, waitForJob, words } from "./_client.ts";
import {
  percentile,
  pollFor,
  postJob,
  RedisView,
  removeLogs,
  round,
  rssMb,
  type Timed,
  writeReport,
} from "./chaos_helpers.ts";

const FACTOR = 6;
const OVERLOAD_S = 60;
const POLL_BUDGET_S = 10;
const MAX_IN_FLIGHT = 512;

Deno.test("chaos overload: 6× capacity for 60 s keeps the API responsive, refuses with 429 and drains", async () => {
  const figures: Record<string, unknown> = {};
  let summary = "";
  let failure: unknown;
  const stack = await startStack({
    workers: 2,
    env: { POLL_BUDGET_S: String(POLL_BUDGET_S), QUOTA_JOBS: "0" },
  });
  const view = await RedisView.open(stack.redisUrl);
  try {
    const { wav, text } = await sample();
    const base = stack.baseUrl;
    const metric = async (name: string) => {
      const m = await (await fetch(`${base}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(m)?.[1]);
    };
    const accepted: string[] = [];
    const submitBatch = async (n: number) => {
      const rs = await Promise.all(
        Array.from({ length: n }, () => postJob(base, wav, "olga")),
      );
      for (const r of rs) assertEquals(r.status, 202, JSON.stringify(r.body));
      const ids = rs.map((r) => r.body.job_id as string);
      accepted.push(...ids);
      for (const id of ids) await waitForJob(base, id, "olga");
    };

    // ---- capacity -------------------------------------------------------
    await submitBatch(8); // warms up and gives the workers' recent mean
    const c0 = performance.now();
    await submitBatch(30);
    const capacity = 30 / ((performance.now() - c0) / 1000);
    const rate = Math.ceil(FACTOR * capacity);
    const limitBefore = await metric("whisper_backlog_limit");
    figures.capacity_jobs_per_s = round(capacity, 2);
    figures.offered_rate_per_s = rate;
    figures.backlog_limit = limitBefore;

    // ---- overload -------------------------------------------------------
    const pids = Object.fromEntries(
      stack.processes().map((p) => [p.name, p.pid]),
    );
    const rss: Record<string, number[]> = {};
    const health: number[] = [];
    const depths: number[] = [];
    const statuses: Record<string, number> = {};
    const refusals: Timed[] = [];
    const overloadIds: string[] = [];
    let inFlight = 0;
    let clientDropped = 0;
    let running = true;

    const probe = (async () => {
      while (running) {
        const t = performance.now();
        const r = await fetch(`${base}/health`, {
          signal: AbortSignal.timeout(5000),
        });
        await r.body?.cancel();
        health.push(performance.now() - t);
        assertEquals(r.status, 200);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const sampler = (async () => {
      while (running) {
        for (const [name, pid] of Object.entries(pids)) {
          const mb = rssMb(pid);
          if (mb !== null) (rss[name] ??= []).push(mb);
        }
        depths.push(await metric("whisper_queue_depth"));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    const pending: Promise<void>[] = [];
    const t0 = Date.now();
    for (let i = 0; i < rate * OVERLOAD_S; i++) {
      const due = t0 + i * 1000 / rate;
      const ahead = due - Date.now();
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
      if (inFlight >= MAX_IN_FLIGHT) {
        clientDropped++;
        continue;
      }
      inFlight++;
      pending.push(
        postJob(base, wav, "olga", 30_000).then((r) => {
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.status === 202) overloadIds.push(r.body.job_id);
          else if (r.status === 429) refusals.push(r);
        }, (e) => {
          statuses[String(e?.name ?? "error")] =
            (statuses[String(e?.name ?? "error")] ?? 0) + 1;
        }).finally(() => inFlight--),
      );
    }
    await Promise.all(pending);
    const overloadS = (Date.now() - t0) / 1000;
    running = false;
    await Promise.all([probe, sampler]);
    accepted.push(...overloadIds);

    // ---- drain ----------------------------------------------------------
    const d0 = performance.now();
    await pollFor(
      "the queue to drain",
      async () => {
        const f = await view.finished();
        return f.completed + f.failed >= accepted.length || undefined;
      },
      120_000,
      200,
    );
    const drainS = (performance.now() - d0) / 1000;
    const fresh0 = performance.now();
    const fresh = await postJob(base, wav, "olga");
    assertEquals(fresh.status, 202);
    const freshJob = await waitForJob(base, fresh.body.job_id, "olga");
    const freshMs = performance.now() - fresh0;
    assertEquals(freshJob.status, "completed");
    assertEquals(words(freshJob.transcript), words(text));
    accepted.push(fresh.body.job_id);

    // Accepted jobs: all completed, once; how long they queued.
    const p = view.redis.pipeline();
    for (const id of overloadIds) {
      p.hmget(view.keys.job(id), "status", "queue_wait_ms");
    }
    const rows = ((await p.exec()) ?? []).map(([, v]) =>
      v as [string | null, string | null]
    );
    const waits = rows.map((r) => Number(r[1] ?? NaN)).filter(Number.isFinite);
    const finished = await view.finished();

    const healthP95 = percentile(health, 95);
    const maxRss = Object.fromEntries(
      Object.entries(rss).map(([k, v]) => [k, round(Math.max(...v))]),
    );
    const minRss = Object.fromEntries(
      Object.entries(rss).map(([k, v]) => [k, round(Math.min(...v))]),
    );
    const retryAfters = refusals.map((r) =>
      Number(r.headers.get("retry-after"))
    );
    Object.assign(figures, {
      overload_s: round(overloadS),
      offered: rate * OVERLOAD_S,
      client_dropped: clientDropped,
      statuses,
      accepted_during_overload: overloadIds.length,
      refused_429: refusals.length,
      retry_after_s: {
        min: Math.min(...retryAfters),
        max: Math.max(...retryAfters),
      },
      health_probes: health.length,
      health_p50_ms: round(percentile(health, 50), 2),
      health_p95_ms: round(healthP95, 2),
      health_max_ms: round(Math.max(...health), 2),
      queue_depth_max: Math.max(...depths),
      queue_wait_p50_ms: percentile(waits, 50),
      queue_wait_p95_ms: percentile(waits, 95),
      poll_budget_s: POLL_BUDGET_S,
      rss_max_mb: maxRss,
      rss_min_mb: minRss,
      drain_s: round(drainS),
      fresh_job_ms: round(freshMs),
      completed: finished.completed,
      failed: finished.failed,
    });

    assert(healthP95 < 50, `/health p95 ${healthP95} ms`);
    assertEquals(clientDropped, 0, "the API kept up with the offered load");
    assertEquals(
      Object.keys(statuses).filter((s) => s !== "202" && s !== "429"),
      [],
      `only 202 and 429: ${JSON.stringify(statuses)}`,
    );
    assert(refusals.length > 0, "admission control refused some jobs");
    for (const r of refusals) {
      assertEquals(r.body.error.code, "overloaded");
      assert(Number(r.headers.get("retry-after")) >= 1, "Retry-After");
    }
    const maxDepth = Math.max(...depths);
    assert(
      maxDepth <= limitBefore * 1.25 + 20,
      `backlog ${maxDepth} stayed near its limit ${limitBefore}`,
    );
    assertEquals(finished.failed, 0);
    assertEquals(finished.completed, accepted.length, "each stored once");
    assert(rows.every((r) => r[0] === "completed"), "every accepted job done");
    for (const [name, mb] of Object.entries(maxRss)) {
      assert(mb < 600, `${name} RSS ${mb} MiB`);
    }
    assert(freshMs < 5000, `a fresh job took ${freshMs} ms`);

    summary =
      `${rate} jobs/s offered for ${OVERLOAD_S} s (${FACTOR}× the measured ` +
      `${round(capacity, 1)}/s): /health p95 ${round(healthP95, 1)} ms; ` +
      `${overloadIds.length} accepted, ${refusals.length} refused 429 ` +
      `(Retry-After ${Math.min(...retryAfters)}–${
        Math.max(...retryAfters)
      } s) at a backlog limit of ${limitBefore}; ` +
      `max RSS api ${maxRss.api} MiB, workers ${
        Math.max(maxRss["worker-1"] ?? 0, maxRss["worker-2"] ?? 0)
      } MiB; drained in ${round(drainS)} s, fresh job ${
        Math.round(freshMs)
      } ms`;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    view.close();
    await stack.stop();
    await removeLogs(stack, failure);
    await writeReport({ suite: "chaos_overload", summary, figures }, failure);
  }
});
