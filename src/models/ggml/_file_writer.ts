// A write buffer over a file, so many small header fields cost one syscall.

const DEFAULT_CAPACITY = 1024 * 1024;

/** Writes all of `bytes` to `file`, looping over short writes. */
export async function writeAll(
  file: Deno.FsFile,
  bytes: Uint8Array,
): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/** Buffers writes to a file; call {@linkcode flush} before closing it. */
export class BufferedFileWriter {
  readonly #file: Deno.FsFile;
  readonly #buf: Uint8Array;
  #used = 0;
  #written = 0;

  readonly #observe?: (bytes: Uint8Array) => void;

  /**
   * @param observe called with every chunk in order (e.g. to hash the output)
   */
  constructor(
    file: Deno.FsFile,
    observe?: (bytes: Uint8Array) => void,
    capacity = DEFAULT_CAPACITY,
  ) {
    this.#file = file;
    this.#observe = observe;
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes accepted so far (buffered or on disk). */
  get bytesWritten(): number {
    return this.#written;
  }

  /** Appends `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    this.#written += bytes.length;
    this.#observe?.(bytes);
    if (bytes.length > this.#buf.length - this.#used) await this.flush();
    if (bytes.length >= this.#buf.length) {
      await writeAll(this.#file, bytes);
      return;
    }
    this.#buf.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /** Appends signed 32-bit little-endian integers. */
  async i32(...values: number[]): Promise<void> {
    const out = new Uint8Array(4 * values.length);
    const view = new DataView(out.buffer);
    values.forEach((v, i) => view.setInt32(4 * i, v, true));
    await this.write(out);
  }

  /** Appends unsigned 32-bit little-endian integers. */
  async u32(...values: number[]): Promise<void> {
    const out = new Uint8Array(4 * values.length);
    const view = new DataView(out.buffer);
    values.forEach((v, i) => view.setUint32(4 * i, v, true));
    await this.write(out);
  }

  /** Writes out whatever is buffered. */
  async flush(): Promise<void> {
    if (this.#used === 0) return;
    await writeAll(this.#file, this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }
}
