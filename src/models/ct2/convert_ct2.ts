/**
 * Converts a CTranslate2 Whisper model folder (`model.bin`, `config.json`,
 * `vocabulary.txt`) into a whisper.cpp ggml f16 file. The facts it follows
 * are in `/work/shared/CT2_TO_GGML.md`: tensor names and types, fused
 * attention projections split by rows, zero key biases dropped, Slaney mel
 * filters computed, vocabulary decoded from GPT-2's byte alphabet.
 *
 * The output is streamed to a temporary file next to `outPath` and renamed
 * into place only when complete.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { BufferedFileWriter } from "../ggml/_file_writer.ts";
import { Ct2Model, type Ct2Variable } from "./ct2_model.ts";
import { ModelConversionError } from "../errors.ts";
import {
  encodeGgmlHeader,
  GGML_HEADER_BYTES,
  type GgmlHparams,
} from "../ggml/header.ts";
import { GgmlType } from "../ggml/layout.ts";
import { melFilters } from "./mel_filters.ts";
import type { ProgressCallback } from "../progress.ts";
import { encodeVocabulary, readConfig, readVocabulary } from "./ct2_files.ts";

/** Spec name a Whisper model.bin must carry. */
export const WHISPER_SPEC_NAME = "WhisperSpec";
/** WhisperSpec revision whose variable names this converter knows. */
export const WHISPER_SPEC_REVISION = 3;

/** Options of {@linkcode convertCt2ToGgml}. */
export interface ConvertOptions {
  /** Called after each part of the output is written (stage `convert`). */
  onProgress?: ProgressCallback;
}

/** What {@linkcode convertCt2ToGgml} wrote. */
export interface ConvertResult {
  path: string;
  sizeBytes: number;
  /** SHA-1 of the written file, lowercase hex. */
  sha1: string;
  hparams: GgmlHparams;
  /** Number of tensor records written. */
  tensorCount: number;
  /** Number of vocabulary tokens written. */
  vocabCount: number;
}

type OutType = "f16" | "f32";

interface PlannedTensor {
  /** ggml tensor name. */
  name: string;
  /** Row-major output shape (written reversed). */
  shape: number[];
  type: OutType;
  /** CTranslate2 variable to read. */
  source: string;
  /** Row-major shape the source variable must have. */
  sourceShape: number[];
  /** First row and number of rows of the source to take. */
  rows?: [number, number];
}

// Scalars CTranslate2 stores as options. The listed values are the only ones
// whisper.cpp's graph implements; `null` means "ignored, any value".
const KNOWN_SCALARS: Record<string, number | null> = {
  activation: 3, // GELU (erf)
  pre_norm: 1,
  alibi: 0,
  alibi_use_positive_positions: 0,
  scale_alibi: 0,
  scale_embeddings: 0,
  start_from_zero_embedding: 0,
  rms_norm: 0,
  rotary_dim: 0,
  parallel_residual: 0,
  shared_layer_norm: 0,
  multi_query_attention: 0,
  num_heads: null,
  alignment_heads: null,
  alignment_layer: null,
};

const ELEMENT_BYTES: Record<OutType, number> = { f16: 2, f32: 4 };

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Converts the CTranslate2 Whisper model in `ct2Dir` to a ggml f16 file at
 * `outPath`.
 * @throws {ModelConversionError} on a missing file or variable, a wrong spec,
 *   an unexpected shape, type or option, a non-zero key bias, or a
 *   vocabulary that doesn't fit the model
 */
export async function convertCt2ToGgml(
  ct2Dir: string,
  outPath: string,
  options: ConvertOptions = {},
): Promise<ConvertResult> {
  const vocabPath = join(ct2Dir, "vocabulary.txt");
  const configPath = join(ct2Dir, "config.json");
  await readConfig(configPath);
  const tokens = await readVocabulary(vocabPath);

  const model = await Ct2Model.open(join(ct2Dir, "model.bin"));
  try {
    const fail = (what: string): never => {
      throw new ModelConversionError(`${model.path}: ${what}`);
    };
    if (model.specName !== WHISPER_SPEC_NAME) {
      fail(`spec is ${model.specName}, expected ${WHISPER_SPEC_NAME}`);
    }
    if (model.specRevision !== WHISPER_SPEC_REVISION) {
      fail(
        `${WHISPER_SPEC_NAME} revision ${model.specRevision}, expected ${WHISPER_SPEC_REVISION}`,
      );
    }
    await checkScalars(model);

    const hparams = await deriveHparams(model);
    if (tokens.length !== hparams.nVocab) {
      fail(
        `${vocabPath} has ${tokens.length} tokens but the embeddings have ${hparams.nVocab} rows`,
      );
    }
    const vocab = encodeVocabulary(tokens, vocabPath);
    const plan = planTensors(hparams);
    const used = checkPlan(model, plan);
    await assertZeroBiases(model, plan);
    const unused = [...model.variables.values()].filter((v) =>
      !used.has(v.name) && !isKnownScalar(v)
    );
    if (unused.length) {
      fail(
        `unexpected variables: ${
          unused.slice(0, 5).map((v) => v.name).join(", ")
        }${unused.length > 5 ? ` and ${unused.length - 5} more` : ""}`,
      );
    }

    const mel = melFilters({ nMels: hparams.nMels });
    const melBins = mel.length / hparams.nMels;
    const melBytes = 8 + mel.byteLength;
    const tensorBytes = plan.tensors.reduce(
      (sum, t) =>
        sum + 12 + 4 * t.shape.length +
        new TextEncoder().encode(t.name).length +
        ELEMENT_BYTES[t.type] * product(t.shape),
      0,
    );
    const total = GGML_HEADER_BYTES + melBytes + vocab.bytes.length +
      tensorBytes;

    await Deno.mkdir(dirname(outPath), { recursive: true });
    const tmpPath = `${outPath}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
    const hash = createHash("sha1");
    const file = await Deno.open(tmpPath, {
      write: true,
      createNew: true,
      mode: 0o644,
    });
    let closed = false;
    try {
      const out = new BufferedFileWriter(file, (b) => hash.update(b));
      const progress = () =>
        options.onProgress?.({
          stage: "convert",
          done: out.bytesWritten,
          total,
        });

      await out.write(encodeGgmlHeader(hparams));
      await out.i32(hparams.nMels, melBins);
      await out.write(
        new Uint8Array(mel.buffer, mel.byteOffset, mel.byteLength),
      );
      await out.write(vocab.bytes);
      progress();

      for (const t of plan.tensors) {
        const nameBytes = new TextEncoder().encode(t.name);
        await out.i32(
          t.shape.length,
          nameBytes.length,
          t.type === "f16" ? GgmlType.f16 : GgmlType.f32,
          ...t.shape.toReversed(),
        );
        await out.write(nameBytes);
        await out.write(await tensorData(model, t));
        progress();
      }
      await out.flush();
      if (out.bytesWritten !== total) {
        fail(
          `internal error: wrote ${out.bytesWritten} bytes, planned ${total}`,
        );
      }
      await file.sync();
      file.close();
      closed = true;
      await Deno.rename(tmpPath, outPath);
      return {
        path: outPath,
        sizeBytes: total,
        sha1: hash.digest("hex"),
        hparams,
        tensorCount: plan.tensors.length,
        vocabCount: vocab.count,
      };
    } catch (error) {
      if (!closed) file.close();
      await Deno.remove(tmpPath).catch(() => {});
      throw error;
    }
  } finally {
    model.close();
  }
}

function isKnownScalar(v: Ct2Variable): boolean {
  const m = /^(?:encoder|decoder)\/([a-z_]+)$/.exec(v.name);
  return m !== null && m[1]! in KNOWN_SCALARS;
}

async function checkScalars(model: Ct2Model): Promise<void> {
  for (const v of model.variables.values()) {
    if (!isKnownScalar(v)) continue;
    const key = v.name.split("/")[1]!;
    const want = KNOWN_SCALARS[key];
    if (want === null || want === undefined) continue;
    const got = await model.readIntScalar(v.name);
    if (got !== want) {
      throw new ModelConversionError(
        `${model.path}: ${v.name} is ${got}, whisper.cpp supports only ${want}`,
      );
    }
  }
}

function layerCount(model: Ct2Model, stack: "encoder" | "decoder"): number {
  const re = new RegExp(`^${stack}/layer_(\\d+)/`);
  const seen = new Set<number>();
  for (const name of model.variables.keys()) {
    const m = re.exec(name);
    if (m) seen.add(Number(m[1]));
  }
  for (let i = 0; i < seen.size; i++) {
    if (!seen.has(i)) {
      throw new ModelConversionError(
        `${model.path}: ${stack} layers are not numbered 0..${
          seen.size - 1
        } (layer_${i} missing)`,
      );
    }
  }
  if (seen.size === 0) {
    throw new ModelConversionError(`${model.path}: no ${stack} layers`);
  }
  return seen.size;
}

function shapeOf(model: Ct2Model, name: string, rank: number): number[] {
  const v = model.variable(name);
  if (v.shape.length !== rank) {
    throw new ModelConversionError(
      `${model.path}: ${name} has shape [${
        v.shape.join(", ")
      }], expected rank ${rank}`,
    );
  }
  return v.shape;
}

async function deriveHparams(model: Ct2Model): Promise<GgmlHparams> {
  const [nAudioState, nMels, kernel] = shapeOf(
    model,
    "encoder/conv1/weight",
    3,
  );
  if (kernel !== 3) {
    throw new ModelConversionError(
      `${model.path}: encoder/conv1/weight kernel width ${kernel}, expected 3`,
    );
  }
  const [nAudioCtx] = shapeOf(model, "encoder/position_encodings/encodings", 2);
  const [nVocab, nTextState] = shapeOf(model, "decoder/embeddings/weight", 2);
  const [nTextCtx] = shapeOf(model, "decoder/position_encodings/encodings", 2);
  const hparams: GgmlHparams = {
    nVocab: nVocab!,
    nAudioCtx: nAudioCtx!,
    nAudioState: nAudioState!,
    nAudioHead: await model.readIntScalar("encoder/num_heads"),
    nAudioLayer: layerCount(model, "encoder"),
    nTextCtx: nTextCtx!,
    nTextState: nTextState!,
    nTextHead: await model.readIntScalar("decoder/num_heads"),
    nTextLayer: layerCount(model, "decoder"),
    nMels: nMels!,
    ftype: 1,
  };
  for (
    const [state, head] of [["nAudioState", "nAudioHead"], [
      "nTextState",
      "nTextHead",
    ]] as const
  ) {
    if (hparams[head] < 1 || hparams[state] % hparams[head] !== 0) {
      throw new ModelConversionError(
        `${model.path}: ${state}=${
          hparams[state]
        } is not divisible by ${head}=${hparams[head]}`,
      );
    }
  }
  if (nAudioState !== nTextState) {
    throw new ModelConversionError(
      `${model.path}: encoder width ${nAudioState} differs from decoder width ${nTextState}`,
    );
  }
  return hparams;
}

interface Plan {
  tensors: PlannedTensor[];
  /** Fused bias slices that must be zero because their tensor is dropped. */
  zeroBiases: { source: string; from: number; to: number }[];
}

/** The 7 + 15·n_audio_layer + 4 + 24·n_text_layer tensors whisper.cpp loads. */
function planTensors(h: GgmlHparams): Plan {
  const D = h.nAudioState;
  const tensors: PlannedTensor[] = [];
  const zeroBiases: Plan["zeroBiases"] = [];
  const add = (t: PlannedTensor) => tensors.push(t);
  /**
   * A linear layer; `fused` = [parts, index] takes rows index·D..(index+1)·D
   * of a projection that stacks `parts` of them.
   */
  const linear = (
    out: string,
    src: string,
    rows: number,
    cols: number,
    fused?: [number, number],
    withBias = true,
  ) => {
    const [parts, index] = fused ?? [1, 0];
    const slice: [number, number] | undefined = fused
      ? [index * rows, rows]
      : undefined;
    add({
      name: `${out}.weight`,
      shape: [rows, cols],
      type: "f16",
      source: `${src}/weight`,
      sourceShape: [parts * rows, cols],
      rows: slice,
    });
    if (withBias) {
      add({
        name: `${out}.bias`,
        shape: [rows],
        type: "f32",
        source: `${src}/bias`,
        sourceShape: [parts * rows],
        rows: slice,
      });
    } else {
      zeroBiases.push({
        source: `${src}/bias`,
        from: index * rows,
        to: (index + 1) * rows,
      });
    }
  };
  const simple = (
    name: string,
    shape: number[],
    type: OutType,
    source: string,
  ) => add({ name, shape, type, source, sourceShape: shape });
  const norm = (out: string, src: string) => {
    simple(`${out}.weight`, [D], "f32", `${src}/gamma`);
    simple(`${out}.bias`, [D], "f32", `${src}/beta`);
  };
  const selfAttention = (out: string, src: string) => {
    norm(`${out}.attn_ln`, `${src}/self_attention/layer_norm`);
    const qkv = `${src}/self_attention/linear_0`;
    linear(`${out}.attn.query`, qkv, D, D, [3, 0]);
    linear(`${out}.attn.key`, qkv, D, D, [3, 1], false);
    linear(`${out}.attn.value`, qkv, D, D, [3, 2]);
    linear(`${out}.attn.out`, `${src}/self_attention/linear_1`, D, D);
  };
  const mlp = (out: string, src: string) => {
    norm(`${out}.mlp_ln`, `${src}/ffn/layer_norm`);
    linear(`${out}.mlp.0`, `${src}/ffn/linear_0`, 4 * D, D);
    linear(`${out}.mlp.2`, `${src}/ffn/linear_1`, D, 4 * D);
  };
  const convBias = (name: string, source: string) =>
    add({ name, shape: [D, 1], type: "f32", source, sourceShape: [D] });

  simple(
    "encoder.positional_embedding",
    [h.nAudioCtx, D],
    "f32",
    "encoder/position_encodings/encodings",
  );
  simple(
    "encoder.conv1.weight",
    [D, h.nMels, 3],
    "f16",
    "encoder/conv1/weight",
  );
  convBias("encoder.conv1.bias", "encoder/conv1/bias");
  simple("encoder.conv2.weight", [D, D, 3], "f16", "encoder/conv2/weight");
  convBias("encoder.conv2.bias", "encoder/conv2/bias");
  for (let n = 0; n < h.nAudioLayer; n++) {
    selfAttention(`encoder.blocks.${n}`, `encoder/layer_${n}`);
    mlp(`encoder.blocks.${n}`, `encoder/layer_${n}`);
  }
  norm("encoder.ln_post", "encoder/layer_norm");

  simple(
    "decoder.positional_embedding",
    [h.nTextCtx, D],
    "f32",
    "decoder/position_encodings/encodings",
  );
  simple(
    "decoder.token_embedding.weight",
    [h.nVocab, D],
    "f16",
    "decoder/embeddings/weight",
  );
  for (let n = 0; n < h.nTextLayer; n++) {
    const out = `decoder.blocks.${n}`;
    const src = `decoder/layer_${n}`;
    selfAttention(out, src);
    norm(`${out}.cross_attn_ln`, `${src}/attention/layer_norm`);
    linear(`${out}.cross_attn.query`, `${src}/attention/linear_0`, D, D);
    const kv = `${src}/attention/linear_1`;
    linear(`${out}.cross_attn.key`, kv, D, D, [2, 0], false);
    linear(`${out}.cross_attn.value`, kv, D, D, [2, 1]);
    linear(`${out}.cross_attn.out`, `${src}/attention/linear_2`, D, D);
    mlp(out, src);
  }
  norm("decoder.ln", "decoder/layer_norm");
  return { tensors, zeroBiases };
}

/**
 * Checks every planned source exists with the expected shape and a usable
 * type; returns the names of the variables the plan consumes.
 */
function checkPlan(model: Ct2Model, plan: Plan): Set<string> {
  const used = new Set<string>();
  const consume = (name: string, shape: readonly number[]) => {
    const v = model.variable(name);
    if (
      v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])
    ) {
      throw new ModelConversionError(
        `${model.path}: ${name} has shape [${v.shape.join(", ")}], expected [${
          shape.join(", ")
        }]`,
      );
    }
    if (!["f16", "f32", "bf16", "i8"].includes(v.dtype)) {
      throw new ModelConversionError(
        `${model.path}: ${name} is ${v.dtype}, expected a floating-point or int8 tensor`,
      );
    }
    used.add(v.name);
    if (v.dtype === "i8") {
      consume(`${v.name}_scale`, [shape[0]!]);
    }
  };
  for (const t of plan.tensors) consume(t.source, t.sourceShape);
  for (const z of plan.zeroBiases) {
    consume(z.source, model.variable(z.source).shape.slice(0, 1));
  }
  return used;
}

/** Fails unless every dropped key-bias slice is exactly zero. */
async function assertZeroBiases(model: Ct2Model, plan: Plan): Promise<void> {
  for (const { source, from, to } of plan.zeroBiases) {
    const bias = await readF32(model, source);
    for (let i = from; i < to; i++) {
      if (bias[i] !== 0) {
        throw new ModelConversionError(
          `${model.path}: ${source}[${i}] = ${
            bias[i]
          }: the key bias must be all zeros (whisper.cpp has no key bias)`,
        );
      }
    }
  }
}

/** Reads `name` as f32 values (dequantising int8 with its per-row scale). */
async function readF32(model: Ct2Model, name: string): Promise<Float32Array> {
  const v = model.variable(name);
  const bytes = await model.readBytes(name);
  const n = product(v.shape);
  switch (v.dtype) {
    case "f32":
      return new Float32Array(bytes.buffer, 0, n);
    case "f16":
      return Float32Array.from(new Float16Array(bytes.buffer, 0, n));
    case "bf16": {
      const halves = new Uint16Array(bytes.buffer, 0, n);
      const words = new Uint32Array(n);
      for (let i = 0; i < n; i++) words[i] = halves[i]! << 16;
      return new Float32Array(words.buffer);
    }
    case "i8": {
      const scale = await readF32(model, `${name}_scale`);
      const rows = v.shape[0] ?? 1;
      const cols = n / rows;
      if (scale.length !== rows) {
        throw new ModelConversionError(
          `${model.path}: ${name}_scale has ${scale.length} values for ${rows} rows`,
        );
      }
      const q = new Int8Array(bytes.buffer, 0, n);
      const out = new Float32Array(n);
      for (let r = 0; r < rows; r++) {
        const s = scale[r]!;
        for (let c = 0; c < cols; c++) out[r * cols + c] = q[r * cols + c]! / s;
      }
      return out;
    }
    default:
      throw new ModelConversionError(
        `${model.path}: ${name} is ${v.dtype}, expected a floating-point tensor`,
      );
  }
}

async function tensorData(
  model: Ct2Model,
  t: PlannedTensor,
): Promise<Uint8Array> {
  const v = model.variable(t.source);
  const perRow = product(v.shape.slice(1));
  const [start, count] = t.rows ?? [0, v.shape[0] ?? 1];
  const from = start * perRow;
  const to = (start + count) * perRow;

  // Same type in and out: copy the bytes untouched.
  if (v.dtype === t.type) {
    const bytes = await model.readBytes(t.source);
    const size = ELEMENT_BYTES[t.type];
    return bytes.subarray(from * size, to * size);
  }
  const values = (await readF32(model, t.source)).subarray(from, to);
  const out = t.type === "f32"
    ? Float32Array.from(values)
    : new Float16Array(values);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
