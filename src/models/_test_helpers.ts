// Test-only helpers: a writer for small synthetic CTranslate2 Whisper models
// and a few byte utilities. Not exported from mod.ts.
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Ct2DType } from "./ct2/ct2_model.ts";
import { encodeGgmlHeader, type GgmlHparams } from "./ggml/header.ts";
import { GgmlType } from "./ggml/layout.ts";
import { tensorTypeFor, whisperTensorSpecs } from "./ggml/whisper_tensors.ts";

/** A variable of a synthetic model: shape and values (row-major). */
export interface SynthVariable {
  shape: number[];
  values: Float64Array;
  /** Stored type; defaults to the model's dtype (scalars are int16). */
  dtype?: Ct2DType;
}

/** Options of {@linkcode syntheticWhisper}. */
export interface SynthOptions {
  d?: number;
  heads?: number;
  encoderLayers?: number;
  decoderLayers?: number;
  nMels?: number;
  audioCtx?: number;
  textCtx?: number;
  /** Element type of every tensor. @default "f16" */
  dtype?: "f16" | "f32" | "bf16" | "int8";
}

/** Lines of the synthetic vocabulary.txt (GPT-2 byte alphabet). */
export const SYNTH_VOCAB: readonly string[] = [
  "!",
  "Ġthe",
  "Ġa",
  "hello",
  "Ċ",
  "Ã©", // "é" as UTF-8 bytes c3 a9
  "ĠĠ",
  "<|endoftext|>",
  "<|startoftranscript|>",
];

/** Deterministic values that are exact in f16, bf16 and int8/64. */
function pattern(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (((seed * 31 + i * 7) % 97) - 48) / 64;
  return out;
}

/**
 * The variables of a small Whisper model in CTranslate2's naming, with fused
 * QKV (self-attention) and KV (cross-attention) projections whose key bias
 * slices are zero.
 */
export function syntheticWhisper(
  options: SynthOptions = {},
): Map<string, SynthVariable> {
  const D = options.d ?? 8;
  const nMels = options.nMels ?? 80;
  const vars = new Map<string, SynthVariable>();
  let seed = 1;
  const tensor = (name: string, shape: number[]) =>
    vars.set(name, {
      shape,
      values: pattern(shape.reduce((a, b) => a * b, 1), seed++),
    });
  const scalar = (name: string, value: number, dtype: Ct2DType = "i16") =>
    vars.set(name, { shape: [], values: Float64Array.of(value), dtype });
  const linear = (name: string, rows: number, cols: number) => {
    tensor(`${name}/weight`, [rows, cols]);
    tensor(`${name}/bias`, [rows]);
  };
  const norm = (name: string) => {
    tensor(`${name}/gamma`, [D]);
    tensor(`${name}/beta`, [D]);
  };
  const zeroSlice = (name: string, from: number, to: number) => {
    const v = vars.get(name)!;
    v.values.fill(0, from, to);
  };
  const layer = (prefix: string, cross: boolean) => {
    norm(`${prefix}/self_attention/layer_norm`);
    linear(`${prefix}/self_attention/linear_0`, 3 * D, D);
    zeroSlice(`${prefix}/self_attention/linear_0/bias`, D, 2 * D);
    linear(`${prefix}/self_attention/linear_1`, D, D);
    if (cross) {
      norm(`${prefix}/attention/layer_norm`);
      linear(`${prefix}/attention/linear_0`, D, D);
      linear(`${prefix}/attention/linear_1`, 2 * D, D);
      zeroSlice(`${prefix}/attention/linear_1/bias`, 0, D);
      linear(`${prefix}/attention/linear_2`, D, D);
    }
    norm(`${prefix}/ffn/layer_norm`);
    linear(`${prefix}/ffn/linear_0`, 4 * D, D);
    linear(`${prefix}/ffn/linear_1`, D, 4 * D);
  };

  tensor("encoder/conv1/weight", [D, nMels, 3]);
  tensor("encoder/conv1/bias", [D]);
  tensor("encoder/conv2/weight", [D, D, 3]);
  tensor("encoder/conv2/bias", [D]);
  tensor("encoder/position_encodings/encodings", [options.audioCtx ?? 6, D]);
  norm("encoder/layer_norm");
  scalar("encoder/num_heads", options.heads ?? 2);
  for (let n = 0; n < (options.encoderLayers ?? 2); n++) {
    layer(`encoder/layer_${n}`, false);
  }
  tensor("decoder/embeddings/weight", [SYNTH_VOCAB.length, D]);
  tensor("decoder/position_encodings/encodings", [options.textCtx ?? 5, D]);
  norm("decoder/layer_norm");
  scalar("decoder/num_heads", options.heads ?? 2);
  scalar("decoder/activation", 3, "i8");
  scalar("decoder/pre_norm", 1, "i8");
  scalar("decoder/alibi", 0, "i8");
  scalar("decoder/scale_embeddings", 0, "i8");
  scalar("decoder/alignment_heads", 1);
  scalar("decoder/alignment_layer", -1);
  for (let n = 0; n < (options.decoderLayers ?? 2); n++) {
    layer(`decoder/layer_${n}`, true);
  }
  if (options.dtype && options.dtype !== "f16") {
    for (const [name, v] of [...vars]) {
      if (v.dtype) continue;
      if (options.dtype === "int8") {
        if (v.shape.length === 2 && name.endsWith("/weight")) {
          v.dtype = "i8";
          // Values are k/64: store k with a per-row scale of 64.
          v.values = v.values.map((x) => x * 64);
          vars.set(`${name}_scale`, {
            shape: [v.shape[0]!],
            values: new Float64Array(v.shape[0]!).fill(64),
            dtype: "f32",
          });
        }
      } else {
        v.dtype = options.dtype;
      }
    }
  }
  return vars;
}

function encodeValues(values: Float64Array, dtype: Ct2DType): Uint8Array {
  switch (dtype) {
    case "f32":
      return new Uint8Array(Float32Array.from(values).buffer);
    case "f16":
      return new Uint8Array(Float16Array.from(values).buffer);
    case "bf16": {
      const words = new Uint32Array(Float32Array.from(values).buffer);
      return new Uint8Array(Uint16Array.from(words, (w) => w >>> 16).buffer);
    }
    case "i8":
      return new Uint8Array(Int8Array.from(values).buffer);
    case "i16":
      return new Uint8Array(Int16Array.from(values).buffer);
    case "i32":
      return new Uint8Array(Int32Array.from(values).buffer);
  }
}

const TYPE_IDS: Record<Ct2DType, number> = {
  f32: 0,
  i8: 1,
  i16: 2,
  i32: 3,
  f16: 4,
  bf16: 5,
};

/** Bytes of a variable as stored (f16 unless it says otherwise). */
export function variableBytes(v: SynthVariable): Uint8Array {
  return encodeValues(v.values, v.dtype ?? "f16");
}

/** Encodes a CTranslate2 model.bin (binary version 6). */
export function encodeCt2ModelBin(
  variables: ReadonlyMap<string, SynthVariable>,
  options: {
    specName?: string;
    specRevision?: number;
    binaryVersion?: number;
    aliases?: [string, string][];
  } = {},
): Uint8Array {
  const parts: Uint8Array[] = [];
  const u8 = (v: number) => parts.push(Uint8Array.of(v));
  const u16 = (v: number) =>
    parts.push(new Uint8Array(Uint16Array.of(v).buffer));
  const u32 = (v: number) =>
    parts.push(new Uint8Array(Uint32Array.of(v).buffer));
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    u16(b.length + 1);
    parts.push(b, Uint8Array.of(0));
  };
  u32(options.binaryVersion ?? 6);
  str(options.specName ?? "WhisperSpec");
  u32(options.specRevision ?? 3);
  const names = [...variables.keys()].sort();
  u32(names.length);
  for (const name of names) {
    const v = variables.get(name)!;
    const data = variableBytes(v);
    str(name);
    u8(v.shape.length);
    for (const d of v.shape) u32(d);
    u8(TYPE_IDS[v.dtype ?? "f16"]);
    u32(data.length);
    parts.push(data);
  }
  const aliases = options.aliases ??
    [["decoder/projection/weight", "decoder/embeddings/weight"]];
  u32(aliases.length);
  for (const [alias, target] of aliases) {
    str(alias);
    str(target);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes model.bin, config.json and vocabulary.txt of a model into `dir`. */
export async function writeCt2Dir(
  dir: string,
  variables: ReadonlyMap<string, SynthVariable>,
  options: Parameters<typeof encodeCt2ModelBin>[1] & {
    vocab?: readonly string[];
  } = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(
    join(dir, "model.bin"),
    encodeCt2ModelBin(variables, options),
  );
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({ suppress_ids: [1, 2], suppress_ids_begin: [220] }),
  );
  await Deno.writeTextFile(
    join(dir, "vocabulary.txt"),
    (options.vocab ?? SYNTH_VOCAB).join("\n") + "\n",
  );
}

/** SHA-1 of `bytes`, lowercase hex. */
export function sha1Hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

/** Bytes as a little-endian f32 array (copied, so alignment doesn't matter). */
export function asF32(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.slice().buffer);
}

/** Bytes as a little-endian f16 array (copied). */
export function asF16(bytes: Uint8Array): Float16Array {
  return new Float16Array(bytes.slice().buffer);
}

/** Options of {@linkcode syntheticGgml}. */
export interface SynthGgmlOptions {
  /** Width (a multiple of 32 so weight rows split into blocks). @default 32 */
  d?: number;
  layers?: number;
  nVocab?: number;
  /** 1 writes f16 weights and conv kernels, 0 writes everything f32. @default 1 */
  ftype?: number;
  /** Edits the tensor list before it is encoded. */
  edit?: (tensors: SynthGgmlTensor[]) => void;
}

/** One tensor of a synthetic ggml file. */
export interface SynthGgmlTensor {
  name: string;
  dims: number[];
  type: number;
  values: Float32Array;
}

/**
 * A small whisper ggml file holding every tensor whisper.cpp's loader
 * expects (f16 or f32), with deterministic values that are exact in f16 and
 * span a few orders of magnitude, and its parts.
 */
export function syntheticGgml(options: SynthGgmlOptions = {}): {
  bytes: Uint8Array;
  hparams: GgmlHparams;
  tensors: SynthGgmlTensor[];
  /** Bytes before the first tensor record (header, mel filters, vocab). */
  prefix: Uint8Array;
} {
  const d = options.d ?? 32;
  const layers = options.layers ?? 1;
  const hparams: GgmlHparams = {
    nVocab: options.nVocab ?? 40,
    nAudioCtx: 6,
    nAudioState: d,
    nAudioHead: 2,
    nAudioLayer: layers,
    nTextCtx: 5,
    nTextState: d,
    nTextHead: 2,
    nTextLayer: layers,
    nMels: 4,
    ftype: options.ftype ?? 1,
  };
  const tensors = whisperTensorSpecs(hparams).map((spec, t) => {
    const n = spec.dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      // k/64 × 2^e: exact in f16; varying per block and per tensor.
      const k = ((t * 131 + i * 37) % 193) - 96;
      const e = ((Math.floor(i / 32) + t) % 5) - 2;
      values[i] = (k / 64) * 2 ** e;
    }
    return {
      name: spec.name,
      dims: spec.dims,
      type: tensorTypeFor(spec.role, hparams.ftype),
      values,
    };
  });
  options.edit?.(tensors);

  const parts: Uint8Array[] = [encodeGgmlHeader(hparams)];
  const i32 = (...v: number[]) =>
    parts.push(new Uint8Array(Int32Array.from(v).buffer));
  i32(hparams.nMels, 3);
  parts.push(
    new Uint8Array(
      Float32Array.from({ length: hparams.nMels * 3 }, (_, i) => i / 8).buffer,
    ),
  );
  i32(hparams.nVocab);
  for (let i = 0; i < hparams.nVocab; i++) {
    const token = new TextEncoder().encode(`t${i}`);
    i32(token.length);
    parts.push(token);
  }
  const prefix = concat(parts);
  const records: Uint8Array[] = [prefix];
  for (const t of tensors) {
    const name = new TextEncoder().encode(t.name);
    records.push(
      new Uint8Array(
        Int32Array.from([t.dims.length, name.length, t.type, ...t.dims]).buffer,
      ),
      name,
      new Uint8Array(
        (t.type === GgmlType.f16
          ? Float16Array.from(t.values)
          : Float32Array.from(t.values)).buffer,
      ),
    );
  }
  return { bytes: concat(records), hparams, tensors, prefix };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The hyperparameters of tiny.en (whisper.cpp's ggml header), for fake model files. */
export const TINY_EN_HPARAMS: GgmlHparams = {
  nVocab: 51864,
  nAudioCtx: 1500,
  nAudioState: 384,
  nAudioHead: 6,
  nAudioLayer: 4,
  nTextCtx: 448,
  nTextState: 384,
  nTextHead: 6,
  nTextLayer: 4,
  nMels: 80,
  ftype: 1,
};
