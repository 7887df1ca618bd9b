/**
 * Walks a whole whisper ggml file: header, mel filters, vocabulary and every
 * tensor record, checking that the records end exactly at the end of the file.
 * Reads only the small headers (it seeks over tensor data), so it is quick
 * even on large models.
 */
import { ModelIntegrityError } from "../../errors/mod.ts";
import { EndOfFileError, FileCursor } from "./_file_cursor.ts";
import {
  GGML_HEADER_BYTES,
  type GgmlHparams,
  parseGgmlHeader,
} from "./header.ts";

/** ggml tensor type ids used in whisper files. */
export const GgmlType = {
  f32: 0,
  f16: 1,
  q4_0: 2,
  q4_1: 3,
  q5_0: 6,
  q5_1: 7,
  q8_0: 8,
} as const;

// [elements per block, bytes per block]
const TYPE_BLOCKS: Record<number, readonly [number, number]> = {
  0: [1, 4],
  1: [1, 2],
  2: [32, 18],
  3: [32, 20],
  6: [32, 22],
  7: [32, 24],
  8: [32, 34],
};

/** One tensor record. */
export interface GgmlTensorInfo {
  name: string;
  /** ggml order: `dims[0]` is the fastest-varying (row-major shape reversed). */
  dims: number[];
  /** ggml type id (see {@linkcode GgmlType}). */
  type: number;
  /** File offset of the tensor data. */
  dataOffset: number;
  /** Bytes of tensor data. */
  dataBytes: number;
}

/** Everything in a ggml whisper file except the tensor data. */
export interface GgmlLayout {
  hparams: GgmlHparams;
  /** Mel filter table shape: rows (n_mel) and columns (n_fft/2+1). */
  mel: { rows: number; cols: number; offset: number };
  /** Vocabulary tokens in id order, as raw bytes. */
  vocab: Uint8Array[];
  tensors: GgmlTensorInfo[];
  fileSize: number;
}

/** Bytes of data of a tensor of `type` with `elements` elements. */
export function ggmlTensorBytes(type: number, elements: number): number {
  const block = TYPE_BLOCKS[type];
  if (!block) throw new RangeError(`unknown ggml tensor type ${type}`);
  return Math.ceil(elements / block[0]) * block[1];
}

/**
 * Parses the layout of the ggml file at `path`.
 * @throws {ModelIntegrityError} when the file is missing, truncated or
 *   malformed
 */
export async function readGgmlLayout(path: string): Promise<GgmlLayout> {
  let cursor: FileCursor;
  try {
    cursor = await FileCursor.open(path);
  } catch (error) {
    throw new ModelIntegrityError(
      error instanceof Deno.errors.NotFound
        ? `${path}: missing`
        : `${path}: cannot open: ${error}`,
      { cause: error },
    );
  }
  const fail = (what: string): never => {
    throw new ModelIntegrityError(`${path}: ${what}`);
  };
  try {
    const hparams = parseGgmlHeader(
      cursor.size >= GGML_HEADER_BYTES
        ? await cursor.bytes(GGML_HEADER_BYTES)
        : new Uint8Array(cursor.size),
      path,
    );
    const rows = await cursor.i32();
    const cols = await cursor.i32();
    if (rows !== hparams.nMels || cols < 1 || cols > 4096) {
      fail(
        `bad mel filter table ${rows}×${cols}, expected ${hparams.nMels} rows`,
      );
    }
    const mel = { rows, cols, offset: cursor.position };
    cursor.skip(rows * cols * 4);

    const count = await cursor.i32();
    if (count < 0 || count > hparams.nVocab) {
      fail(`bad vocabulary size ${count} (n_vocab is ${hparams.nVocab})`);
    }
    const vocab: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const len = await cursor.u32();
      if (len > 1024) fail(`vocabulary token ${i} is ${len} bytes long`);
      vocab.push(await cursor.bytes(len, true));
    }

    const tensors: GgmlTensorInfo[] = [];
    const names = new Set<string>();
    while (cursor.remaining > 0) {
      const nDims = await cursor.i32();
      const nameLen = await cursor.i32();
      const type = await cursor.i32();
      if (nDims < 1 || nDims > 4) {
        fail(`tensor #${tensors.length}: n_dims ${nDims}`);
      }
      if (nameLen < 1 || nameLen > 256) {
        fail(`tensor #${tensors.length}: name length ${nameLen}`);
      }
      if (!(type in TYPE_BLOCKS)) {
        fail(`tensor #${tensors.length}: type ${type}`);
      }
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(await cursor.i32());
      if (dims.some((d) => d < 1)) {
        fail(`tensor #${tensors.length}: bad dims [${dims.join(", ")}]`);
      }
      const name = new TextDecoder().decode(await cursor.bytes(nameLen));
      if (names.has(name)) fail(`tensor ${name} appears twice`);
      names.add(name);
      const dataBytes = ggmlTensorBytes(type, dims.reduce((a, b) => a * b, 1));
      tensors.push({
        name,
        dims,
        type,
        dataOffset: cursor.position,
        dataBytes,
      });
      if (dataBytes > cursor.remaining) {
        fail(
          `truncated: tensor ${name} needs ${dataBytes} bytes at offset ${cursor.position}, file has ${cursor.size} bytes`,
        );
      }
      cursor.skip(dataBytes);
    }
    return { hparams, mel, vocab, tensors, fileSize: cursor.size };
  } catch (error) {
    if (error instanceof EndOfFileError) {
      throw new ModelIntegrityError(
        `${path}: truncated: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    cursor.close();
  }
}
