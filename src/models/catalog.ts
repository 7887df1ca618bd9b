/**
 * The whisper.cpp ggml models this service knows how to install: the files
 * published in the Hugging Face repository `ggerganov/whisper.cpp`, in f16
 * and quantized to q8_0.
 *
 * SHA-1 values of the f16 files are the ones whisper.cpp lists in
 * `models/README.md`; those of the q8_0 files are from the model card of the
 * Hugging Face repository (whisper.cpp's README no longer lists them). Byte
 * sizes are the published file sizes (tiny.en: 77,704,715 bytes, tiny.en-q8_0:
 * 43,550,795), as the Hugging Face API reports them.
 *
 * A q8_0 model that can't be downloaded is made locally by quantizing its
 * f16 model (`quantizeGgml`); that file differs byte-wise from the published
 * one (ours is converted from CTranslate2) but has the same size.
 */
import type { QuantType } from "./ggml/quants.ts";
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
  /**
   * The `ggml_ftype` of the weights (header ftype modulo 1000): 1 f16,
   * 7 q8_0.
   */
  ftype: number;
  /** For a quantized model: its type and the f16 model it is made from. */
  quantization?: { type: QuantType; from: BaseModelName };
}

/** Names of the f16 models, each also available quantized. */
export const BASE_MODEL_NAMES = [
  "tiny",
  "tiny.en",
  "base",
  "base.en",
  "small",
  "small.en",
] as const;

/** A name from {@linkcode BASE_MODEL_NAMES}. */
export type BaseModelName = typeof BASE_MODEL_NAMES[number];

/** Names of every model in {@linkcode CATALOG}. */
export const MODEL_NAMES = [
  ...BASE_MODEL_NAMES,
  "tiny-q8_0",
  "tiny.en-q8_0",
  "base-q8_0",
  "base.en-q8_0",
  "small-q8_0",
  "small.en-q8_0",
] as const;

/** A name from {@linkcode MODEL_NAMES}. */
export type ModelName = typeof MODEL_NAMES[number];

/** The model used when a request names none. */
export const DEFAULT_MODEL: ModelName = "tiny.en-q8_0";

const WIDTH_LAYERS: Record<string, readonly [number, number]> = {
  tiny: [384, 4],
  base: [512, 6],
  small: [768, 12],
};

function entry(
  name: ModelName,
  sizeBytes: number,
  sha1: string,
): CatalogEntry {
  const [base, quant] = name.split("-") as [BaseModelName, QuantType?];
  const multilingual = !base.endsWith(".en");
  const [width, layers] = WIDTH_LAYERS[base.replace(/\.en$/, "")]!;
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
    ftype: quant ? 7 : 1,
    ...(quant ? { quantization: { type: quant, from: base } } : {}),
  };
}

/** Every installable model, by name. */
export const CATALOG: Readonly<Record<ModelName, Readonly<CatalogEntry>>> = {
  "tiny": entry(
    "tiny",
    77_691_713,
    "bd577a113a864445d4c299885e0cb97d4ba92b5f",
  ),
  "tiny.en": entry(
    "tiny.en",
    77_704_715,
    "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
  ),
  "base": entry(
    "base",
    147_951_465,
    "465707469ff3a37a2b9b8d8f89f2f99de7299dac",
  ),
  "base.en": entry(
    "base.en",
    147_964_211,
    "137c40403d78fd54d454da0f9bd998f78703390c",
  ),
  "small": entry(
    "small",
    487_601_967,
    "55356645c2b361a969dfd0ef2c5a50d530afd8d5",
  ),
  "small.en": entry(
    "small.en",
    487_614_201,
    "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
  ),
  "tiny-q8_0": entry(
    "tiny-q8_0",
    43_537_433,
    "19e8118f6652a650569f5a949d962154e01571d9",
  ),
  "tiny.en-q8_0": entry(
    "tiny.en-q8_0",
    43_550_795,
    "802d6668e7d411123e672abe4cb6c18f12306abb",
  ),
  "base-q8_0": entry(
    "base-q8_0",
    81_768_585,
    "7bb89bb49ed6955013b166f1b6a6c04584a20fbe",
  ),
  "base.en-q8_0": entry(
    "base.en-q8_0",
    81_781_811,
    "bb1574182e9b924452bf0cd1510ac034d323e948",
  ),
  "small-q8_0": entry(
    "small-q8_0",
    264_464_607,
    "bcad8a2083f4e53d648d586b7dbc0cd673d8afad",
  ),
  "small.en-q8_0": entry(
    "small.en-q8_0",
    264_477_561,
    "9d75ff4ccfa0a8217870d7405cf8cef0a5579852",
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
