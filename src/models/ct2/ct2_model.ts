/**
 * Reader for CTranslate2's `model.bin`: a little-endian header (binary
 * version, spec name, spec revision), the variables sorted by name (name,
 * rank, dims, type id, byte count, raw row-major data) and the aliases.
 *
 * Opening the model reads only the index; variable data is read on demand,
 * so a large model never sits in memory whole.
 */
import { EndOfFileError, FileCursor } from "../ggml/_file_cursor.ts";
import { ModelConversionError } from "../errors.ts";

/** The model.bin format version this reader understands. */
export const CT2_BINARY_VERSION = 6;

/** Element types of CTranslate2 variables, by type id. */
export const CT2_DTYPES = ["f32", "i8", "i16", "i32", "f16", "bf16"] as const;

/** A CTranslate2 element type. */
export type Ct2DType = typeof CT2_DTYPES[number];

const ITEM_BYTES: Record<Ct2DType, number> = {
  f32: 4,
  i8: 1,
  i16: 2,
  i32: 4,
  f16: 2,
  bf16: 2,
};

/** One variable of the index. */
export interface Ct2Variable {
  name: string;
  /** Row-major shape; `[]` for a scalar. */
  shape: number[];
  dtype: Ct2DType;
  /** File offset of the data. */
  offset: number;
  byteLength: number;
}

/** An open CTranslate2 model file; `close()` is safe to call twice. */
export class Ct2Model {
  /** Path of model.bin. */
  readonly path: string;
  readonly binaryVersion: number;
  readonly specName: string;
  readonly specRevision: number;
  /** Variables by name. */
  readonly variables: ReadonlyMap<string, Ct2Variable>;
  /** Alias name → target variable name. */
  readonly aliases: ReadonlyMap<string, string>;
  readonly #cursor: FileCursor;

  private constructor(
    path: string,
    cursor: FileCursor,
    header: { binaryVersion: number; specName: string; specRevision: number },
    variables: Map<string, Ct2Variable>,
    aliases: Map<string, string>,
  ) {
    this.path = path;
    this.#cursor = cursor;
    this.binaryVersion = header.binaryVersion;
    this.specName = header.specName;
    this.specRevision = header.specRevision;
    this.variables = variables;
    this.aliases = aliases;
  }

  /**
   * Opens `path` and reads its index.
   * @throws {ModelConversionError} when the file is missing, truncated, of
   *   another binary version or malformed
   */
  static async open(path: string): Promise<Ct2Model> {
    let cursor: FileCursor;
    try {
      cursor = await FileCursor.open(path);
    } catch (error) {
      throw new ModelConversionError(
        error instanceof Deno.errors.NotFound
          ? `${path}: missing`
          : `${path}: cannot open: ${error}`,
        { cause: error },
      );
    }
    const fail = (what: string): never => {
      throw new ModelConversionError(`${path}: ${what}`);
    };
    try {
      const readString = async (): Promise<string> => {
        const len = await cursor.u16();
        if (len < 1) fail(`empty string at offset ${cursor.position - 2}`);
        const bytes = await cursor.bytes(len);
        if (bytes[len - 1] !== 0) {
          fail(
            `string at offset ${cursor.position - len} is not NUL-terminated`,
          );
        }
        return new TextDecoder("utf-8", { fatal: true }).decode(
          bytes.subarray(0, len - 1),
        );
      };

      const binaryVersion = await cursor.u32();
      if (binaryVersion !== CT2_BINARY_VERSION) {
        fail(
          `unsupported CTranslate2 binary version ${binaryVersion}, expected ${CT2_BINARY_VERSION}`,
        );
      }
      const specName = await readString();
      const specRevision = await cursor.u32();
      const count = await cursor.u32();
      if (count > 100_000) fail(`implausible variable count ${count}`);

      const variables = new Map<string, Ct2Variable>();
      for (let i = 0; i < count; i++) {
        const name = await readString();
        const rank = await cursor.u8();
        if (rank > 8) fail(`variable ${name}: implausible rank ${rank}`);
        const shape: number[] = [];
        for (let d = 0; d < rank; d++) shape.push(await cursor.u32());
        const typeId = await cursor.u8();
        const dtype = CT2_DTYPES[typeId];
        if (dtype === undefined) {
          fail(`variable ${name}: unknown type id ${typeId}`);
        }
        const byteLength = await cursor.u32();
        const elements = shape.reduce((a, b) => a * b, 1);
        if (byteLength !== elements * ITEM_BYTES[dtype!]) {
          fail(
            `variable ${name}: ${byteLength} bytes for shape [${
              shape.join(", ")
            }] of ${dtype}, expected ${elements * ITEM_BYTES[dtype!]}`,
          );
        }
        if (variables.has(name)) fail(`variable ${name} appears twice`);
        variables.set(name, {
          name,
          shape,
          dtype: dtype!,
          offset: cursor.position,
          byteLength,
        });
        cursor.skip(byteLength);
      }

      const aliases = new Map<string, string>();
      const aliasCount = await cursor.u32();
      if (aliasCount > 100_000) fail(`implausible alias count ${aliasCount}`);
      for (let i = 0; i < aliasCount; i++) {
        const alias = await readString();
        aliases.set(alias, await readString());
      }
      if (cursor.remaining !== 0) {
        fail(
          `${cursor.remaining} unexpected bytes after the aliases (at offset ${cursor.position})`,
        );
      }
      return new Ct2Model(
        path,
        cursor,
        { binaryVersion, specName, specRevision },
        variables,
        aliases,
      );
    } catch (error) {
      cursor.close();
      if (error instanceof EndOfFileError) {
        throw new ModelConversionError(`${path}: truncated: ${error.message}`, {
          cause: error,
        });
      }
      if (error instanceof TypeError) {
        throw new ModelConversionError(`${path}: malformed name: ${error}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * The variable called `name` (following aliases).
   * @throws {ModelConversionError} when there is none
   */
  variable(name: string): Ct2Variable {
    const v = this.variables.get(this.aliases.get(name) ?? name);
    if (!v) {
      throw new ModelConversionError(`${this.path}: missing variable ${name}`);
    }
    return v;
  }

  /** The raw bytes of variable `name`, in a fresh, aligned buffer. */
  async readBytes(name: string): Promise<Uint8Array> {
    const v = this.variable(name);
    return await this.#cursor.readAt(v.offset, v.byteLength);
  }

  /**
   * The value of the integer scalar `name`.
   * @throws {ModelConversionError} when it is not an integer scalar
   */
  async readIntScalar(name: string): Promise<number> {
    const v = this.variable(name);
    if (v.shape.length !== 0 || !["i8", "i16", "i32"].includes(v.dtype)) {
      throw new ModelConversionError(
        `${this.path}: ${name} should be an integer scalar, found ${v.dtype} [${
          v.shape.join(", ")
        }]`,
      );
    }
    const b = await this.readBytes(name);
    const view = new DataView(b.buffer);
    return v.dtype === "i8"
      ? view.getInt8(0)
      : v.dtype === "i16"
      ? view.getInt16(0, true)
      : view.getInt32(0, true);
  }

  /** Closes the file. */
  close(): void {
    this.#cursor.close();
  }
}
