/**
 * Liveness (`/health`), readiness (`/health/ready`: Redis, a live ready
 * worker, the default model) and Prometheus metrics (`/metrics`). These
 * need no identity in any AUTH_MODE.
 */
import { Hono } from "hono";
import type { ApiConfig } from "../../config/mod.ts";
import {
  type Admission,
  type JobEvents,
  liveWorkers,
  PROCESSING_BUCKETS,
  type StorageBudget,
  type Store,
  type TranscribeQueue,
} from "../../queue/mod.ts";
import {
  type Counter,
  type Histogram,
  renderGauge,
  renderSeries,
} from "../../metrics/mod.ts";
import type { Env } from "../http.ts";
import type { JobService } from "../job_service.ts";
import type { LongPollLimiter } from "../long_polls.ts";
import type { GuardStats } from "../guard/mod.ts";
import type { UploadMemory } from "../upload_memory.ts";

/** Paths served without resolving an identity. */
export const UNAUTHENTICATED_PATHS = new Set([
  "/health",
  "/health/ready",
  "/metrics",
]);

/** What the health and metrics routes read. */
export interface HealthDeps {
  config: ApiConfig;
  store: Store;
  queue: TranscribeQueue;
  events: JobEvents;
  jobs: JobService;
  installedModels: () => Promise<string[]>;
  admission?: Admission;
  storage?: StorageBudget;
  /** The API's own request counter and latency histogram. */
  requests: Counter;
  latency: Histogram;
  /** Error answers by code. */
  refusals: Counter;
  longPolls: LongPollLimiter;
  uploads: UploadMemory;
  connections?: () => GuardStats | null;
}

/** The health and metrics routes. */
export function healthRoutes(d: HealthDeps): Hono<Env> {
  const { config, store, queue, events } = d;
  const app = new Hono<Env>();

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.get("/health/ready", async (c) => {
    const checks: Record<string, { ok: boolean; detail: string }> = {};
    try {
      await store.redis.ping();
      checks.redis = { ok: true, detail: "PONG" };
    } catch (e) {
      checks.redis = { ok: false, detail: String((e as Error).message ?? e) };
    }
    try {
      const workers = checks.redis.ok
        ? await liveWorkers(store.redis, config.REDIS_PREFIX)
        : [];
      const ready = workers.filter((w) => w.ready);
      const notReady = workers.filter((w) => !w.ready)
        .map((w) => `; ${w.worker_id} not ready: ${w.reason ?? "unknown"}`);
      checks.workers = {
        ok: ready.length > 0,
        detail: `${ready.length} ready of ${workers.length} live` +
          notReady.join(""),
      };
    } catch (e) {
      checks.workers = { ok: false, detail: String((e as Error).message ?? e) };
    }
    try {
      const models = await d.installedModels();
      const ok = models.includes(config.DEFAULT_MODEL);
      checks.model = {
        ok,
        detail: ok
          ? `${config.DEFAULT_MODEL} installed`
          : `${config.DEFAULT_MODEL} not installed (have: ${
            models.join(", ") || "none"
          })`,
      };
    } catch (e) {
      checks.model = { ok: false, detail: String((e as Error).message ?? e) };
    }
    const ok = Object.values(checks).every((x) => x.ok);
    return c.json(
      { status: ok ? "ready" : "not_ready", checks },
      ok ? 200 : 503,
    );
  });

  app.get("/metrics", async (c) => {
    const parts = [
      d.requests.render(),
      d.latency.render(),
      d.refusals.render(),
    ];
    const depth = await queue.depth();
    const finished = await store.finishedCounts();
    parts.push(
      renderGauge(
        "whisper_jobs",
        "Jobs by status (completed/failed are totals)",
        [
          {
            labels: { status: "queued" },
            value: depth.waiting + depth.delayed,
          },
          { labels: { status: "processing" }, value: depth.active },
          { labels: { status: "completed" }, value: finished.completed },
          { labels: { status: "failed" }, value: finished.failed },
        ],
      ),
      renderGauge(
        "whisper_jobs_failed_by_code",
        "Failed jobs (totals) by error code, e.g. time_limit_exceeded",
        Object.entries(await store.failedByCode()).map(([code, value]) => ({
          labels: { code },
          value,
        })),
      ),
      renderGauge(
        "whisper_pieces_queued",
        "Pieces of long recordings waiting for a worker",
        [{ value: depth.pieces }],
      ),
      renderGauge(
        "whisper_long_audio_queued_seconds",
        "Audio seconds of long recordings not yet transcribed",
        [{ value: await d.jobs.queuedLongAudioS() }],
      ),
      renderGauge("whisper_queue_depth", "Jobs waiting for a worker", [{
        value: depth.waiting + depth.delayed,
      }]),
    );
    const conns = d.connections?.();
    if (conns) {
      parts.push(
        renderGauge("whisper_connections_open", "Client connections open", [{
          value: conns.open,
        }]),
        renderGauge(
          "whisper_connections_cut",
          "Client connections closed by a limit (totals): head, body or idle time, bad framing",
          Object.entries(conns.cut).map(([reason, value]) => ({
            labels: { reason },
            value,
          })),
        ),
      );
    }
    if (d.storage) {
      const u = await d.storage.usage();
      parts.push(
        renderGauge(
          "whisper_storage_bytes",
          "Bytes Redis holds (used), the service's storage budget, Redis's maxmemory (0: none)",
          [
            { labels: { kind: "used" }, value: u.usedBytes },
            { labels: { kind: "budget" }, value: u.budgetBytes },
            { labels: { kind: "maxmemory" }, value: u.maxmemoryBytes },
          ],
        ),
      );
    }
    if (d.admission) {
      const a = await d.admission.limit();
      parts.push(
        renderGauge(
          "whisper_backlog_limit",
          "Queued jobs beyond which new jobs get 429",
          [{ value: a.limit }],
        ),
      );
    }
    const hist = await store.processingHistogram();
    parts.push(
      "# HELP whisper_job_processing_seconds Time a worker spent on a job\n" +
        "# TYPE whisper_job_processing_seconds histogram\n" +
        renderSeries(
          "whisper_job_processing_seconds",
          PROCESSING_BUCKETS,
          hist,
        ),
    );
    const workers = await liveWorkers(store.redis, config.REDIS_PREFIX);
    parts.push(
      renderGauge("whisper_workers", "Live workers", [{
        value: workers.length,
      }]),
      renderGauge("whisper_workers_busy", "Jobs running on live workers", [{
        value: workers.reduce((n, w) => n + w.busy, 0),
      }]),
      renderGauge("whisper_long_polls", "Requests waiting in long polls", [{
        value: events.waiting,
      }]),
      renderGauge(
        "whisper_long_polls_capped",
        "Long polls answered at once because a cap was reached (total)",
        [{ value: d.longPolls.capped }],
      ),
      renderGauge(
        "whisper_audio_checks",
        "Compressed uploads being decoded by ffmpeg to be measured (running, waiting for a turn), and in all: decoded, or refused by a full quota before decoding",
        Object.entries(d.jobs.ffmpegTurns.counts).map(([state, value]) => ({
          labels: { state },
          value,
        })),
      ),
      renderGauge(
        "whisper_upload_memory_bytes",
        "Upload bytes the API is reading now (held) and its budget (UPLOAD_MEMORY_BYTES)",
        [
          { labels: { kind: "held" }, value: d.uploads.heldBytes },
          { labels: { kind: "budget" }, value: d.uploads.budgetBytes },
        ],
      ),
    );
    return c.body(parts.join("\n") + "\n", 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  return app;
}
