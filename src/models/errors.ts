/**
 * Errors specific to installing models. They extend the shared
 * {@linkcode AppError} so callers map them like any other expected failure.
 */
import { AppError, type AppErrorOptions } from "../errors/mod.ts";

/** A model could not be downloaded (network, HTTP status, timeout). */
export class ModelDownloadError extends AppError {
  /** HTTP status of the failed response, when there was one. */
  readonly httpStatus?: number;

  constructor(
    message: string,
    options: AppErrorOptions & { httpStatus?: number } = {},
  ) {
    super(503, "model_download_failed", message, options);
    this.name = "ModelDownloadError";
    this.httpStatus = options.httpStatus;
  }
}

/** A CTranslate2 model could not be converted to ggml (bad or unexpected input). */
export class ModelConversionError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super(500, "model_conversion_failed", message, options);
    this.name = "ModelConversionError";
  }
}
