/**
 * The fixed 48-byte header of a whisper.cpp ggml model file: the magic
 * `0x67676d6c` ("ggml" read as a little-endian i32) and 11 i32
 * hyper-parameters, in the order whisper.cpp's loader reads them.
 */
import { ModelIntegrityError } from "../../errors/mod.ts";

/** `"ggml"` as a little-endian i32 (bytes `6c 6d 67 67`). */
export const GGML_MAGIC = 0x67676d6c;

/** Bytes in the magic plus the 11 hyper-parameters. */
export const GGML_HEADER_BYTES = 48;

/** The 11 hyper-parameters of a whisper ggml file. */
export interface GgmlHparams {
  nVocab: number;
  nAudioCtx: number;
  nAudioState: number;
  nAudioHead: number;
  nAudioLayer: number;
  nTextCtx: number;
  nTextState: number;
  nTextHead: number;
  nTextLayer: number;
  nMels: number;
  /** 0 f32, 1 f16, others quantized (plus 1000 × quantization version). */
  ftype: number;
}

/** Field order in the file. */
export const HPARAM_ORDER: readonly (keyof GgmlHparams)[] = [
  "nVocab",
  "nAudioCtx",
  "nAudioState",
  "nAudioHead",
  "nAudioLayer",
  "nTextCtx",
  "nTextState",
  "nTextHead",
  "nTextLayer",
  "nMels",
  "ftype",
];

// Generous bounds: they reject garbage, not unusual but real models.
const BOUNDS: Record<keyof GgmlHparams, readonly [number, number]> = {
  nVocab: [1, 1 << 20],
  nAudioCtx: [1, 1 << 16],
  nAudioState: [1, 1 << 15],
  nAudioHead: [1, 1024],
  nAudioLayer: [1, 256],
  nTextCtx: [1, 1 << 16],
  nTextState: [1, 1 << 15],
  nTextHead: [1, 1024],
  nTextLayer: [1, 256],
  nMels: [1, 512],
  ftype: [0, 20_999],
};

/** Encodes the magic and `hparams` into the 48-byte header. */
export function encodeGgmlHeader(hparams: GgmlHparams): Uint8Array {
  const out = new Uint8Array(GGML_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setInt32(0, GGML_MAGIC, true);
  HPARAM_ORDER.forEach((key, i) =>
    view.setInt32(4 + 4 * i, hparams[key], true)
  );
  return out;
}

/**
 * Parses and sanity-checks a header.
 * @param bytes at least the first 48 bytes of the file
 * @param label how to name the file in error messages
 * @throws {ModelIntegrityError} on a short buffer, a wrong magic or an
 *   implausible value
 */
export function parseGgmlHeader(
  bytes: Uint8Array,
  label = "model file",
): GgmlHparams {
  if (bytes.length < GGML_HEADER_BYTES) {
    throw new ModelIntegrityError(
      `${label}: truncated: ${bytes.length} bytes, a ggml header needs ${GGML_HEADER_BYTES}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, GGML_HEADER_BYTES);
  const magic = view.getUint32(0, true);
  if (magic !== GGML_MAGIC) {
    throw new ModelIntegrityError(
      `${label}: bad magic 0x${
        magic.toString(16).padStart(8, "0")
      }, expected 0x${GGML_MAGIC.toString(16)} (not a whisper.cpp ggml model)`,
    );
  }
  const hparams = {} as GgmlHparams;
  HPARAM_ORDER.forEach((key, i) => {
    const value = view.getInt32(4 + 4 * i, true);
    const [lo, hi] = BOUNDS[key];
    if (value < lo || value > hi) {
      throw new ModelIntegrityError(
        `${label}: implausible header value ${key}=${value}, expected ${lo}..${hi}`,
      );
    }
    hparams[key] = value;
  });
  for (
    const [state, head] of [["nAudioState", "nAudioHead"], [
      "nTextState",
      "nTextHead",
    ]] as const
  ) {
    if (hparams[state] % hparams[head] !== 0) {
      throw new ModelIntegrityError(
        `${label}: implausible header: ${state}=${
          hparams[state]
        } is not a multiple of ${head}=${hparams[head]}`,
      );
    }
  }
  return hparams;
}

/**
 * Reads and checks the header of the ggml file at `path`.
 * @throws {ModelIntegrityError} when the file is missing, short or not ggml
 */
export async function readGgmlHeader(path: string): Promise<GgmlHparams> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ModelIntegrityError(`${path}: missing`, { cause: error });
    }
    throw new ModelIntegrityError(`${path}: cannot open: ${error}`, {
      cause: error,
    });
  }
  try {
    const buf = new Uint8Array(GGML_HEADER_BYTES);
    let got = 0;
    while (got < buf.length) {
      const n = await file.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    return parseGgmlHeader(buf.subarray(0, got), path);
  } finally {
    file.close();
  }
}
