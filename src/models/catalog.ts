/**
 * The whisper.cpp ggml models this service knows how to install: the files
 * published in the Hugging Face repository `ggerganov/whisper.cpp`.
 *
 * SHA-1 values are the ones whisper.cpp lists in `models/README.md`; byte
 * sizes are the published file sizes (tiny.en: 77,704,715 bytes).
 */
/** The hyper-parameters that tell one Whisper size from another. */
export interface ModelShape {
  /** Vocabulary size: 51864 for English-only, 51865 for multilingual. */
  nVocab: number;
  /** Encoder width (384 tiny, 512 base, 768 small). */
  nAudioState: number;
  /** Encoder layers (4 tiny, 6 base, 12 small). */
  nAudioLayer: number;
  /** Decoder layers (same as the encoder for these sizes). */
  nTextLayer: number;
}

/** One published ggml model. */
export interface CatalogEntry {
  /** Catalog name, e.g. `tiny.en`. */
  name: string;
  /** File name inside the models folder, `ggml-<name>.bin`. */
  file: string;
  /** Exact size of the published file, in bytes. */
  sizeBytes: number;
  /** SHA-1 of the published file, lowercase hex. */
  sha1: string;
  /** True when the model transcribes languages other than English. */
  multilingual: boolean;
  /** Shape every file installed under this name must have. */
  shape: ModelShape;
}

/** Names of every model in {@linkcode CATALOG}. */
export const MODEL_NAMES = [
  "tiny",
  "tiny.en",
  "base",
  "base.en",
  "small",
  "small.en",
] as const;

/** A name from {@linkcode MODEL_NAMES}. */
export type ModelName = typeof MODEL_NAMES[number];

/** The model used when a request names none. */
export const DEFAULT_MODEL: ModelName = "tiny.en";

function entry(
  name: ModelName,
  sizeBytes: number,
  sha1: string,
  width: number,
  layers: number,
): CatalogEntry {
  const multilingual = !name.endsWith(".en");
  return {
    name,
    file: `ggml-${name}.bin`,
    sizeBytes,
    sha1,
    multilingual,
    shape: {
      nVocab: multilingual ? 51865 : 51864,
      nAudioState: width,
      nAudioLayer: layers,
      nTextLayer: layers,
    },
  };
}

/** Every installable model, by name. */
export const CATALOG: Readonly<Record<ModelName, Readonly<CatalogEntry>>> = {
  "tiny": entry(
    "tiny",
    77_691_713,
    "bd577a113a864445d4c299885e0cb97d4ba92b5f",
    384,
    4,
  ),
  "tiny.en": entry(
    "tiny.en",
    77_704_715,
    "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
    384,
    4,
  ),
  "base": entry(
    "base",
    147_951_465,
    "465707469ff3a37a2b9b8d8f89f2f99de7299dac",
    512,
    6,
  ),
  "base.en": entry(
    "base.en",
    147_964_211,
    "137c40403d78fd54d454da0f9bd998f78703390c",
    512,
    6,
  ),
  "small": entry(
    "small",
    487_601_967,
    "55356645c2b361a969dfd0ef2c5a50d530afd8d5",
    768,
    12,
  ),
  "small.en": entry(
    "small.en",
    487_614_201,
    "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
    768,
    12,
  ),
};

/** True when `name` is a catalog model name. */
export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** The catalog entry for `name`, or `undefined` when it is not in the catalog. */
export function findCatalogEntry(
  name: string,
): Readonly<CatalogEntry> | undefined {
  return isModelName(name) ? CATALOG[name] : undefined;
}
