/**
 * Whisper models: the catalog of published whisper.cpp ggml files, checks
 * that an installed file is complete and the right model, downloading with
 * checksum verification, an offline path for `tiny.en` (a CTranslate2 model
 * from pip converted to ggml), a quantizer that turns an f16 ggml file into
 * q8_0 (or q5_1, q4_0) the way whisper.cpp loads it, and `ensureModel`,
 * which ties them together (a `-q8_0` model it can't download is quantized
 * from its f16 model).
 *
 * Installed models live in `modelsDir()` as `ggml-<name>.bin` with a
 * `ggml-<name>.bin.json` sidecar recording their size, SHA-1 and source.
 *
 * @module
 */
export {
  BASE_MODEL_NAMES,
  type BaseModelName,
  CATALOG,
  type CatalogEntry,
  DEFAULT_MODEL,
  findCatalogEntry,
  isModelName,
  MODEL_NAMES,
  type ModelName,
  type ModelShape,
} from "./catalog.ts";
export {
  convertCt2ToGgml,
  type ConvertOptions,
  type ConvertResult,
} from "./ct2/mod.ts";
export {
  DEFAULT_MODEL_BASE_URL,
  type DownloadedModel,
  downloadModel,
  type DownloadOptions,
  modelUrl,
} from "./download.ts";
export { ModelConversionError, ModelDownloadError } from "./errors.ts";
export {
  GGML_MAGIC,
  type GgmlHparams,
  parseGgmlHeader,
  readGgmlHeader,
} from "./ggml/header.ts";
export {
  dequantize,
  isQuantType,
  QUANT_FORMATS,
  QUANT_TYPES,
  type QuantFormat,
  quantize,
  type QuantType,
} from "./ggml/quants.ts";
export {
  type GgmlLayout,
  type GgmlTensorInfo,
  readGgmlLayout,
} from "./ggml/layout.ts";
export {
  type ImportedModel,
  importTinyEnFromPip,
  PIP_REQUIREMENT,
  type PipImportOptions,
} from "./ct2/mod.ts";
export { ensureModel, type EnsureModelOptions } from "./install.ts";
export { type MelFilterOptions, melFilters } from "./ct2/mod.ts";
export {
  listInstalledModels,
  modelFilePath,
  type ModelsDirOptions,
  requireCatalogEntry,
} from "./model_paths.ts";
export type { Progress, ProgressCallback } from "./progress.ts";
export {
  GGML_QNT_VERSION,
  quantizeGgml,
  type QuantizeOptions,
  type QuantizeResult,
} from "./quantize.ts";
export { readSidecar, type Sidecar, sidecarPath } from "./sidecar.ts";
export {
  type ExpectedModel,
  type InstalledModel,
  sha1File,
  type VerifiedModel,
  verifyInstalledModel,
  type VerifyInstalledOptions,
  verifyModelFile,
  type VerifyOptions,
} from "./verify.ts";
export {
  tensorTypeFor,
  type WhisperTensorRole,
  type WhisperTensorSpec,
  whisperTensorSpecs,
} from "./ggml/whisper_tensors.ts";
