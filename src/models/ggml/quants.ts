/**
 * ggml's block quantization formats, bit-for-bit as ggml's reference
 * quantizers (`quantize_row_*_ref` in `ggml-quants.c`, which
 * `ggml_quantize_chunk` uses when there is no importance matrix) write them:
 * f32 arithmetic, fp16 scales rounded to nearest even, little-endian.
 *
 * | type | ggml id | block | bytes | layout |
 * |---|---|---|---|---|
 * | q8_0 | 8 | 32 | 34 | fp16 d, 32 × int8 q; x = d·q, d = max\|x\|/127 |
 * | q5_1 | 7 | 32 | 24 | fp16 d, fp16 m, u32 high bits, 16 × 2 nibbles; x = d·q + m |
 * | q4_0 | 2 | 32 | 18 | fp16 d, 16 × 2 nibbles; x = d·(q − 8), d = −max/8 |
 */
import { GgmlType } from "./layout.ts";

/** Quantization types this module writes. */
export const QUANT_TYPES = ["q8_0", "q5_1", "q4_0"] as const;

/** A name from {@linkcode QUANT_TYPES}. */
export type QuantType = typeof QUANT_TYPES[number];

/** Facts about one quantization type. */
export interface QuantFormat {
  /** ggml tensor type id (`ggml_type`). */
  ggmlType: number;
  /** File type (`ggml_ftype`) of a file whose weights are of this type. */
  ftype: number;
  /** Elements per block. */
  blockElements: number;
  /** Bytes per block. */
  blockBytes: number;
}

/** {@linkcode QuantFormat} of every {@linkcode QuantType}. */
export const QUANT_FORMATS: Readonly<Record<QuantType, QuantFormat>> = {
  q8_0: {
    ggmlType: GgmlType.q8_0,
    ftype: 7,
    blockElements: 32,
    blockBytes: 34,
  },
  q5_1: {
    ggmlType: GgmlType.q5_1,
    ftype: 9,
    blockElements: 32,
    blockBytes: 24,
  },
  q4_0: {
    ggmlType: GgmlType.q4_0,
    ftype: 2,
    blockElements: 32,
    blockBytes: 18,
  },
};

/** True when `name` is a {@linkcode QuantType}. */
export function isQuantType(name: string): name is QuantType {
  return (QUANT_TYPES as readonly string[]).includes(name);
}

const f16Scratch = new Float16Array(1);
const f16Bits = new Uint16Array(f16Scratch.buffer);

/** IEEE binary16 bits of `x`, rounded to nearest even (ggml's `GGML_FP32_TO_FP16`). */
export function fp16Bits(x: number): number {
  f16Scratch[0] = x;
  return f16Bits[0]!;
}

/** The value of IEEE binary16 `bits`. */
export function fp16Value(bits: number): number {
  f16Bits[0] = bits;
  return f16Scratch[0]!;
}

const fround = Math.fround;

/** C's `roundf`: halfway cases away from zero. */
function roundf(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/**
 * Quantizes `x` (length a multiple of 32) into `out` (blocks × 34 bytes) as
 * `quantize_row_q8_0_ref` does.
 */
export function quantizeQ8_0(x: Float32Array, out: Uint8Array): void {
  const nb = checkSizes(x, out, QUANT_FORMATS.q8_0);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < nb; i++) {
    const base = i * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const v = Math.abs(x[base + j]!);
      if (v > amax) amax = v;
    }
    const d = fround(amax / 127);
    const id = d ? fround(1 / d) : 0;
    const o = i * 34;
    view.setUint16(o, fp16Bits(d), true);
    for (let j = 0; j < 32; j++) {
      view.setInt8(o + 2 + j, roundf(fround(x[base + j]! * id)));
    }
  }
}

/**
 * Quantizes `x` (length a multiple of 32) into `out` (blocks × 24 bytes) as
 * `quantize_row_q5_1_ref` does.
 */
export function quantizeQ5_1(x: Float32Array, out: Uint8Array): void {
  const nb = checkSizes(x, out, QUANT_FORMATS.q5_1);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < nb; i++) {
    const base = i * 32;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < 32; j++) {
      const v = x[base + j]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fround(fround(max - min) / 31);
    const id = d ? fround(1 / d) : 0;
    const o = i * 24;
    view.setUint16(o, fp16Bits(d), true);
    view.setUint16(o + 2, fp16Bits(min), true);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const x0 = fround(fround(x[base + j]! - min) * id);
      const x1 = fround(fround(x[base + 16 + j]! - min) * id);
      // (uint8_t)(x + 0.5f): truncation
      const xi0 = Math.trunc(fround(x0 + 0.5)) & 0xff;
      const xi1 = Math.trunc(fround(x1 + 0.5)) & 0xff;
      out[o + 8 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >>> 4) << j;
      qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
    }
    view.setUint32(o + 4, qh >>> 0, true);
  }
}

/**
 * Quantizes `x` (length a multiple of 32) into `out` (blocks × 18 bytes) as
 * `quantize_row_q4_0_ref` does.
 */
export function quantizeQ4_0(x: Float32Array, out: Uint8Array): void {
  const nb = checkSizes(x, out, QUANT_FORMATS.q4_0);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < nb; i++) {
    const base = i * 32;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[base + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fround(max / -8);
    const id = d ? fround(1 / d) : 0;
    const o = i * 18;
    view.setUint16(o, fp16Bits(d), true);
    for (let j = 0; j < 16; j++) {
      const x0 = fround(x[base + j]! * id);
      const x1 = fround(x[base + 16 + j]! * id);
      // MIN(15, (int8_t)(x + 8.5f)): truncation toward zero
      const xi0 = Math.min(15, Math.trunc(fround(x0 + 8.5)));
      const xi1 = Math.min(15, Math.trunc(fround(x1 + 8.5)));
      out[o + 2 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
    }
  }
}

/** Quantizes `x` to `type`, returning the block bytes. */
export function quantize(type: QuantType, x: Float32Array): Uint8Array {
  const f = QUANT_FORMATS[type];
  const out = new Uint8Array((x.length / f.blockElements) * f.blockBytes);
  QUANTIZERS[type](x, out);
  return out;
}

const QUANTIZERS: Record<
  QuantType,
  (x: Float32Array, out: Uint8Array) => void
> = { q8_0: quantizeQ8_0, q5_1: quantizeQ5_1, q4_0: quantizeQ4_0 };

/** Values of `elements` elements stored as `type` blocks in `bytes`. */
export function dequantize(
  type: QuantType,
  bytes: Uint8Array,
  elements: number,
): Float32Array {
  const f = QUANT_FORMATS[type];
  if (elements % f.blockElements !== 0) {
    throw new RangeError(
      `dequantize: ${elements} elements is not a multiple of ${f.blockElements}`,
    );
  }
  const nb = elements / f.blockElements;
  if (bytes.length < nb * f.blockBytes) {
    throw new RangeError(
      `dequantize: ${bytes.length} bytes, ${nb} ${type} blocks need ${
        nb * f.blockBytes
      }`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const y = new Float32Array(elements);
  for (let i = 0; i < nb; i++) {
    const o = i * f.blockBytes;
    const base = i * 32;
    const d = fp16Value(view.getUint16(o, true));
    if (type === "q8_0") {
      for (let j = 0; j < 32; j++) y[base + j] = d * view.getInt8(o + 2 + j);
    } else if (type === "q4_0") {
      for (let j = 0; j < 16; j++) {
        const b = bytes[o + 2 + j]!;
        y[base + j] = ((b & 0x0f) - 8) * d;
        y[base + 16 + j] = ((b >> 4) - 8) * d;
      }
    } else {
      const m = fp16Value(view.getUint16(o + 2, true));
      const qh = view.getUint32(o + 4, true);
      for (let j = 0; j < 16; j++) {
        const b = bytes[o + 8 + j]!;
        const q0 = (b & 0x0f) | (((qh >>> j) & 1) << 4);
        const q1 = (b >> 4) | (((qh >>> (j + 16)) & 1) << 4);
        y[base + j] = q0 * d + m;
        y[base + 16 + j] = q1 * d + m;
      }
    }
  }
  return y;
}

function checkSizes(x: Float32Array, out: Uint8Array, f: QuantFormat): number {
  if (x.length % f.blockElements !== 0) {
    throw new RangeError(
      `quantize: ${x.length} values is not a multiple of ${f.blockElements}`,
    );
  }
  const nb = x.length / f.blockElements;
  if (out.length < nb * f.blockBytes) {
    throw new RangeError(
      `quantize: output has ${out.length} bytes, ${nb} blocks need ${
        nb * f.blockBytes
      }`,
    );
  }
  return nb;
}
