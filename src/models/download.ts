/**
 * Downloads a published ggml model into the models folder: streamed to a
 * temporary file while hashing, checked against the catalog's size, SHA-1 and
 * shape, renamed into place, and recorded in a sidecar.
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { ConfigError, ModelIntegrityError } from "../errors/mod.ts";
import { BufferedFileWriter } from "./ggml/_file_writer.ts";
import type { ModelShape } from "./catalog.ts";
import { ModelDownloadError } from "./errors.ts";
import {
  modelFilePath,
  type ModelsDirOptions,
  requireCatalogEntry,
} from "./model_paths.ts";
import type { ProgressCallback } from "./progress.ts";
import { type Sidecar, sidecarPath, writeSidecar } from "./sidecar.ts";
import { verifyModelFile } from "./verify.ts";

/** Where whisper.cpp publishes its ggml models. */
export const DEFAULT_MODEL_BASE_URL =
  "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/** Options of {@linkcode downloadModel}. */
export interface DownloadOptions extends ModelsDirOptions {
  /**
   * URL of the folder holding `ggml-<name>.bin`.
   * @default Deno.env.get("WHISPER_MODEL_BASE_URL") ?? DEFAULT_MODEL_BASE_URL
   */
  baseUrl?: string;
  /** Progress of the transfer (stage `download`, bytes). */
  onProgress?: ProgressCallback;
  /** The fetch to use (tests). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Give up when response headers haven't arrived by then. @default 15000 */
  connectTimeoutMs?: number;
  /** Give up when the body stalls this long between chunks. @default 60000 */
  idleTimeoutMs?: number;
  /** Size, SHA-1 and shape to check instead of the catalog's (tests). */
  expected?: {
    sizeBytes: number;
    sha1: string;
    shape?: Partial<ModelShape>;
    ftype?: number;
  };
}

/** A downloaded and installed model. */
export interface DownloadedModel {
  name: string;
  path: string;
  sizeBytes: number;
  sha1: string;
  sidecar: Sidecar;
}

/** The URL `name` is downloaded from, given `baseUrl`. */
export function modelUrl(name: string, baseUrl?: string): URL {
  const entry = requireCatalogEntry(name);
  const base = baseUrl ?? Deno.env.get("WHISPER_MODEL_BASE_URL") ??
    DEFAULT_MODEL_BASE_URL;
  try {
    const url = new URL(`${base.replace(/\/+$/, "")}/${entry.file}`);
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new TypeError(`unsupported protocol ${url.protocol}`);
    }
    return url;
  } catch (error) {
    throw new ConfigError(
      `WHISPER_MODEL_BASE_URL: "${base}" is not a valid http(s) URL`,
      { cause: error },
    );
  }
}

class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/**
 * Downloads catalog model `name` into the models folder.
 * @returns where it was installed and its verified size and SHA-1
 * @throws {ModelDownloadError} on a network error, timeout or HTTP error
 * @throws {ModelIntegrityError} when the content has the wrong size, SHA-1
 *   or header
 */
export async function downloadModel(
  name: string,
  options: DownloadOptions = {},
): Promise<DownloadedModel> {
  const entry = requireCatalogEntry(name, options);
  const expected = options.expected ??
    {
      sizeBytes: entry.sizeBytes,
      sha1: entry.sha1,
      shape: entry.shape,
      ftype: entry.ftype,
    };
  const url = modelUrl(name, options.baseUrl);
  const path = modelFilePath(name, options);
  const fetchFn = options.fetch ?? globalThis.fetch;
  const connectMs = options.connectTimeoutMs ?? 15_000;
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const what = `downloading ${name} from ${url}`;

  const controller = new AbortController();
  /**
   * Settles like `promise`, or rejects with a TimeoutError after `ms` (and
   * aborts the request), whether or not the fetch honours the signal.
   */
  const within = async <T>(
    promise: Promise<T>,
    ms: number,
    message: string,
  ): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(message);
        controller.abort(error);
        reject(error);
      }, ms);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const reasonOf = (error: unknown): string => {
    if (!(error instanceof Error)) return String(error);
    // fetch reports "fetch failed" and keeps the reason (DNS, refused) in cause.
    const cause = error.cause instanceof Error
      ? `: ${error.cause.message}`
      : "";
    return error.message + cause;
  };

  let tmpPath: string | undefined;
  let file: Deno.FsFile | undefined;
  try {
    let response: Response;
    try {
      response = await within(
        fetchFn(url, { signal: controller.signal }),
        connectMs,
        `no response within ${connectMs} ms`,
      );
    } catch (error) {
      throw new ModelDownloadError(`${what}: ${reasonOf(error)}`, {
        cause: error,
      });
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new ModelDownloadError(
        `${what}: HTTP ${response.status} ${response.statusText}`.trimEnd(),
        { httpStatus: response.status },
      );
    }
    const announced = response.headers.get("content-length");
    if (announced !== null && Number(announced) !== expected.sizeBytes) {
      await response.body?.cancel().catch(() => {});
      throw new ModelIntegrityError(
        `${what}: server announced ${announced} bytes, expected ${expected.sizeBytes}`,
      );
    }
    if (!response.body) throw new ModelDownloadError(`${what}: empty response`);

    await Deno.mkdir(dirname(path), { recursive: true });
    tmpPath = `${path}.download-${Deno.pid}-${crypto.randomUUID()}`;
    file = await Deno.open(tmpPath, {
      write: true,
      createNew: true,
      mode: 0o644,
    });
    const hash = createHash("sha1");
    const out = new BufferedFileWriter(file, (b) => hash.update(b));
    const total = expected.sizeBytes;
    let reported = -1;
    const report = (force: boolean) => {
      if (force || out.bytesWritten - reported >= 1 << 20) {
        reported = out.bytesWritten;
        options.onProgress?.({ stage: "download", done: reported, total });
      }
    };
    report(true);

    const reader = response.body.getReader();
    try {
      while (true) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await within(
            reader.read(),
            idleMs,
            `no data for ${idleMs} ms`,
          );
        } catch (error) {
          throw new ModelDownloadError(
            `${what}: ${reasonOf(error)} after ${out.bytesWritten} bytes`,
            { cause: error },
          );
        }
        if (chunk.done) break;
        if (out.bytesWritten + chunk.value.length > total) {
          throw new ModelIntegrityError(
            `${what}: server sent more than the expected ${total} bytes`,
          );
        }
        await out.write(chunk.value);
        report(false);
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    await out.flush();
    await file.sync();
    file.close();
    file = undefined;
    report(out.bytesWritten !== reported);

    if (out.bytesWritten !== total) {
      throw new ModelIntegrityError(
        `${what}: truncated: got ${out.bytesWritten} bytes, expected ${total}`,
      );
    }
    const sha1 = hash.digest("hex");
    if (sha1 !== expected.sha1) {
      throw new ModelIntegrityError(
        `${what}: checksum mismatch: sha1 ${sha1}, expected ${expected.sha1}`,
      );
    }
    await verifyModelFile(
      tmpPath,
      { sizeBytes: total, shape: expected.shape, ftype: expected.ftype },
      { checksum: false },
    );

    // Drop a stale sidecar first so no reader pairs it with the new file.
    await Deno.remove(sidecarPath(path)).catch(() => {});
    await Deno.rename(tmpPath, path);
    tmpPath = undefined;
    const sidecar = await writeSidecar(path, {
      name,
      sizeBytes: total,
      sha1,
      source: "download",
    });
    return { name, path, sizeBytes: total, sha1, sidecar };
  } finally {
    file?.close();
    if (tmpPath) await Deno.remove(tmpPath).catch(() => {});
  }
}
