/**
 * Integrity checks for model files: present, complete, really ggml, the
 * expected model, and (optionally, since it reads the whole file) the
 * expected SHA-1.
 */
import { createHash } from "node:crypto";
import { ModelIntegrityError } from "../errors/mod.ts";
import type { ModelShape } from "./catalog.ts";
import {
  GGML_HEADER_BYTES,
  type GgmlHparams,
  readGgmlHeader,
} from "./ggml/header.ts";
import {
  modelFilePath,
  type ModelsDirOptions,
  requireCatalogEntry,
} from "./model_paths.ts";
import { readSidecar, type Sidecar, sidecarPath } from "./sidecar.ts";

/** What a model file is expected to be; every field is optional. */
export interface ExpectedModel {
  /** Exact size in bytes. */
  sizeBytes?: number;
  /** SHA-1, lowercase hex. */
  sha1?: string;
  /** Hyper-parameters the header must carry. */
  shape?: Partial<ModelShape>;
  /**
   * Weight `ggml_ftype` the header must carry (1 f16, 7 q8_0), compared
   * after dropping the quantization version (`ftype % 1000`) as whisper.cpp
   * does.
   */
  ftype?: number;
}

/** Options of {@linkcode verifyModelFile}. */
export interface VerifyOptions {
  /** Hash the whole file and compare SHA-1s. @default true */
  checksum?: boolean;
}

/** A file that passed verification. */
export interface VerifiedModel {
  path: string;
  sizeBytes: number;
  hparams: GgmlHparams;
  /** SHA-1 of the file when it was hashed. */
  sha1?: string;
}

/** SHA-1 of the file at `path`, streamed, lowercase hex. */
export async function sha1File(path: string): Promise<string> {
  const hash = createHash("sha1");
  const file = await Deno.open(path, { read: true });
  // The readable stream closes the file when it ends.
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

const SHAPE_FIELDS: Record<keyof ModelShape, keyof GgmlHparams> = {
  nVocab: "nVocab",
  nAudioState: "nAudioState",
  nAudioLayer: "nAudioLayer",
  nTextLayer: "nTextLayer",
};

/**
 * Verifies the ggml model file at `path`: it exists, its header is a valid
 * whisper ggml header, and it matches whatever of `expected` is given.
 * @throws {ModelIntegrityError} naming the file and the problem (missing,
 *   truncated, bad magic, wrong model, size or checksum mismatch)
 */
export async function verifyModelFile(
  path: string,
  expected: ExpectedModel = {},
  options: VerifyOptions = {},
): Promise<VerifiedModel> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (error) {
    throw new ModelIntegrityError(
      error instanceof Deno.errors.NotFound
        ? `${path}: missing`
        : `${path}: cannot stat: ${error}`,
      { cause: error },
    );
  }
  if (!stat.isFile) {
    throw new ModelIntegrityError(`${path}: not a regular file`);
  }
  const size = stat.size;
  if (size < GGML_HEADER_BYTES) {
    throw new ModelIntegrityError(
      `${path}: truncated: ${size} bytes${
        expected.sizeBytes ? `, expected ${expected.sizeBytes}` : ""
      }`,
    );
  }
  const hparams = await readGgmlHeader(path);
  if (expected.sizeBytes !== undefined && size !== expected.sizeBytes) {
    throw new ModelIntegrityError(
      size < expected.sizeBytes
        ? `${path}: truncated: ${size} bytes, expected ${expected.sizeBytes}`
        : `${path}: size mismatch: ${size} bytes, expected ${expected.sizeBytes}`,
    );
  }
  for (const [key, field] of Object.entries(SHAPE_FIELDS)) {
    const want = expected.shape?.[key as keyof ModelShape];
    if (want !== undefined && hparams[field] !== want) {
      throw new ModelIntegrityError(
        `${path}: wrong model: header has ${field}=${
          hparams[field]
        }, expected ${want}`,
      );
    }
  }
  if (
    expected.ftype !== undefined && hparams.ftype % 1000 !== expected.ftype
  ) {
    throw new ModelIntegrityError(
      `${path}: wrong weight type: header has ftype=${hparams.ftype}, expected ${expected.ftype}${
        expected.ftype === 1 ? "" : ` (or ${2000 + expected.ftype})`
      }`,
    );
  }
  if (options.checksum === false) return { path, sizeBytes: size, hparams };
  const sha1 = await sha1File(path);
  if (expected.sha1 !== undefined && sha1 !== expected.sha1.toLowerCase()) {
    throw new ModelIntegrityError(
      `${path}: checksum mismatch: sha1 ${sha1}, expected ${expected.sha1}`,
    );
  }
  return { path, sizeBytes: size, hparams, sha1 };
}

/** Options of {@linkcode verifyInstalledModel}. */
export interface VerifyInstalledOptions extends ModelsDirOptions {
  /**
   * Also hash the whole file (slower: reads every byte).
   * @default false
   */
  checksum?: boolean;
}

/** An installed model that passed verification. */
export interface InstalledModel extends VerifiedModel {
  name: string;
  sidecar: Sidecar;
}

/**
 * Verifies installed catalog model `name` against its sidecar and the
 * catalog: size, header and shape always; SHA-1 when `checksum` is set.
 * @throws {UnknownModelError} when `name` is not in the catalog
 * @throws {ModelIntegrityError} when the file or sidecar is missing or the
 *   file doesn't match
 */
export async function verifyInstalledModel(
  name: string,
  options: VerifyInstalledOptions = {},
): Promise<InstalledModel> {
  const entry = requireCatalogEntry(name, options);
  const path = modelFilePath(name, options);
  const sidecar = await readSidecar(path);
  if (!sidecar) {
    throw new ModelIntegrityError(
      `${path}: no sidecar ${
        sidecarPath(path)
      } (not installed by this service)`,
    );
  }
  if (sidecar.name !== name) {
    throw new ModelIntegrityError(
      `${sidecarPath(path)}: names model "${sidecar.name}", expected "${name}"`,
    );
  }
  if (sidecar.source === "download" && sidecar.sha1 !== entry.sha1) {
    throw new ModelIntegrityError(
      `${
        sidecarPath(path)
      }: a downloaded ${name} must have sha1 ${entry.sha1}, sidecar says ${sidecar.sha1}`,
    );
  }
  const verified = await verifyModelFile(
    path,
    {
      sizeBytes: sidecar.sizeBytes,
      sha1: sidecar.sha1,
      shape: entry.shape,
      ftype: entry.ftype,
    },
    { checksum: options.checksum ?? false },
  );
  return { ...verified, name, sidecar };
}
