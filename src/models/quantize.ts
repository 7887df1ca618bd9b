/**
 * Quantizes an f16 or f32 whisper.cpp ggml file into a q8_0 (or q5_1, q4_0)
 * one, the way whisper.cpp's `examples/quantize` does and its loader expects:
 *
 * - header ftype = `GGML_QNT_VERSION` (2) × 1000 + the `ggml_ftype`
 *   (q8_0: 7, so 2007); mel filters and vocabulary copied unchanged;
 * - the loader's weight-type tensors (the 2-D attention and MLP matrices and
 *   the token embedding) quantized row by row with ggml's reference
 *   quantizer;
 * - the conv kernels f16, and biases, layer norms and positional embeddings
 *   f32 — converted when the source holds them in the other float type,
 *   since the loader allocates them in those types whatever the source was.
 *
 * The input is streamed (a few MiB at a time) and checked tensor by tensor
 * against what the loader will expect; the output is written to a
 * temporary file and renamed into place.
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { BufferedFileWriter } from "./ggml/_file_writer.ts";
import { FileCursor } from "./ggml/_file_cursor.ts";
import { ModelConversionError } from "./errors.ts";
import { type GgmlHparams, HPARAM_ORDER } from "./ggml/header.ts";
import {
  ggmlTensorBytes,
  type GgmlTensorInfo,
  GgmlType,
  readGgmlLayout,
} from "./ggml/layout.ts";
import {
  isQuantType,
  QUANT_FORMATS,
  quantize,
  type QuantType,
} from "./ggml/quants.ts";
import type { ProgressCallback } from "./progress.ts";
import {
  dimsMatch,
  GGML_QNT_VERSION_FACTOR,
  tensorTypeFor,
  type WhisperTensorRole,
  whisperTensorSpecs,
} from "./ggml/whisper_tensors.ts";

/** ggml's `GGML_QNT_VERSION` in the bundled whisper.cpp. */
export const GGML_QNT_VERSION = 2;

/** Options of {@linkcode quantizeGgml}. */
export interface QuantizeOptions {
  /** Weight type of the output. */
  type: QuantType;
  /** Called as the output grows (stage `quantize`). */
  onProgress?: ProgressCallback;
}

/** What {@linkcode quantizeGgml} read and wrote. */
export interface QuantizeResult {
  path: string;
  type: QuantType;
  sizeBytes: number;
  /** SHA-1 of the written file, lowercase hex. */
  sha1: string;
  /** Header of the written file. */
  hparams: GgmlHparams;
  /** The file quantized: path, size and SHA-1 (hashed while reading). */
  source: { path: string; sizeBytes: number; sha1: string };
  /** Tensor records written. */
  tensorCount: number;
  /** Of which quantized. */
  quantizedCount: number;
}

// Bytes of source data handled at a time.
const CHUNK_BYTES = 4 * 1024 * 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface PlannedTensor {
  info: GgmlTensorInfo;
  role: WhisperTensorRole;
  outType: number;
  outBytes: number;
  /** Bytes of the tensor's header record in the source. */
  headerBytes: number;
}

const TYPE_NAMES: Record<number, string> = {
  [GgmlType.f32]: "f32",
  [GgmlType.f16]: "f16",
  [GgmlType.q4_0]: "q4_0",
  [GgmlType.q4_1]: "q4_1",
  [GgmlType.q5_0]: "q5_0",
  [GgmlType.q5_1]: "q5_1",
  [GgmlType.q8_0]: "q8_0",
};

function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

/**
 * Quantizes the f16/f32 whisper ggml file at `inPath` into `outPath`.
 * @returns the written file's size and SHA-1, and the source's
 * @throws {ModelIntegrityError} when `inPath` is missing or not a complete
 *   ggml file
 * @throws {ModelConversionError} when it is already quantized, or holds a
 *   tensor whisper.cpp would not load (unknown, misshapen, missing)
 */
export async function quantizeGgml(
  inPath: string,
  outPath: string,
  options: QuantizeOptions,
): Promise<QuantizeResult> {
  if (!isQuantType(options.type)) {
    throw new RangeError(
      `quantizeGgml: type must be one of ${
        Object.keys(QUANT_FORMATS).join(", ")
      }, got ${options.type}`,
    );
  }
  if (!LITTLE_ENDIAN) {
    throw new ModelConversionError("quantizeGgml needs a little-endian host");
  }
  const format = QUANT_FORMATS[options.type];
  const fail = (what: string): never => {
    throw new ModelConversionError(`${inPath}: ${what}`);
  };

  const layout = await readGgmlLayout(inPath);
  const inFtype = layout.hparams.ftype % GGML_QNT_VERSION_FACTOR;
  if (inFtype !== 0 && inFtype !== 1) {
    fail(
      `header ftype ${layout.hparams.ftype}: already quantized; quantize an f16 or f32 file`,
    );
  }
  const outFtype = GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR + format.ftype;
  const hparams: GgmlHparams = { ...layout.hparams, ftype: outFtype };

  // Check every record against what the loader will expect.
  const specs = new Map(
    whisperTensorSpecs(layout.hparams).map((s) => [s.name, s]),
  );
  const plan: PlannedTensor[] = [];
  for (const info of layout.tensors) {
    const spec = specs.get(info.name);
    if (!spec) fail(`unknown tensor ${info.name} (whisper.cpp rejects it)`);
    if (!dimsMatch(info.dims, spec!.dims)) {
      fail(
        `tensor ${info.name} has dims [${
          info.dims.join(", ")
        }], whisper.cpp expects [${spec!.dims.join(", ")}]`,
      );
    }
    if (info.type !== GgmlType.f32 && info.type !== GgmlType.f16) {
      fail(
        `tensor ${info.name} is ${
          typeName(info.type)
        }; only f16 and f32 tensors can be quantized`,
      );
    }
    const outType = tensorTypeFor(spec!.role, outFtype);
    const elements = info.dims.reduce((a, b) => a * b, 1);
    if (
      spec!.role === "weight" && info.dims[0]! % format.blockElements !== 0
    ) {
      fail(
        `tensor ${info.name}: rows of ${
          info.dims[0]
        } elements don't split into ${format.blockElements}-element ${options.type} blocks`,
      );
    }
    plan.push({
      info,
      role: spec!.role,
      outType,
      outBytes: ggmlTensorBytes(outType, elements),
      headerBytes: 12 + 4 * info.dims.length +
        new TextEncoder().encode(info.name).length,
    });
  }
  const present = new Set(layout.tensors.map((t) => t.name));
  const missing = [...specs.keys()].filter((n) => !present.has(n));
  if (missing.length) {
    fail(
      `${missing.length} tensor(s) whisper.cpp needs are missing: ${
        missing.slice(0, 3).join(", ")
      }${missing.length > 3 ? ", …" : ""}`,
    );
  }

  const prefixBytes = plan.length
    ? plan[0]!.info.dataOffset - plan[0]!.headerBytes
    : layout.fileSize;
  const total = plan.reduce(
    (sum, t) => sum + t.headerBytes + t.outBytes,
    prefixBytes,
  );

  await Deno.mkdir(dirname(outPath), { recursive: true });
  const tmpPath = `${outPath}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
  const outHash = createHash("sha1");
  const inHash = createHash("sha1");
  const cursor = await FileCursor.open(inPath);
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(tmpPath, {
      write: true,
      createNew: true,
      mode: 0o644,
    });
    const out = new BufferedFileWriter(file, (b) => outHash.update(b));
    const read = async (n: number): Promise<Uint8Array> => {
      const bytes = await cursor.bytes(n, true);
      inHash.update(bytes);
      return bytes;
    };
    const progress = () =>
      options.onProgress?.({
        stage: "quantize",
        done: out.bytesWritten,
        total,
      });

    // Header (with the new ftype), mel filters and vocabulary.
    for (let done = 0; done < prefixBytes;) {
      const n = Math.min(CHUNK_BYTES, prefixBytes - done);
      const bytes = await read(n);
      if (done === 0) {
        new DataView(bytes.buffer, bytes.byteOffset, bytes.length).setInt32(
          4 + 4 * HPARAM_ORDER.indexOf("ftype"),
          outFtype,
          true,
        );
      }
      await out.write(bytes);
      done += n;
    }
    progress();

    let quantizedCount = 0;
    for (const t of plan) {
      const header = await read(t.headerBytes);
      new DataView(header.buffer, header.byteOffset, header.length).setInt32(
        8,
        t.outType,
        true,
      );
      await out.write(header);
      if (t.outType !== t.info.type && t.role === "weight") quantizedCount++;
      await copyTensorData(t, read, (b) => out.write(b), options.type);
      progress();
    }
    if (cursor.remaining !== 0) {
      fail(`internal error: ${cursor.remaining} bytes left unread`);
    }
    await out.flush();
    if (out.bytesWritten !== total) {
      fail(`internal error: wrote ${out.bytesWritten} bytes, planned ${total}`);
    }
    await file.sync();
    file.close();
    file = undefined;
    await Deno.rename(tmpPath, outPath);
    return {
      path: outPath,
      type: options.type,
      sizeBytes: total,
      sha1: outHash.digest("hex"),
      hparams,
      source: {
        path: inPath,
        sizeBytes: layout.fileSize,
        sha1: inHash.digest("hex"),
      },
      tensorCount: plan.length,
      quantizedCount,
    };
  } catch (error) {
    file?.close();
    await Deno.remove(tmpPath).catch(() => {});
    throw error;
  } finally {
    cursor.close();
  }
}

/** Reads one tensor's data in chunks of whole rows and writes it as `t.outType`. */
async function copyTensorData(
  t: PlannedTensor,
  read: (n: number) => Promise<Uint8Array>,
  write: (bytes: Uint8Array) => Promise<void>,
  quantType: QuantType,
): Promise<void> {
  const inType = t.info.type;
  const inSize = inType === GgmlType.f16 ? 2 : 4;
  const rowElements = t.info.dims[0]!;
  const rows = t.info.dims.slice(1).reduce((a, b) => a * b, 1);
  const rowsPerChunk = Math.max(
    1,
    Math.floor(CHUNK_BYTES / (rowElements * inSize)),
  );
  for (let row = 0; row < rows; row += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - row) * rowElements;
    const bytes = await read(n * inSize);
    if (t.outType === inType) {
      await write(bytes);
      continue;
    }
    // `read` returns a fresh copy, so the offset is 0 and aligned.
    const values = inType === GgmlType.f16
      ? new Float16Array(bytes.buffer, bytes.byteOffset, n)
      : new Float32Array(bytes.buffer, bytes.byteOffset, n);
    let converted: Uint8Array;
    if (t.outType === GgmlType.f32) {
      const f = Float32Array.from(values);
      converted = new Uint8Array(f.buffer);
    } else if (t.outType === GgmlType.f16) {
      const f = Float16Array.from(values);
      converted = new Uint8Array(f.buffer);
    } else {
      converted = quantize(
        quantType,
        values instanceof Float32Array ? values : Float32Array.from(values),
      );
    }
    await write(converted);
  }
}
