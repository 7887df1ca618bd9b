/**
 * The HTTP API as a Hono app built from its dependencies, so tests can call
 * `app.request()` in-process against a real Redis. One middleware resolves
 * the caller, counts and times every request and maps errors to our JSON
 * body (OpenAI's on `/v1/*`); the routes live in `routes/` (uploads, jobs,
 * the OpenAI-compatible ones, health and metrics) and call the job logic
 * in `job_service.ts`.
 */
import { Hono } from "hono";
import { NotFoundError } from "../errors/mod.ts";
import type { JobEvents } from "../queue/mod.ts";
import { Counter, Histogram } from "../metrics/mod.ts";
import type { Logger } from "../log/mod.ts";
import { IdentityResolver } from "./identity.ts";
import {
  checkHeaderSize,
  type Env,
  errorResponse,
  MULTIPART_OVERHEAD,
} from "./http.ts";
import { JobService, type JobServiceDeps } from "./job_service.ts";
import { healthRoutes, UNAUTHENTICATED_PATHS } from "./routes/health.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { CONNECTION_HEADER, type GuardStats } from "./guard/mod.ts";
import { LongPollLimiter } from "./long_polls.ts";
import { openAiRoutes } from "./routes/openai.ts";
import { uploadRoutes } from "./routes/uploads.ts";
import { UploadMemory, uploadMemoryBudget } from "./upload_memory.ts";
import { memTotal } from "../config/mod.ts";

export type { AudioCheck } from "./job_service.ts";

/** Everything the API needs, injected: the job logic's needs, plus events and a log. */
export interface ApiDeps extends JobServiceDeps {
  events: JobEvents;
  /** The connection guard's counts, when one is in front (metrics). */
  connections?: () => GuardStats | null;
  /**
   * The connection guard's signal for a {@linkcode CONNECTION_HEADER} value
   * (its client went away), when one is in front.
   */
  clientGone?: (header: string) => AbortSignal | undefined;
  /** Writes one structured log line. */
  log?: Logger;
}

/** Builds the API. */
export function createApp(deps: ApiDeps): Hono<Env> {
  const { config, store, events } = deps;
  const identity = new IdentityResolver(config.AUTH_MODE, config.API_KEYS);
  const jobs = new JobService(deps);
  const uploads = new UploadMemory(
    uploadMemoryBudget(
      config.UPLOAD_MEMORY_BYTES,
      config.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD,
      memTotal(),
    ),
  );
  const app = new Hono<Env>();
  const requests = new Counter(
    "http_requests_total",
    "HTTP requests by route and status",
  );
  const latency = new Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route and status",
  );
  const refusals = new Counter(
    "whisper_refusals_total",
    "Requests answered with an error, by its code (quota_exceeded, storage_full, overloaded, …)",
  );
  const log = deps.log ?? (() => undefined);

  app.use("*", async (c, next) => {
    const start = performance.now();
    try {
      checkHeaderSize(c.req.raw.headers);
      // Probes and scrapers carry no identity, whatever AUTH_MODE says.
      c.set(
        "caller",
        UNAUTHENTICATED_PATHS.has(c.req.path)
          ? { id: null }
          : identity.resolve(c.req.raw.headers),
      );
      const connection = deps.clientGone && c.req.header(CONNECTION_HEADER);
      if (connection) c.set("guardGone", deps.clientGone!(connection));
      if (config.FAULT_API_DELAY_MS > 0 && !c.req.path.startsWith("/health")) {
        // Fault injection (FAULT_INJECTION=test-only): measures the perf verdict.
        await new Promise((r) => setTimeout(r, config.FAULT_API_DELAY_MS));
      }
      await next();
    } catch (error) {
      c.res = errorResponse(c, error, log);
    }
    const route = c.req.routePath || "unmatched";
    const labels = {
      method: c.req.method,
      route,
      status: String(c.res.status),
    };
    requests.inc(labels);
    latency.observe((performance.now() - start) / 1000, labels);
    const code = c.get("errorCode");
    if (code) refusals.inc({ code });
  });

  app.onError((error, c) => errorResponse(c, error, log));
  app.notFound((c) =>
    errorResponse(
      c,
      new NotFoundError(
        "route_not_found",
        `no route for ${c.req.method} ${c.req.path}`,
      ),
      log,
    )
  );

  app.route("/", uploadRoutes(config, store, jobs, uploads));
  const longPolls = new LongPollLimiter(
    config.LONG_POLL_MAX,
    config.LONG_POLL_MAX_PER_IDENTITY,
  );
  app.route("/", jobRoutes(config, store, events, jobs, longPolls, uploads));
  app.route(
    "/",
    openAiRoutes(
      config,
      events,
      jobs,
      deps.installedModels,
      uploads,
      log,
    ),
  );
  app.route(
    "/",
    healthRoutes({
      ...deps,
      jobs,
      requests,
      latency,
      refusals,
      longPolls,
      uploads,
    }),
  );
  return app;
}
