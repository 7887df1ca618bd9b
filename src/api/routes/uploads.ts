/**
 * The chunked upload protocol: `POST /uploads/initialize`, chunks in any
 * order, the session's state, and `finalize`, which submits the job.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createHash } from "node:crypto";
import {
  BadRequestError,
  ConflictError,
  OverloadedError,
  QuotaError,
  TooLargeError,
  ValidationError,
} from "../../errors/mod.ts";
import type { ApiConfig } from "../../config/mod.ts";
import { isoNow, type SessionRecord, type Store } from "../../queue/mod.ts";
import {
  declaredLength,
  type Env,
  formFile,
  jsonBodyLimit,
  MULTIPART_OVERHEAD,
  readJson,
} from "../http.ts";
import type { JobService } from "../job_service.ts";
import type { UploadMemory } from "../upload_memory.ts";
import { describeIssues, InitializeBody } from "../schemas.ts";

/** The upload routes. */
export function uploadRoutes(
  config: ApiConfig,
  store: Store,
  jobs: JobService,
  uploads: UploadMemory,
): Hono<Env> {
  const app = new Hono<Env>();

  app.post("/uploads/initialize", jsonBodyLimit(), async (c) => {
    const body = InitializeBody.safeParse(await readJson(c));
    if (!body.success) {
      throw new ValidationError("invalid_body", describeIssues(body.error));
    }
    const b = body.data;
    await jobs.admitBytes(0, "a new upload session", "staging");
    if (b.file_size > config.MAX_UPLOAD_BYTES) {
      throw new TooLargeError(
        "file_too_large",
        `file_size ${b.file_size} exceeds the maximum of ${config.MAX_UPLOAD_BYTES} bytes`,
      );
    }
    const { model, requested } = await jobs.resolveModelRequest(b.model_name);
    const language = jobs.resolveLanguage(model, b.language);
    const owner = jobs.ownerOf(c);
    const now = Date.now();
    const session: SessionRecord = {
      session_id: crypto.randomUUID(),
      owner,
      filename: b.filename,
      file_size: b.file_size,
      chunk_size: config.CHUNK_SIZE,
      total_chunks: Math.ceil(b.file_size / config.CHUNK_SIZE),
      model_name: model,
      requested_model: requested,
      language,
      created_at: isoNow(now),
      expires_at: isoNow(now + config.SESSION_TTL_S * 1000),
      job_id: crypto.randomUUID(),
      finalized: false,
      file_hash: "",
    };
    const open = await store.createSession(
      session,
      config.SESSION_TTL_S,
      config.MAX_SESSIONS_PER_USER,
    );
    if (open !== null) {
      throw new OverloadedError(
        `too many open upload sessions (limit ${config.MAX_SESSIONS_PER_USER}); finalize or let some expire`,
        Math.min(60, config.SESSION_TTL_S),
      );
    }
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
      const session = await jobs.ownedSession(c, c.req.param("sid"));
      const n = chunkNumber(c.req.param("n"), session.total_chunks);
      if (session.finalized) {
        throw new ConflictError(
          "session_finalized",
          "the upload session is already finalized",
        );
      }
      using _reading = uploads.reserve(
        declaredLength(c) || config.CHUNK_SIZE + MULTIPART_OVERHEAD,
        `chunk ${n}`,
      );
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
      await jobs.admitBytes(data.byteLength, `chunk ${n}`, "staging");
      const ttlMs = Date.parse(session.expires_at) - Date.now();
      const r = await store.putChunk(
        session.session_id,
        session.owner,
        n,
        data,
        ttlMs,
        config.QUOTA_SESSION_BYTES,
      );
      if (r.kind === "over_quota") {
        throw new QuotaError(
          "QUOTA_SESSION_BYTES",
          `${session.owner}'s open upload sessions hold ${r.held} bytes; with this chunk they would pass the quota of ${config.QUOTA_SESSION_BYTES} bytes (QUOTA_SESSION_BYTES): finalize or delete a session, or wait for one to expire`,
          await store.secondsUntilASessionExpires(
            session.owner,
            config.SESSION_TTL_S,
          ),
          { held_bytes: r.held },
        );
      }
      if (r.kind === "missing") {
        throw await jobs.sessionGone(session.session_id);
      }
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
    const session = await jobs.ownedSession(c, c.req.param("sid"));
    const present = session.finalized
      ? Array.from({ length: session.total_chunks }, (_, i) => i)
      : await store.chunkIndexes(session.session_id);
    return c.json({
      session_id: session.session_id,
      filename: session.filename,
      file_size: session.file_size,
      chunk_size: session.chunk_size,
      total_chunks: session.total_chunks,
      uploaded_chunks: present.length,
      present_chunks: present,
      missing_chunks: missingOf(present, session.total_chunks),
      finalized: session.finalized,
      job_id: session.finalized ? session.job_id : null,
      model_name: session.model_name,
      expires_at: session.expires_at,
    });
  });

  app.post("/uploads/:sid/finalize", jsonBodyLimit(), async (c) => {
    const session = await jobs.ownedSession(c, c.req.param("sid"));
    if (session.finalized) {
      return c.json(finalizeBody(session.job_id, session.file_hash));
    }
    // The chunks are read back and joined: the whole file in memory.
    using _joined = uploads.reserve(session.file_size, "finalizing");
    // One read: the chunks, or which are missing.
    const parts = await store.assemble(
      session.session_id,
      session.total_chunks,
    );
    if ("missing" in parts) {
      // Finalized concurrently (chunks dropped), expired meanwhile, or not
      // all uploaded.
      const again = await store.getSession(session.session_id);
      if (again?.finalized) {
        return c.json(finalizeBody(again.job_id, again.file_hash));
      }
      if (again === null) throw await jobs.sessionGone(session.session_id);
      const missing = parts.missing;
      throw new ConflictError(
        "missing_chunks",
        `cannot finalize: ${missing.length} chunk(s) missing: ${
          missing.slice(0, 50).join(", ")
        }${missing.length > 50 ? ", …" : ""}`,
        { extra: { missing_chunks: missing } },
      );
    }
    // The job's audio is a second copy until the chunks are dropped.
    await jobs.admitBytes(session.file_size, "finalizing the upload");
    const bytes = parts.bytes;
    const hash = createHash("sha256").update(bytes).digest("hex");
    const job = await jobs.submit({
      jobId: session.job_id,
      owner: session.owner,
      model: session.model_name,
      requestedModel: session.requested_model,
      language: session.language,
      filename: session.filename,
      bytes,
      hash,
    });
    await store.closeSession(session, hash);
    return c.json(finalizeBody(job, hash));
  });

  return app;
}

/** Chunk indexes of `0..total-1` not in `present`. */
function missingOf(present: readonly number[], total: number): number[] {
  const have = new Set(present);
  const missing: number[] = [];
  for (let i = 0; i < total; i++) if (!have.has(i)) missing.push(i);
  return missing;
}

function finalizeBody(jobId: string, hash: string) {
  return {
    status: "completed",
    job_id: jobId,
    file_hash: hash,
    missing_chunks: null,
  };
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
