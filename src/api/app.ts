/**
 * The HTTP API as a Hono app built from its dependencies, so tests can call
 * `app.request()` in-process against a real Redis.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createHash } from "node:crypto";
import { z } from "zod";
import {
  AppError,
  BadRequestError,
  ConflictError,
  errorBody,
  GoneError,
  NotFoundError,
  OverloadedError,
  TooLargeError,
  UnavailableError,
  UnknownModelError,
  ValidationError,
} from "../errors/mod.ts";
import type { ApiConfig } from "../config/mod.ts";
import {
  type Admission,
  isoNow,
  isRedisDown,
  type JobEvents,
  type JobRecord,
  liveWorkers,
  PieceStore,
  PROCESSING_BUCKETS,
  type SessionRecord,
  type Store,
  type TranscribeQueue,
} from "../queue/mod.ts";
import {
  Counter,
  Histogram,
  renderGauge,
  renderSeries,
} from "../metrics/mod.ts";
import type { Logger } from "../log/mod.ts";
import { findCatalogEntry } from "../models/mod.ts";
import { ANONYMOUS, type Caller, IdentityResolver } from "./identity.ts";
import {
  describeIssues,
  InitializeBody,
  JobFormFields,
  jobView,
  ListQuery,
  WaitParam,
} from "./schemas.ts";

/** What the API learns from a cheap audio check before queuing a job. */
export interface AudioCheck {
  durationS: number | null;
  format: string;
}

/** Everything the API needs, injected. */
export interface ApiDeps {
  config: ApiConfig;
  store: Store;
  queue: TranscribeQueue;
  events: JobEvents;
  /** Validates uploaded bytes as audio (throws InvalidAudioError). */
  checkAudio: (bytes: Uint8Array) => Promise<AudioCheck>;
  /** Models jobs may name: installed locally or loaded by a live worker. */
  installedModels: () => Promise<string[]>;
  /** Writes one structured log line. */
  log?: Logger;
  /** Admission control; without it only a fixed MAX_BACKLOG applies. */
  admission?: Admission;
}

type Env = { Variables: { caller: Caller } };

const MULTIPART_OVERHEAD = 64 * 1024;
/** Largest JSON body accepted (`POST /uploads/initialize`), bytes. */
const MAX_JSON_BODY = 64 * 1024;
/** Largest total size of request header names and values, bytes. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Paths served without resolving an identity (liveness, readiness, metrics). */
const UNAUTHENTICATED_PATHS = new Set(["/health", "/health/ready", "/metrics"]);
/** Session and job ids are v4 UUIDs (`crypto.randomUUID()`). */
const RESOURCE_ID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Builds the API. */
export function createApp(deps: ApiDeps): Hono<Env> {
  const { config, store, queue, events } = deps;
  const pieces = new PieceStore(store.redis, config.REDIS_PREFIX);
  const identity = new IdentityResolver(config.AUTH_MODE, config.API_KEYS);
  const app = new Hono<Env>();
  const requests = new Counter(
    "http_requests_total",
    "HTTP requests by route and status",
  );
  const latency = new Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route and status",
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
  });

  app.onError((error, c) => errorResponse(c, error, log));
  app.notFound((c) =>
    c.json(
      errorBody(
        "route_not_found",
        `no route for ${c.req.method} ${c.req.path}`,
      ),
      404,
    )
  );

  // ---- uploads -----------------------------------------------------------

  app.post("/uploads/initialize", jsonBodyLimit(), async (c) => {
    const body = InitializeBody.safeParse(await readJson(c));
    if (!body.success) {
      throw new ValidationError("invalid_body", describeIssues(body.error));
    }
    const b = body.data;
    if (b.file_size > config.MAX_UPLOAD_BYTES) {
      throw new TooLargeError(
        "file_too_large",
        `file_size ${b.file_size} exceeds the maximum of ${config.MAX_UPLOAD_BYTES} bytes`,
      );
    }
    const model = await resolveModel(b.model_name);
    const language = resolveLanguage(model, b.language);
    const owner = ownerOf(c);
    if (
      await store.openSessions(owner, config.SESSION_TTL_S) >=
        config.MAX_SESSIONS_PER_USER
    ) {
      throw new OverloadedError(
        `too many open upload sessions (limit ${config.MAX_SESSIONS_PER_USER}); finalize or let some expire`,
        Math.min(60, config.SESSION_TTL_S),
      );
    }
    const now = Date.now();
    const session: SessionRecord = {
      session_id: crypto.randomUUID(),
      owner,
      filename: b.filename,
      file_size: b.file_size,
      chunk_size: config.CHUNK_SIZE,
      total_chunks: Math.ceil(b.file_size / config.CHUNK_SIZE),
      model_name: model,
      language,
      created_at: isoNow(now),
      expires_at: isoNow(now + config.SESSION_TTL_S * 1000),
      job_id: crypto.randomUUID(),
      finalized: false,
      file_hash: "",
    };
    await store.createSession(session, config.SESSION_TTL_S);
    return c.json({
      session_id: session.session_id,
      chunk_size: session.chunk_size,
      total_chunks: session.total_chunks,
      expires_at: session.expires_at,
      model_name: model,
      language,
    });
  });

  app.post(
    "/uploads/:sid/chunks/:n",
    bodyLimit({
      maxSize: config.CHUNK_SIZE + MULTIPART_OVERHEAD,
      onError: () => {
        throw new TooLargeError(
          "chunk_too_large",
          `a chunk request may carry at most ${config.CHUNK_SIZE} bytes of data`,
        );
      },
    }),
    async (c) => {
      const session = await ownedSession(c, c.req.param("sid"));
      const n = chunkNumber(c.req.param("n"), session.total_chunks);
      if (session.finalized) {
        throw new ConflictError(
          "session_finalized",
          "the upload session is already finalized",
        );
      }
      const data = await formFile(c, "chunk_data");
      const expected = n < session.total_chunks - 1
        ? session.chunk_size
        : session.file_size - session.chunk_size * (session.total_chunks - 1);
      if (data.byteLength !== expected) {
        throw new BadRequestError(
          "chunk_size_mismatch",
          `chunk ${n} must be ${expected} bytes, got ${data.byteLength}`,
        );
      }
      const ttlMs = Date.parse(session.expires_at) - Date.now();
      const r = await store.putChunk(session.session_id, n, data, ttlMs);
      if (r.kind === "missing") throw await sessionGone(session.session_id);
      if (r.kind === "conflict") {
        throw new ConflictError(
          "chunk_conflict",
          `chunk ${n} was already uploaded with different bytes`,
        );
      }
      return c.json({
        chunk_number: n,
        status: "uploaded",
        uploaded_chunks: r.uploaded,
        total_chunks: session.total_chunks,
        progress_percent:
          Math.round(r.uploaded / session.total_chunks * 10000) / 100,
      });
    },
  );

  app.get("/uploads/:sid", async (c) => {
    const session = await ownedSession(c, c.req.param("sid"));
    const present = session.finalized
      ? Array.from({ length: session.total_chunks }, (_, i) => i)
      : await store.chunkIndexes(session.session_id);
    const have = new Set(present);
    const missing = [];
    for (let i = 0; i < session.total_chunks; i++) {
      if (!have.has(i)) missing.push(i);
    }
    return c.json({
      session_id: session.session_id,
      filename: session.filename,
      file_size: session.file_size,
      chunk_size: session.chunk_size,
      total_chunks: session.total_chunks,
      uploaded_chunks: present.length,
      present_chunks: present,
      missing_chunks: missing,
      finalized: session.finalized,
      job_id: session.finalized ? session.job_id : null,
      model_name: session.model_name,
      expires_at: session.expires_at,
    });
  });

  app.post("/uploads/:sid/finalize", jsonBodyLimit(), async (c) => {
    const session = await ownedSession(c, c.req.param("sid"));
    if (session.finalized) {
      return c.json(finalizeBody(session.job_id, session.file_hash));
    }
    const present = new Set(await store.chunkIndexes(session.session_id));
    const missing = [];
    for (let i = 0; i < session.total_chunks; i++) {
      if (!present.has(i)) missing.push(i);
    }
    if (missing.length) {
      throw new ConflictError(
        "missing_chunks",
        `cannot finalize: ${missing.length} chunk(s) missing: ${
          missing.slice(0, 50).join(", ")
        }${missing.length > 50 ? ", …" : ""}`,
        { extra: { missing_chunks: missing } },
      );
    }
    const bytes = await store.assemble(
      session.session_id,
      session.total_chunks,
    );
    if (!bytes) {
      // Finalized concurrently (chunks dropped) or expired meanwhile.
      const again = await store.getSession(session.session_id);
      if (again?.finalized) {
        return c.json(finalizeBody(again.job_id, again.file_hash));
      }
      throw await sessionGone(session.session_id);
    }
    const hash = createHash("sha256").update(bytes).digest("hex");
    const job = await submit({
      jobId: session.job_id,
      owner: session.owner,
      model: session.model_name,
      language: session.language,
      filename: session.filename,
      bytes,
      hash,
    });
    await store.closeSession(session, hash);
    return c.json(finalizeBody(job, hash));
  });

  // ---- jobs --------------------------------------------------------------

  app.post(
    "/jobs",
    bodyLimit({
      maxSize: config.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD,
      onError: () => {
        throw new TooLargeError(
          "file_too_large",
          `the upload exceeds the maximum of ${config.MAX_UPLOAD_BYTES} bytes`,
        );
      },
    }),
    async (c) => {
      await admit(); // before reading the body: refusals stay cheap
      const form = await readForm(c);
      const fields = JobFormFields.safeParse({
        model_name: stringField(form, "model_name"),
        language: stringField(form, "language"),
      });
      if (!fields.success) {
        throw new ValidationError("invalid_body", describeIssues(fields.error));
      }
      const model = await resolveModel(fields.data.model_name);
      const language = resolveLanguage(model, fields.data.language);
      const file = form.get("file");
      if (!(file instanceof File)) {
        throw new ValidationError(
          "missing_field",
          'multipart field "file" is required',
        );
      }
      if (file.size > config.MAX_UPLOAD_BYTES) {
        throw new TooLargeError(
          "file_too_large",
          `the file is ${file.size} bytes; the maximum is ${config.MAX_UPLOAD_BYTES}`,
        );
      }
      const bytes = new Uint8Array(await file.arrayBuffer());
      const hash = createHash("sha256").update(bytes).digest("hex");
      const jobId = crypto.randomUUID();
      await submit({
        jobId,
        owner: ownerOf(c),
        model,
        language,
        filename: (file.name || "upload").slice(0, 255),
        bytes,
        hash,
      });
      const rec = await store.getJob(jobId);
      return c.json(
        rec ? jobView(rec) : { job_id: jobId, status: "queued" },
        202,
      );
    },
  );

  app.get("/jobs", async (c) => {
    const q = ListQuery.safeParse(c.req.query());
    if (!q.success) {
      throw new BadRequestError("invalid_query", describeIssues(q.error));
    }
    const page = await store.listJobs(ownerOf(c), q.data.limit, q.data.cursor);
    return c.json({
      jobs: page.jobs.map((j) => jobView(j)),
      next_cursor: page.next_cursor,
    });
  });

  app.get("/jobs/:id", async (c) => {
    const id = c.req.param("id");
    const waitRaw = c.req.query("wait");
    let waitS = 0;
    if (waitRaw !== undefined) {
      const w = WaitParam.safeParse(waitRaw === "" ? "x" : waitRaw);
      if (!w.success) {
        throw new BadRequestError(
          "invalid_wait",
          "wait must be a number of seconds in 0..30",
        );
      }
      waitS = w.data;
    }
    let job = await readableJob(c, id);
    if (waitS > 0 && !isFinal(job)) {
      const stop = new AbortController();
      const onClientGone = () => stop.abort();
      c.req.raw.signal.addEventListener("abort", onClientGone);
      try {
        const waiting = events.waitFor(id, waitS * 1000, stop.signal);
        job = await readableJob(c, id); // may have finished before we subscribed
        if (!isFinal(job)) {
          await waiting;
          job = await readableJob(c, id);
        }
      } finally {
        stop.abort();
        c.req.raw.signal.removeEventListener("abort", onClientGone);
      }
    }
    return c.json(await fullView(job));
  });

  app.delete("/jobs/:id", async (c) => {
    const job = await ownedJob(c, c.req.param("id"));
    if (job.pieces_total !== null && !isFinal(job)) {
      // A split recording: the pieces not yet started are removed; running
      // ones finish and find the job gone.
      const cancelled = await queue.cancelPieces(job.job_id, job.pieces_total);
      await pieces.abandon(job.job_id, job.owner, job.pieces_total);
      await store.deleteJob(job);
      await store.notify(job.job_id);
      return c.json({
        job_id: job.job_id,
        status: "cancelled",
        pieces_cancelled: cancelled,
        pieces_done: job.pieces_done,
        pieces_total: job.pieces_total,
      });
    }
    if (job.status === "processing") {
      throw new ConflictError(
        "job_in_progress",
        "the job is being transcribed; try again later",
      );
    }
    if (job.status === "queued") {
      if (!(await queue.cancel(job.job_id))) {
        throw new ConflictError(
          "job_in_progress",
          "the job was just picked up by a worker",
        );
      }
      await store.deleteJob(job);
      return c.json({ job_id: job.job_id, status: "cancelled" });
    }
    await store.deleteJob(job);
    return c.json({ job_id: job.job_id, status: "deleted" });
  });

  // ---- health and metrics -----------------------------------------------

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
      const models = await deps.installedModels();
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
    const parts = [requests.render(), latency.render()];
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
    );
    parts.push(
      renderGauge(
        "whisper_pieces_queued",
        "Pieces of long recordings waiting for a worker",
        [{ value: depth.pieces }],
      ),
      renderGauge(
        "whisper_long_audio_queued_seconds",
        "Audio seconds of long recordings not yet transcribed",
        [{ value: await pieces.queuedLongAudioS() }],
      ),
    );
    parts.push(
      renderGauge("whisper_queue_depth", "Jobs waiting for a worker", [{
        value: depth.waiting + depth.delayed,
      }]),
    );
    if (deps.admission) {
      const a = await deps.admission.limit();
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
    );
    parts.push(
      renderGauge("whisper_workers_busy", "Jobs running on live workers", [{
        value: workers.reduce((n, w) => n + w.busy, 0),
      }]),
    );
    parts.push(
      renderGauge("whisper_long_polls", "Requests waiting in long polls", [{
        value: events.waiting,
      }]),
    );
    return c.body(parts.join("\n") + "\n", 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  // ---- helpers -----------------------------------------------------------

  async function admit(): Promise<void> {
    await deps.admission?.check();
  }

  function ownerOf(c: Context<Env>): string {
    return c.get("caller").id ?? ANONYMOUS;
  }

  async function resolveModel(requested?: string): Promise<string> {
    const name = requested ?? config.DEFAULT_MODEL;
    const installed = await deps.installedModels();
    if (!installed.includes(name)) throw new UnknownModelError(name, installed);
    return name;
  }

  function resolveLanguage(model: string, language?: string): string {
    // English-only per the catalog (tiny.en, tiny.en-q8_0, …), else by name.
    const englishOnly = findCatalogEntry(model)?.multilingual === false ||
      /\.en(-|$)/.test(model);
    if (englishOnly) {
      if (language && language !== "en") {
        throw new ValidationError(
          "unsupported_language",
          `model ${model} is English-only; language "${language}" is not supported`,
        );
      }
      return "en";
    }
    return language ?? "auto";
  }

  async function sessionGone(id: string): Promise<AppError> {
    return (await store.expiredSessionOwner(id)) !== null
      ? new GoneError(
        "session_expired",
        `upload session ${shown(id)} has expired`,
      )
      : new NotFoundError(
        "session_not_found",
        `upload session ${shown(id)} not found`,
      );
  }

  async function ownedSession(
    c: Context<Env>,
    id: string,
  ): Promise<SessionRecord> {
    // Ids that can't be ours never reach Redis: a crafted id such as
    // "<uuid>:seen" would otherwise address another key.
    const s = RESOURCE_ID.test(id) ? await store.getSession(id) : null;
    const caller = ownerOf(c);
    if (!s) {
      const owner = RESOURCE_ID.test(id)
        ? await store.expiredSessionOwner(id)
        : null;
      if (owner !== null && owner === caller) {
        throw new GoneError(
          "session_expired",
          `upload session ${shown(id)} has expired`,
        );
      }
      throw new NotFoundError(
        "session_not_found",
        `upload session ${shown(id)} not found`,
      );
    }
    if (s.owner !== caller) {
      throw new NotFoundError(
        "session_not_found",
        `upload session ${shown(id)} not found`,
      );
    }
    return s;
  }

  /** A job the caller may read: its own, or any job by id in open mode without identity. */
  async function readableJob(c: Context<Env>, id: string): Promise<JobRecord> {
    const job = RESOURCE_ID.test(id) ? await store.getJob(id) : null;
    const caller = c.get("caller").id;
    const anonymousRead = caller === null && config.AUTH_MODE === "open";
    if (!job || (!anonymousRead && job.owner !== caller)) {
      throw new NotFoundError("job_not_found", `job ${shown(id)} not found`);
    }
    return job;
  }

  async function ownedJob(c: Context<Env>, id: string): Promise<JobRecord> {
    const job = RESOURCE_ID.test(id) ? await store.getJob(id) : null;
    if (!job || job.owner !== ownerOf(c)) {
      throw new NotFoundError("job_not_found", `job ${shown(id)} not found`);
    }
    return job;
  }

  /** The job as clients see it, with its pieces when it was split. */
  async function fullView(job: JobRecord) {
    if (job.pieces_total === null) return jobView(job, null);
    return jobView(job, await pieces.results(job.job_id));
  }

  async function submit(j: {
    jobId: string;
    owner: string;
    model: string;
    language: string;
    filename: string;
    bytes: Uint8Array;
    hash: string;
  }): Promise<string> {
    const audio = await deps.checkAudio(j.bytes);
    if (
      audio.durationS !== null && audio.durationS > config.MAX_AUDIO_DURATION_S
    ) {
      throw new TooLargeError(
        "audio_too_long",
        `audio is ${
          audio.durationS.toFixed(1)
        } s long; the maximum is ${config.MAX_AUDIO_DURATION_S} s`,
      );
    }
    if (deps.admission) await deps.admission.check(audio.durationS);
    else if (config.MAX_BACKLOG > 0) {
      const depth = await queue.depth();
      if (depth.waiting + depth.delayed >= config.MAX_BACKLOG) {
        throw new OverloadedError(
          `the queue holds ${
            depth.waiting + depth.delayed
          } jobs (limit ${config.MAX_BACKLOG})`,
          2,
        );
      }
    }
    const created = await store.createJob(
      {
        job_id: j.jobId,
        owner: j.owner,
        model_name: j.model,
        language: j.language,
        filename: j.filename,
        file_hash: j.hash,
        file_size: j.bytes.byteLength,
        audio_duration_s: audio.durationS ?? 0,
      },
      j.bytes,
      config.JOB_TTL_S,
    );
    if (
      created && audio.durationS !== null &&
      audio.durationS > config.PIECE_THRESHOLD_S
    ) {
      await pieces.trackLong(j.jobId, audio.durationS);
    }
    const rec = created ? null : await store.getJob(j.jobId);
    if (created || rec?.status === "queued") {
      await queue.enqueue(
        j.jobId,
        j.model,
        (audio.durationS ?? 0) > config.PIECE_THRESHOLD_S,
      );
    }
    return j.jobId;
  }

  return app;
}

function finalizeBody(jobId: string, hash: string) {
  return {
    status: "completed",
    job_id: jobId,
    file_hash: hash,
    missing_chunks: null,
  };
}

/** An id from the URL as quoted in messages: bounded, never the whole input. */
function shown(id: string): string {
  return id.length > 64 ? `${id.slice(0, 64)}…` : id;
}

function jsonBodyLimit() {
  return bodyLimit({
    maxSize: MAX_JSON_BODY,
    onError: () => {
      throw new TooLargeError(
        "body_too_large",
        `the request body may be at most ${MAX_JSON_BODY} bytes`,
      );
    },
  });
}

function checkHeaderSize(headers: Headers): void {
  let size = 0;
  for (const [name, value] of headers) size += name.length + value.length;
  if (size > MAX_HEADER_BYTES) {
    throw new AppError(
      431,
      "headers_too_large",
      `request headers total ${size} bytes; the maximum is ${MAX_HEADER_BYTES}`,
    );
  }
}

function isFinal(job: JobRecord): boolean {
  return job.status === "completed" || job.status === "failed";
}

function chunkNumber(raw: string, total: number): number {
  if (!/^\d{1,10}$/.test(raw)) {
    throw new BadRequestError(
      "invalid_chunk_number",
      `chunk number "${raw.slice(0, 32)}" is not a non-negative integer`,
    );
  }
  const n = Number(raw);
  if (n >= total) {
    throw new BadRequestError(
      "chunk_out_of_range",
      `chunk ${n} is outside 0..${total - 1}`,
    );
  }
  return n;
}

async function readJson(c: Context<Env>): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new BadRequestError(
      "invalid_content_type",
      "the body must be application/json",
    );
  }
  try {
    return await c.req.json();
  } catch {
    throw new BadRequestError("invalid_json", "the body is not valid JSON");
  }
}

async function readForm(c: Context<Env>): Promise<FormData> {
  const type = c.req.header("content-type") ?? "";
  if (!/^multipart\/form-data\b/i.test(type)) {
    throw new BadRequestError(
      "invalid_content_type",
      "the body must be multipart/form-data",
    );
  }
  try {
    return await c.req.raw.formData();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new BadRequestError(
      "invalid_multipart",
      "the multipart body could not be parsed",
    );
  }
}

async function formFile(c: Context<Env>, field: string): Promise<Uint8Array> {
  const form = await readForm(c);
  const value = form.get(field);
  if (value === null) {
    throw new ValidationError(
      "missing_field",
      `multipart field "${field}" is required`,
    );
  }
  if (typeof value === "string") return new TextEncoder().encode(value);
  return new Uint8Array(await value.arrayBuffer());
}

function stringField(form: FormData, name: string): string | undefined {
  const v = form.get(name);
  return typeof v === "string" && v !== "" ? v : undefined;
}

function errorResponse(
  c: Context<Env>,
  error: unknown,
  log: Logger,
): Response {
  let e: AppError;
  if (error instanceof AppError) e = error;
  else if (error instanceof z.ZodError) {
    e = new ValidationError("invalid_body", describeIssues(error));
  } else if (isRedisDown(error)) {
    e = new UnavailableError("the job store is unavailable; retry shortly", {
      cause: error,
    });
  } else {
    e = new AppError(500, "internal_error", "internal server error", {
      cause: error,
    });
  }
  if (e.status >= 500) {
    log({
      level: "error",
      msg: "request failed",
      method: c.req.method,
      path: c.req.path,
      code: e.code,
      error: String((error as Error)?.stack ?? error),
    });
  }
  const headers: Record<string, string> = {};
  if (e.retryAfterS !== undefined) {
    headers["retry-after"] = String(Math.ceil(e.retryAfterS));
  }
  return c.json(
    errorBody(e.code, e.message, e.extra),
    e.status as 400,
    headers,
  );
}
