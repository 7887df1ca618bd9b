/**
 * The OpenAI-compatible routes, for the clients users already have (the
 * OpenAI SDKs and tools built on them): `POST /v1/audio/transcriptions`
 * and `GET /v1/models[/{id}]`. A transcription is a job on the same queue
 * as the native routes (same admission, fairness and pieces for long
 * audio); the request answers when the job ends, within
 * `TRANSCRIPTION_TIMEOUT_S`, or streams its text as server-sent events
 * (`stream=true`, see `openai/stream.ts`). Errors use OpenAI's shape (see
 * `http.ts`).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  AppError,
  BadRequestError,
  jobFailureError,
  NotFoundError,
  TooLargeError,
} from "../../errors/mod.ts";
import { type ApiConfig, modelsDir } from "../../config/mod.ts";
import type { DecodeOptions, JobEvents, JobRecord } from "../../queue/mod.ts";
import { findCatalogEntry } from "../../models/mod.ts";
import {
  asAppError,
  clientGone,
  declaredLength,
  type Env,
  logFailure,
  MULTIPART_OVERHEAD,
  readForm,
} from "../http.ts";
import type { Logger } from "../../log/mod.ts";
import { isFinal, type JobService } from "../job_service.ts";
import type { UploadMemory } from "../upload_memory.ts";
import {
  OPENAI_DEFAULT_MODEL,
  parseTranscriptionFields,
  type TranscriptionFields,
} from "../openai/fields.ts";
import { renderTranscription } from "../openai/render.ts";
import { type StreamSource, transcriptionEvents } from "../openai/stream.ts";

/** The OpenAI-compatible routes. */
export function openAiRoutes(
  config: ApiConfig,
  events: JobEvents,
  jobs: JobService,
  installedModels: () => Promise<string[]>,
  uploads: UploadMemory,
  log: Logger,
): Hono<Env> {
  const app = new Hono<Env>();

  app.post(
    "/v1/audio/transcriptions",
    bodyLimit({
      maxSize: config.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD,
      onError: () => {
        throw new TooLargeError(
          "file_too_large",
          `file: the upload exceeds the maximum of ${config.MAX_UPLOAD_BYTES} bytes`,
          { extra: { param: "file" } },
        );
      },
    }),
    async (c) => {
      await jobs.admit(); // before reading the body: refusals stay cheap
      await jobs.admitBytes(declaredLength(c), "the upload");
      using reading = uploads.reserve(
        declaredLength(c) || config.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD,
        "this upload",
      );
      const form = await readForm(c);
      const fields = parseTranscriptionFields(form);
      // whisper-1, what clients send by default, is an alias of the
      // default model here (unless MODEL_ALIASES names it otherwise).
      const { model, requested } = await jobs.resolveModelRequest(
        fields.model ?? OPENAI_DEFAULT_MODEL,
        {
          [OPENAI_DEFAULT_MODEL]: config.DEFAULT_MODEL,
          ...config.MODEL_ALIASES,
        },
      );
      const language = withParam(
        "language",
        () => jobs.resolveLanguage(model, fields.language),
      );
      const file = form.get("file");
      if (!(file instanceof File)) {
        throw new BadRequestError(
          "missing_field",
          "file: a multipart file field is required",
          { extra: { param: "file" } },
        );
      }
      if (file.size > config.MAX_UPLOAD_BYTES) {
        throw new TooLargeError(
          "file_too_large",
          `file: ${file.size} bytes; the maximum is ${config.MAX_UPLOAD_BYTES}`,
          { extra: { param: "file" } },
        );
      }
      const bytes = new Uint8Array(await file.arrayBuffer());
      const jobId = crypto.randomUUID();
      await withParam("file", () =>
        jobs.submit({
          jobId,
          owner: jobs.ownerOf(c),
          model,
          language,
          filename: (file.name || "upload").slice(0, 255),
          bytes,
          hash: createHash("sha256").update(bytes).digest("hex"),
          options: decodeOptions(fields),
          requestedModel: requested,
        }));
      // Its bytes are queued: not held while the call waits for the text.
      reading[Symbol.dispose]();
      c.header("x-job-id", jobId);
      c.header("x-model", model);
      const timeoutMs = config.TRANSCRIPTION_TIMEOUT_S * 1000;
      const ended = (job: JobRecord | null) => endedError(job, jobId, config);
      if (fields.stream) {
        const keepAliveMs = config.STREAM_KEEP_ALIVE_S * 1000;
        c.header("content-type", "text/event-stream; charset=utf-8");
        c.header("cache-control", "no-cache");
        const source: StreamSource = {
          awaitFinal: (signal, onProgress) =>
            jobs.awaitFinal(events, jobId, timeoutMs, signal, {
              onProgress,
              // Wakes three times per interval: the gap stays near it.
              tickMs: keepAliveMs / 3,
            }),
          textSoFar: (job) => jobs.textSoFar(job),
          failure: ended,
          onServerError: (e, cause) => logFailure(c, e, cause, log),
        };
        return c.body(
          transcriptionEvents(source, {
            toAppError: asAppError,
            keepAliveMs,
            clientGone: clientGone(c),
          }),
          200,
        );
      }
      const job = await jobs.awaitFinal(
        events,
        jobId,
        timeoutMs,
        clientGone(c),
      );
      if (job?.status !== "completed") throw ended(job);
      c.header("x-processing-ms", String(job.processing_ms ?? 0));
      c.header("x-queue-wait-ms", String(job.queue_wait_ms ?? 0));
      const { body, contentType } = renderTranscription(job, fields);
      c.header("content-type", contentType);
      return c.body(body, 200);
    },
  );

  app.get("/v1/models", async (c) => {
    const names = await installedModels();
    return c.json({
      object: "list",
      data: [
        ...names.map((n) => modelObject(n)),
        modelObject(OPENAI_DEFAULT_MODEL, config.DEFAULT_MODEL),
      ],
    });
  });

  app.get("/v1/models/:id", async (c) => {
    const id = c.req.param("id");
    const names = await installedModels();
    if (id === OPENAI_DEFAULT_MODEL) {
      return c.json(modelObject(id, config.DEFAULT_MODEL));
    }
    if (!names.includes(id)) {
      throw new NotFoundError(
        "model_not_found",
        `model "${id.slice(0, 64)}" is not installed; installed models: ${
          names.join(", ") || "(none)"
        }`,
        { extra: { param: "model" } },
      );
    }
    return c.json(modelObject(id));
  });

  return app;
}

/**
 * The error a transcription request answers with when its job did not
 * complete: gone (404), still running at the time limit (504, naming the
 * job, which carries on) or failed (the failure's status).
 */
function endedError(
  job: JobRecord | null,
  jobId: string,
  config: ApiConfig,
): AppError {
  if (job === null) {
    return new NotFoundError(
      "job_not_found",
      `job ${jobId} was deleted before it finished`,
    );
  }
  if (!isFinal(job)) {
    return new AppError(
      504,
      "transcription_timeout",
      `the transcription did not finish within ${config.TRANSCRIPTION_TIMEOUT_S} s; ` +
        `it carries on as job ${jobId} (GET /jobs/${jobId})`,
      { extra: { job_id: jobId } },
    );
  }
  return jobFailureError(
    job.error?.code ?? "transcription_failed",
    job.error?.message ?? "the transcription failed",
  );
}

/** The job options a request's fields ask for. */
function decodeOptions(fields: TranscriptionFields): DecodeOptions {
  const options: DecodeOptions = {};
  if (fields.prompt) options.prompt = fields.prompt;
  if (fields.temperature) options.temperature = fields.temperature;
  if (fields.response_format === "verbose_json") {
    options.detail = fields.timestamp_granularities?.includes("word")
      ? "word"
      : "segment";
  }
  return options;
}

/** Runs `f`, naming `param` on the 4xx it throws. */
function withParam<T>(param: string, f: () => T): T {
  const named = (e: unknown) => {
    if (e instanceof AppError && e.status < 500 && e.status !== 429) {
      throw new AppError(e.status, e.code, e.message, {
        extra: { ...e.extra, param },
        retryAfterS: e.retryAfterS,
      });
    }
    throw e;
  };
  try {
    const r = f();
    return (r instanceof Promise ? r.catch(named) : r) as T;
  } catch (e) {
    return named(e);
  }
}

/**
 * A model as OpenAI lists it. `created` is when the model file was made
 * here (its sidecar's `created_at`), 0 when only a remote worker has it.
 */
function modelObject(id: string, aliasOf?: string) {
  return {
    id,
    object: "model",
    created: createdAt(aliasOf ?? id),
    owned_by: aliasOf
      ? `whisper-service (alias of ${aliasOf})`
      : "whisper-service",
  };
}

/** Sidecar times by model name: read once, not on every listing. */
const createdCache = new Map<string, number>();

function createdAt(name: string): number {
  let created = createdCache.get(name);
  if (created === undefined) {
    created = readCreatedAt(name);
    if (created > 0) createdCache.set(name, created);
  }
  return created;
}

function readCreatedAt(name: string): number {
  const entry = findCatalogEntry(name);
  if (!entry) return 0;
  try {
    const sidecar = JSON.parse(
      Deno.readTextFileSync(join(modelsDir(), `${entry.file}.json`)),
    ) as { created_at?: string };
    const ms = Date.parse(sidecar.created_at ?? "");
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
  } catch {
    return 0;
  }
}
