/**
 * Request plumbing shared by the API's routes: the app's context type,
 * body readers with our error codes, size limits, and the one mapping from
 * thrown errors to JSON error responses.
 */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import {
  AppError,
  BadRequestError,
  errorBody,
  openAiError,
  StorageFullError,
  TooLargeError,
  UnavailableError,
  ValidationError,
} from "../errors/mod.ts";
import { isRedisDown, isRedisOom } from "../queue/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Caller } from "./identity.ts";
import { describeIssues } from "./schemas.ts";

/**
 * Hono environment of the API: the caller resolved by the middleware, and
 * the code of the error a request was answered with (for the metrics).
 */
export type Env = {
  Variables: {
    caller: Caller;
    errorCode?: string;
    /** The connection guard's signal for this request's client, if any. */
    guardGone?: AbortSignal;
  };
};

/**
 * Aborts when the request's client has gone away: the connection guard's
 * word for it (the HTTP server misses it once a body has been read), or
 * the request's own signal (in-process requests, no guard in front).
 */
export function clientGone(c: Context<Env>): AbortSignal {
  const guard = c.get("guardGone");
  return guard ? AbortSignal.any([guard, c.req.raw.signal]) : c.req.raw.signal;
}

/** Multipart framing allowed on top of the data, bytes. */
export const MULTIPART_OVERHEAD = 64 * 1024;
/** Largest JSON body accepted (`POST /uploads/initialize`), bytes. */
export const MAX_JSON_BODY = 64 * 1024;
/** Largest total size of request header names and values, bytes. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Session and job ids are v4 UUIDs (`crypto.randomUUID()`). */
export const RESOURCE_ID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for the OpenAI-compatible routes, whose errors use OpenAI's shape. */
export function isOpenAiPath(path: string): boolean {
  return path === "/v1" || path.startsWith("/v1/");
}

/** An id from the URL as quoted in messages: bounded, never the whole input. */
export function shown(id: string): string {
  return id.length > 64 ? `${id.slice(0, 64)}…` : id;
}

/** A body limit for JSON requests (413 `body_too_large`). */
export function jsonBodyLimit() {
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

/** Refuses request headers over {@linkcode MAX_HEADER_BYTES} (431). */
export function checkHeaderSize(headers: Headers): void {
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

/** The request's declared body length (Content-Length), 0 when absent. */
export function declaredLength(c: Context<Env>): number {
  const n = Number(c.req.header("content-length") ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** The body as JSON; 400 for another content type or invalid JSON. */
export async function readJson(c: Context<Env>): Promise<unknown> {
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

/** The body as multipart form data; 400 when it isn't. */
export async function readForm(c: Context<Env>): Promise<FormData> {
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

/** The bytes of multipart field `field` (422 when missing). */
export async function formFile(
  c: Context<Env>,
  field: string,
): Promise<Uint8Array> {
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

/** A non-empty string field of `form`, or undefined. */
export function stringField(form: FormData, name: string): string | undefined {
  const v = form.get(name);
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * Any thrown value as the {@linkcode AppError} it answers with: itself,
 * zod errors a 422, Redis out of memory a 429 `storage_full`, Redis down a
 * 503, anything else a 500.
 */
export function asAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof z.ZodError) {
    return new ValidationError("invalid_body", describeIssues(error));
  }
  if (isRedisOom(error)) {
    return new StorageFullError(
      "the job store is full (Redis is at its maxmemory); retry shortly",
      5,
      { cause: error },
    );
  }
  if (isRedisDown(error)) {
    return new UnavailableError("the job store is unavailable; retry shortly", {
      cause: error,
    });
  }
  return new AppError(500, "internal_error", "internal server error", {
    cause: error,
  });
}

/** Logs a request's 5xx with the error behind it. */
export function logFailure(
  c: Context<Env>,
  e: AppError,
  error: unknown,
  log: Logger,
): void {
  log({
    level: "error",
    msg: "request failed",
    method: c.req.method,
    path: c.req.path,
    code: e.code,
    error: String((error as Error)?.stack ?? error),
  });
}

/**
 * Maps any thrown value to our JSON error response: typed errors keep their
 * status, zod errors are 422, Redis being down is 503, anything else a
 * logged 500. On the OpenAI-compatible routes (`/v1/*`) the body and
 * status are OpenAI's (see `openAiError`).
 */
export function errorResponse(
  c: Context<Env>,
  error: unknown,
  log: Logger,
): Response {
  const e = asAppError(error);
  if (e.status >= 500) logFailure(c, e, error, log);
  c.set("errorCode", e.code);
  const headers: Record<string, string> = {};
  if (e.retryAfterS !== undefined) {
    headers["retry-after"] = String(Math.ceil(e.retryAfterS));
  }
  if (isOpenAiPath(c.req.path)) {
    const { status, body } = openAiError(e);
    return c.json(body, status as 400, headers);
  }
  return c.json(
    errorBody(e.code, e.message, e.extra),
    e.status as 400,
    headers,
  );
}
