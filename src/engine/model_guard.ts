/**
 * A cheap check run before the native loader ever sees a model file, so a
 * missing, empty, header-only or non-ggml file is a typed error instead of a
 * native crash. Full checksum verification lives in src/models.
 *
 * @module
 */
import { ModelIntegrityError } from "../errors/mod.ts";

/** ggml's file magic, read as a little-endian u32 ("lmgg" on disk). */
export const GGML_MAGIC = 0x67676d6c;

/**
 * Smallest file accepted: magic, hparams and the 80×201 f32 mel filterbank
 * alone take ~64 KiB, and the smallest real whisper model (tiny, q5) is
 * ~31 MB, so 1 MiB rejects stubs without rejecting any real model.
 */
export const MIN_MODEL_BYTES = 1024 * 1024;

/** What {@linkcode checkModelFile} found. */
export interface ModelFileInfo {
  /** The path checked. */
  path: string;
  /** File size in bytes. */
  size: number;
  /** Vocabulary size from the header (the int32 after the magic). */
  nVocab: number;
}

/**
 * Checks that `path` is a regular file of at least
 * {@linkcode MIN_MODEL_BYTES} starting with {@linkcode GGML_MAGIC}.
 * @throws {ModelIntegrityError} naming the path and what is wrong.
 */
export async function checkModelFile(path: string): Promise<ModelFileInfo> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (cause) {
    throw new ModelIntegrityError(`${path}: model file not found`, { cause });
  }
  if (!stat.isFile) {
    throw new ModelIntegrityError(`${path}: model path is not a regular file`);
  }
  if (stat.size < MIN_MODEL_BYTES) {
    throw new ModelIntegrityError(
      `${path}: model file is ${stat.size} bytes, expected at least ` +
        `${MIN_MODEL_BYTES} (truncated?)`,
    );
  }
  const head = new Uint8Array(8);
  const file = await Deno.open(path, { read: true });
  try {
    let got = 0;
    while (got < head.length) {
      const n = await file.read(head.subarray(got));
      if (n === null) break;
      got += n;
    }
  } finally {
    file.close();
  }
  const view = new DataView(head.buffer);
  const magic = view.getUint32(0, true);
  if (magic !== GGML_MAGIC) {
    throw new ModelIntegrityError(
      `${path}: not a ggml model (magic 0x${
        magic.toString(16).padStart(8, "0")
      }, expected 0x${GGML_MAGIC.toString(16)})`,
    );
  }
  return { path, size: stat.size, nVocab: view.getInt32(4, true) };
}
