/**
 * Jobs: one-request submission (`POST /jobs`), listing, reading with long
 * polling (which wakes when the job ends or a piece of it is done) as JSON
 * or as the transcript (`?format=text|srt|vtt`), and cancel/delete.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createHash } from "node:crypto";
import {
  BadRequestError,
  ConflictError,
  TooLargeError,
  ValidationError,
} from "../../errors/mod.ts";
import type { ApiConfig } from "../../config/mod.ts";
import type { JobEvents, JobRecord, Store } from "../../queue/mod.ts";
import {
  clientGone,
  declaredLength,
  type Env,
  MULTIPART_OVERHEAD,
  readForm,
  stringField,
} from "../http.ts";
import { isFinal, type JobService } from "../job_service.ts";
import type { LongPollLimiter } from "../long_polls.ts";
import type { UploadMemory } from "../upload_memory.ts";
import {
  CONTENT_TYPES,
  JOB_FORMATS,
  type JobFormat,
  transcriptAs,
} from "../transcript_format.ts";
import {
  describeIssues,
  JobFormFields,
  jobView,
  ListQuery,
  WaitParam,
} from "../schemas.ts";

/** The job routes. */
export function jobRoutes(
  config: ApiConfig,
  store: Store,
  events: JobEvents,
  jobs: JobService,
  longPolls: LongPollLimiter,
  uploads: UploadMemory,
): Hono<Env> {
  const app = new Hono<Env>();

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
      await jobs.admit(); // before reading the body: refusals stay cheap
      await jobs.admitBytes(declaredLength(c), "the upload");
      using _reading = uploads.reserve(
        declaredLength(c) || config.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD,
        "this upload",
      );
      const form = await readForm(c);
      const fields = JobFormFields.safeParse({
        model_name: stringField(form, "model_name"),
        language: stringField(form, "language"),
      });
      if (!fields.success) {
        throw new ValidationError("invalid_body", describeIssues(fields.error));
      }
      const { model, requested } = await jobs.resolveModelRequest(
        fields.data.model_name,
      );
      const language = jobs.resolveLanguage(model, fields.data.language);
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
      await jobs.submit({
        jobId,
        owner: jobs.ownerOf(c),
        model,
        requestedModel: requested,
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
    const page = await store.listJobs(
      jobs.ownerOf(c),
      q.data.limit,
      q.data.cursor,
    );
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
    const format = c.req.query("format") ?? "json";
    if (!(JOB_FORMATS as readonly string[]).includes(format)) {
      throw new BadRequestError(
        "invalid_format",
        `format must be one of ${JOB_FORMATS.join(", ")}`,
      );
    }
    let job: JobRecord;
    const slot = waitS > 0 ? longPolls.acquire(jobs.ownerOf(c)) : null;
    if (slot === null) {
      job = await jobs.readableJob(c, id);
      if (waitS > 0 && !isFinal(job)) {
        // Over a long-poll cap: the job as it is, at once, and a hint to
        // poll again after a second rather than straight away. A capped
        // poll never listens, so the waiters stay within the cap.
        longPolls.capped++;
        c.header("x-long-poll", "capped");
        c.header("retry-after", "1");
      }
    } else {
      // A slot first, then listen before reading, so a job finishing in
      // between still wakes the poll: one read before the wait, one after.
      const stop = new AbortController();
      try {
        const waiting = events.waitFor(
          id,
          waitS * 1000,
          AbortSignal.any([stop.signal, clientGone(c)]),
        );
        job = await jobs.readableJob(c, id);
        if (!isFinal(job)) {
          await waiting;
          job = await jobs.readableJob(c, id);
        }
      } finally {
        stop.abort();
        slot();
      }
    }
    if (format === "json") return c.json(await jobs.view(job));
    if (job.status !== "completed") {
      throw new ConflictError(
        "transcript_not_ready",
        `job ${job.job_id} is ${job.status}; its ${format} exists once it has completed`,
      );
    }
    const as = format as Exclude<JobFormat, "json">;
    c.header("content-type", CONTENT_TYPES[as]);
    return c.body(transcriptAs(job, as));
  });

  app.delete("/jobs/:id", async (c) => {
    const job = await jobs.ownedJob(c, c.req.param("id"));
    return c.json(await jobs.remove(job));
  });

  return app;
}
