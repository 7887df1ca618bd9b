/**
 * Typed errors shared by every component, and the one place where they are
 * mapped to HTTP statuses (API) and exit codes (CLIs).
 *
 * Every expected failure is an {@linkcode AppError} with a stable machine
 * `code`; callers never match on message strings.
 *
 * @module
 */

/** Options accepted by every {@linkcode AppError}. */
export interface AppErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** Seconds a client should wait before retrying (429/503). */
  retryAfterS?: number;
  /** Extra machine-readable fields added to the JSON error body. */
  extra?: Record<string, unknown>;
}

/** Base class of all expected failures. */
export class AppError extends Error {
  /** Stable machine-readable code, e.g. `chunk_out_of_range`. */
  readonly code: string;
  /** HTTP status used when this error reaches the API edge. */
  readonly status: number;
  /** Seconds a client should wait before retrying, when relevant. */
  readonly retryAfterS?: number;
  /** Extra fields for the JSON body. */
  readonly extra?: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.retryAfterS = options.retryAfterS;
    this.extra = options.extra;
  }
}

/** The request is malformed (bad JSON, bad parameter). HTTP 400. */
export class BadRequestError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(400, code, message, options);
    this.name = "BadRequestError";
  }
}

/** Well-formed request whose content fails validation. HTTP 422. */
export class ValidationError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(422, code, message, options);
    this.name = "ValidationError";
  }
}

/** Missing or invalid credentials. HTTP 401. */
export class UnauthorizedError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super(401, "unauthorized", message, options);
    this.name = "UnauthorizedError";
  }
}

/** Unknown resource, or one owned by another identity. HTTP 404. */
export class NotFoundError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(404, code, message, options);
    this.name = "NotFoundError";
  }
}

/** The request conflicts with stored state. HTTP 409. */
export class ConflictError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(409, code, message, options);
    this.name = "ConflictError";
  }
}

/** The resource existed but has expired. HTTP 410. */
export class GoneError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(410, code, message, options);
    this.name = "GoneError";
  }
}

/** The request or file is larger than allowed. HTTP 413. */
export class TooLargeError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(413, code, message, options);
    this.name = "TooLargeError";
  }
}

/**
 * Audio that can't be decoded. HTTP 415 for a format we don't handle, 422
 * for a known format whose content is broken. Permanent: never retried.
 */
export class InvalidAudioError extends AppError {
  constructor(
    code: string,
    message: string,
    options: AppErrorOptions & { unsupported?: boolean } = {},
  ) {
    super(options.unsupported ? 415 : 422, code, message, options);
    this.name = "InvalidAudioError";
  }
}

/** A model that is not installed (or not in the catalog). HTTP 422. */
export class UnknownModelError extends AppError {
  /** @param alias The name asked for, when `name` is its alias's model. */
  constructor(name: string, installed: readonly string[], alias?: string) {
    super(
      422,
      "model_not_installed",
      `model "${name}"${
        alias ? ` (what the alias "${alias}" names)` : ""
      } is not installed; installed models: ${
        installed.length ? installed.join(", ") : "(none)"
      }`,
      { extra: { installed_models: [...installed] } },
    );
    this.name = "UnknownModelError";
  }
}

/**
 * The service's storage budget (bytes held in Redis) is spent, or Redis
 * itself refused a write at its `maxmemory`. HTTP 429 with Retry-After
 * (a 4xx: the service is well, the client should come back — the OpenAI
 * SDKs retry a 429 by themselves); nothing already stored is lost.
 */
export class StorageFullError extends AppError {
  constructor(message: string, retryAfterS = 5, options: AppErrorOptions = {}) {
    super(429, "storage_full", message, { ...options, retryAfterS });
    this.name = "StorageFullError";
  }
}

/**
 * An identity over one of its quotas (bytes in open upload sessions, jobs
 * or audio seconds in flight). HTTP 429 with Retry-After; `extra.quota`
 * names the setting.
 */
export class QuotaError extends AppError {
  constructor(
    quota: string,
    message: string,
    retryAfterS: number,
    extra: Record<string, unknown> = {},
  ) {
    super(429, "quota_exceeded", message, {
      retryAfterS,
      extra: { quota, ...extra },
    });
    this.name = "QuotaError";
  }
}

/**
 * A transcription that ran past its time limit and was stopped. Permanent
 * for the job: retrying the same audio would run as long again.
 */
export class TimeLimitError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super(500, "time_limit_exceeded", message, options);
    this.name = "TimeLimitError";
  }
}

/** A model file that is missing, truncated, corrupt or has a wrong checksum. */
export class ModelIntegrityError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super(503, "model_corrupt", message, options);
    this.name = "ModelIntegrityError";
  }
}

/** The engine failed while transcribing (transient unless stated). */
export class EngineError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super(500, "engine_failed", message, options);
    this.name = "EngineError";
  }
}

/** Too much work queued. HTTP 429 with Retry-After. */
export class OverloadedError extends AppError {
  constructor(message: string, retryAfterS: number) {
    super(429, "overloaded", message, { retryAfterS });
    this.name = "OverloadedError";
  }
}

/** A dependency (Redis) is unavailable. HTTP 503 with Retry-After. */
export class UnavailableError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(503, "unavailable", message, {
      retryAfterS: options.retryAfterS ?? 2,
      ...options,
    });
    this.name = "UnavailableError";
  }
}

/**
 * Bad configuration or environment for a CLI or service start-up (exit 2).
 * The message names the file or variable and what was expected.
 */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** The JSON error body every API error uses. */
export interface ErrorBody {
  error: { code: string; message: string } & Record<string, unknown>;
  detail: string;
}

/** Builds the JSON error body for `code` and `message`. */
export function errorBody(
  code: string,
  message: string,
  extra?: Record<string, unknown>,
): ErrorBody {
  return { error: { code, message, ...extra }, detail: message };
}

/**
 * Statuses of the job failures that are the upload's fault (the codes a
 * worker stores from an {@linkcode InvalidAudioError}); any other failure is
 * the service's (500).
 */
const UPLOAD_FAULTS: Record<string, number> = {
  audio_decode_failed: 400,
  audio_decode_timeout: 400,
  audio_empty: 400,
  audio_too_long: 413,
  wav_malformed: 400,
  unsupported_audio_format: 415,
};

/**
 * The error a request that waited for a job answers with when the job
 * failed with `code`: the upload's fault (4xx, `param: "file"`) or ours
 * (500).
 */
export function jobFailureError(code: string, message: string): AppError {
  const status = UPLOAD_FAULTS[code];
  return status
    ? new AppError(status, code, `file: ${message}`, {
      extra: { param: "file" },
    })
    : new AppError(500, code, message);
}

/** OpenAI's error body, used on the OpenAI-compatible routes (`/v1/*`). */
export interface OpenAiErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

/**
 * Status and body of `e` on `/v1/*`, where clients are OpenAI SDKs: they
 * raise their error classes by status (400 BadRequestError, 401
 * AuthenticationError, 404 NotFoundError, 429 RateLimitError, ≥ 500
 * InternalServerError…). So a field our native routes answer with 422 is a
 * 400 there, an unknown model a 404 `model_not_found` (param `model`); the
 * `type` follows OpenAI's (`invalid_request_error`, `requests` for rate
 * limits, `server_error`); `param` comes from `extra.param` when the error
 * names a field.
 */
export function openAiError(
  e: AppError,
): { status: number; body: OpenAiErrorBody } {
  let status = e.status === 422 ? 400 : e.status;
  let code = e.code;
  let param = typeof e.extra?.param === "string" ? e.extra.param : null;
  if (e instanceof UnknownModelError) {
    status = 404;
    code = "model_not_found";
    param = "model";
  }
  if (e instanceof UnauthorizedError) code = "invalid_api_key";
  const type = status === 429
    ? "requests"
    : status >= 500
    ? "server_error"
    : "invalid_request_error";
  return { status, body: { error: { message: e.message, type, param, code } } };
}

/** Exit codes shared by every CLI. */
export const ExitCode = {
  ok: 0,
  /** The verdict is "failed" or "regression". */
  failed: 1,
  /** Unusable input, configuration or environment. */
  usage: 2,
} as const;

/** Maps any thrown value to a CLI exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) return ExitCode.usage;
  if (error instanceof AppError && error.status < 500) return ExitCode.usage;
  return ExitCode.failed;
}
