// A buffered, seekable little-endian reader over a file, for parsing binary
// model headers without loading whole multi-hundred-megabyte files.

/** Thrown when a read runs past the end of the file. */
export class EndOfFileError extends Error {
  /** Offset the read started at. */
  readonly at: number;
  /** Bytes the read needed. */
  readonly needed: number;
  /** Size of the file. */
  readonly fileSize: number;

  constructor(at: number, needed: number, fileSize: number) {
    super(
      `needed ${needed} bytes at offset ${at} but the file ends at ${fileSize}`,
    );
    this.name = "EndOfFileError";
    this.at = at;
    this.needed = needed;
    this.fileSize = fileSize;
  }
}

const CHUNK = 64 * 1024;

/** Reads exactly `into.length` bytes at `offset` of `file`. */
export async function readExactlyAt(
  file: Deno.FsFile,
  offset: number,
  into: Uint8Array,
): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < into.length) {
    const n = await file.read(into.subarray(done));
    if (n === null) {
      throw new EndOfFileError(offset, into.length, offset + done);
    }
    done += n;
  }
}

/** Sequential reader with a read-ahead buffer; `close()` is safe twice. */
export class FileCursor {
  readonly #file: Deno.FsFile;
  readonly #size: number;
  #buf = new Uint8Array(0);
  #bufStart = 0;
  #pos = 0;
  #closed = false;

  private constructor(file: Deno.FsFile, size: number) {
    this.#file = file;
    this.#size = size;
  }

  /** Opens `path` for reading. */
  static async open(path: string): Promise<FileCursor> {
    const file = await Deno.open(path, { read: true });
    try {
      const { size } = await file.stat();
      return new FileCursor(file, size);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Size of the file in bytes. */
  get size(): number {
    return this.#size;
  }

  /** Offset of the next read. */
  get position(): number {
    return this.#pos;
  }

  /** Bytes left after the current position. */
  get remaining(): number {
    return this.#size - this.#pos;
  }

  /**
   * The next `n` bytes. The returned view is only valid until the next read
   * unless `copy` is set.
   */
  async bytes(n: number, copy = false): Promise<Uint8Array> {
    if (n < 0 || this.#pos + n > this.#size) {
      throw new EndOfFileError(this.#pos, n, this.#size);
    }
    const at = this.#pos - this.#bufStart;
    if (at >= 0 && at + n <= this.#buf.length) {
      this.#pos += n;
      const view = this.#buf.subarray(at, at + n);
      return copy ? view.slice() : view;
    }
    if (n > CHUNK) {
      const out = new Uint8Array(n);
      await readExactlyAt(this.#file, this.#pos, out);
      this.#pos += n;
      return out;
    }
    const len = Math.min(CHUNK, this.#size - this.#pos);
    const buf = new Uint8Array(len);
    await readExactlyAt(this.#file, this.#pos, buf);
    this.#buf = buf;
    this.#bufStart = this.#pos;
    this.#pos += n;
    return copy ? buf.slice(0, n) : buf.subarray(0, n);
  }

  /** Moves the position forward by `n` bytes without reading them. */
  skip(n: number): void {
    if (n < 0 || this.#pos + n > this.#size) {
      throw new EndOfFileError(this.#pos, n, this.#size);
    }
    this.#pos += n;
  }

  /** Reads `n` bytes at an absolute `offset`; the position is unchanged. */
  async readAt(offset: number, n: number): Promise<Uint8Array> {
    if (offset < 0 || n < 0 || offset + n > this.#size) {
      throw new EndOfFileError(offset, n, this.#size);
    }
    const out = new Uint8Array(n);
    await readExactlyAt(this.#file, offset, out);
    return out;
  }

  /** Unsigned 8-bit integer. */
  async u8(): Promise<number> {
    return (await this.bytes(1))[0]!;
  }

  /** Unsigned 16-bit little-endian integer. */
  async u16(): Promise<number> {
    const b = await this.bytes(2);
    return new DataView(b.buffer, b.byteOffset, 2).getUint16(0, true);
  }

  /** Unsigned 32-bit little-endian integer. */
  async u32(): Promise<number> {
    const b = await this.bytes(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  /** Signed 32-bit little-endian integer. */
  async i32(): Promise<number> {
    const b = await this.bytes(4);
    return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  }

  /** Closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}
