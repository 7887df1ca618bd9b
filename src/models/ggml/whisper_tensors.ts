/**
 * The tensors whisper.cpp's loader (`whisper_model_load` in the bundled
 * smart-whisper 0.8.1 copy) creates for given hyper-parameters: each name,
 * its ggml dims and the type the loader allocates it in. A file must hold
 * exactly these tensors, each of that shape and of a type of the same byte
 * size, or the loader rejects it.
 */
import type { GgmlHparams } from "./header.ts";
import { GgmlType } from "./layout.ts";

/**
 * Which type the loader gives a tensor:
 * - `weight`: the file's weight type, `ggml_ftype_to_ggml_type(ftype)` (the
 *   2-D matrices of attention and MLP, and the token embedding);
 * - `conv`: f32 in an all-f32 file, f16 otherwise (the two conv kernels);
 * - `f32`: always f32 (biases, layer norms, positional embeddings).
 */
export type WhisperTensorRole = "weight" | "conv" | "f32";

/** One tensor the loader expects. */
export interface WhisperTensorSpec {
  name: string;
  /** ggml order (`dims[0]` fastest-varying), as many as the loader gives. */
  dims: number[];
  role: WhisperTensorRole;
}

/** ggml type id of every {@linkcode WhisperTensorRole} for file `ftype`. */
export function tensorTypeFor(
  role: WhisperTensorRole,
  ftype: number,
): number {
  const wtype = weightTypeForFtype(ftype);
  if (role === "weight") return wtype;
  if (role === "conv") {
    return wtype === GgmlType.f32 ? GgmlType.f32 : GgmlType.f16;
  }
  return GgmlType.f32;
}

// ggml_ftype → ggml_type, for the ftypes a whisper file can carry here.
const FTYPE_TO_TYPE: Record<number, number> = {
  0: GgmlType.f32, // GGML_FTYPE_ALL_F32
  1: GgmlType.f16, // GGML_FTYPE_MOSTLY_F16
  2: GgmlType.q4_0, // GGML_FTYPE_MOSTLY_Q4_0
  3: GgmlType.q4_1, // GGML_FTYPE_MOSTLY_Q4_1
  7: GgmlType.q8_0, // GGML_FTYPE_MOSTLY_Q8_0
  8: GgmlType.q5_0, // GGML_FTYPE_MOSTLY_Q5_0
  9: GgmlType.q5_1, // GGML_FTYPE_MOSTLY_Q5_1
};

/** ggml's `GGML_QNT_VERSION_FACTOR`: header ftype = version × 1000 + ftype. */
export const GGML_QNT_VERSION_FACTOR = 1000;

/**
 * The weight type whisper.cpp uses for header `ftype` (the quantization
 * version, `ftype / 1000`, is dropped first, as the loader does).
 * @throws {RangeError} for an ftype this code does not know
 */
export function weightTypeForFtype(ftype: number): number {
  const type = FTYPE_TO_TYPE[ftype % GGML_QNT_VERSION_FACTOR];
  if (type === undefined) {
    throw new RangeError(`unsupported ggml ftype ${ftype}`);
  }
  return type;
}

/**
 * Every tensor the loader creates for `hparams`, in the loader's order
 * (7 + 15 per encoder layer + 4 + 24 per decoder layer).
 */
export function whisperTensorSpecs(hparams: GgmlHparams): WhisperTensorSpec[] {
  const a = hparams.nAudioState;
  const t = hparams.nTextState;
  const out: WhisperTensorSpec[] = [];
  const add = (name: string, role: WhisperTensorRole, ...dims: number[]) =>
    out.push({ name, dims, role });

  add("encoder.positional_embedding", "f32", a, hparams.nAudioCtx);
  add("encoder.conv1.weight", "conv", 3, hparams.nMels, a);
  add("encoder.conv1.bias", "f32", 1, a);
  add("encoder.conv2.weight", "conv", 3, a, a);
  add("encoder.conv2.bias", "f32", 1, a);
  add("encoder.ln_post.weight", "f32", a);
  add("encoder.ln_post.bias", "f32", a);
  for (let i = 0; i < hparams.nAudioLayer; i++) {
    const p = `encoder.blocks.${i}.`;
    add(`${p}mlp_ln.weight`, "f32", a);
    add(`${p}mlp_ln.bias`, "f32", a);
    add(`${p}mlp.0.weight`, "weight", a, 4 * a);
    add(`${p}mlp.0.bias`, "f32", 4 * a);
    add(`${p}mlp.2.weight`, "weight", 4 * a, a);
    add(`${p}mlp.2.bias`, "f32", a);
    add(`${p}attn_ln.weight`, "f32", a);
    add(`${p}attn_ln.bias`, "f32", a);
    add(`${p}attn.query.weight`, "weight", a, a);
    add(`${p}attn.query.bias`, "f32", a);
    add(`${p}attn.key.weight`, "weight", a, a);
    add(`${p}attn.value.weight`, "weight", a, a);
    add(`${p}attn.value.bias`, "f32", a);
    add(`${p}attn.out.weight`, "weight", a, a);
    add(`${p}attn.out.bias`, "f32", a);
  }

  add("decoder.positional_embedding", "f32", t, hparams.nTextCtx);
  add("decoder.token_embedding.weight", "weight", t, hparams.nVocab);
  add("decoder.ln.weight", "f32", t);
  add("decoder.ln.bias", "f32", t);
  for (let i = 0; i < hparams.nTextLayer; i++) {
    const p = `decoder.blocks.${i}.`;
    add(`${p}mlp_ln.weight`, "f32", t);
    add(`${p}mlp_ln.bias`, "f32", t);
    add(`${p}mlp.0.weight`, "weight", t, 4 * t);
    add(`${p}mlp.0.bias`, "f32", 4 * t);
    add(`${p}mlp.2.weight`, "weight", 4 * t, t);
    add(`${p}mlp.2.bias`, "f32", t);
    add(`${p}attn_ln.weight`, "f32", t);
    add(`${p}attn_ln.bias`, "f32", t);
    add(`${p}attn.query.weight`, "weight", t, t);
    add(`${p}attn.query.bias`, "f32", t);
    add(`${p}attn.key.weight`, "weight", t, t);
    add(`${p}attn.value.weight`, "weight", t, t);
    add(`${p}attn.value.bias`, "f32", t);
    add(`${p}attn.out.weight`, "weight", t, t);
    add(`${p}attn.out.bias`, "f32", t);
    add(`${p}cross_attn_ln.weight`, "f32", t);
    add(`${p}cross_attn_ln.bias`, "f32", t);
    add(`${p}cross_attn.query.weight`, "weight", t, t);
    add(`${p}cross_attn.query.bias`, "f32", t);
    add(`${p}cross_attn.key.weight`, "weight", t, t);
    add(`${p}cross_attn.value.weight`, "weight", t, t);
    add(`${p}cross_attn.value.bias`, "f32", t);
    add(`${p}cross_attn.out.weight`, "weight", t, t);
    add(`${p}cross_attn.out.bias`, "f32", t);
  }
  return out;
}

/**
 * True when file dims `dims` match the loader's `expected` the way the
 * loader compares them (first three dims, padded with 1s, and the element
 * count).
 */
export function dimsMatch(
  dims: readonly number[],
  expected: readonly number[],
): boolean {
  const pad = (d: readonly number[]) => [...d, 1, 1, 1, 1].slice(0, 4);
  const a = pad(dims);
  const b = pad(expected);
  return a.every((v, i) => v === b[i]);
}
