/**
 * The ggml model file format as whisper.cpp reads it: the header and
 * hyperparameters (`header.ts`), the tensor layout (`layout.ts`), the tensors
 * a Whisper model must hold (`whisper_tensors.ts`), the q8_0 quantization
 * kernels (`quants.ts`), and buffered file reading and writing.
 *
 * @module
 */
export * from "./header.ts";
export * from "./layout.ts";
export * from "./quants.ts";
export * from "./whisper_tensors.ts";
