/**
 * HTTP/1.1 message framing, incrementally: where each request or response
 * head ends and where its body ends (Content-Length, chunked, or until the
 * connection closes), from bytes as they arrive. It reads only what framing
 * needs (the start line and the length headers); the HTTP server behind
 * the guard parses everything else.
 */

/** What framing needs from a message head. */
export interface Head {
  /** Request method (requests only), e.g. `POST`. */
  method: string;
  /** Response status (responses only). */
  status: number;
  /** Content-Length, or null when absent. */
  contentLength: number | null;
  /** Transfer-Encoding ends in chunked. */
  chunked: boolean;
  /** The sender will close after this message (`Connection: close`, HTTP/1.0). */
  close: boolean;
}

/** Bytes that are not a well-framed HTTP/1.1 message. */
export class FramingError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = "FramingError";
  }
}

/** How a message's body is delimited. */
export type BodyMode =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "until_close" };

/** Callbacks of {@linkcode Framing}. */
export interface FramingEvents {
  /** The first byte of a new message arrived. */
  headStart(): void;
  /** Its head is complete; returns how its body is delimited. */
  head(head: Head): BodyMode;
  /** The message (head and body) is complete. */
  end(): void;
}

type State =
  | "idle"
  | "head"
  | "length"
  | "chunk_size"
  | "chunk_data"
  | "chunk_crlf"
  | "trailer"
  | "until_close";

const LF = 10;
const CR = 13;

/** One direction of one connection. */
export class Framing {
  #state: State = "idle";
  #head: Uint8Array[] = [];
  #headLen = 0;
  #newlines = 0;
  #remaining = 0;
  #line: number[] = [];

  /**
   * @param maxHead Largest head accepted, bytes (431 past it).
   */
  constructor(readonly events: FramingEvents, readonly maxHead = 64 * 1024) {}

  /** True between messages (nothing of a next one has arrived). */
  get idle(): boolean {
    return this.#state === "idle";
  }

  /** True while a head is arriving. */
  get inHead(): boolean {
    return this.#state === "head";
  }

  /** Bytes of the head still arriving (the last ones pushed), else 0. */
  get openHeadBytes(): number {
    return this.#state === "head" ? this.#headLen : 0;
  }

  /**
   * Consumes `bytes`; returns the offsets in `bytes` just past each head
   * that ended in them (the final line break's last byte + 1). Throws
   * {@linkcode FramingError} on malformed framing.
   */
  push(bytes: Uint8Array): number[] {
    const headEnds: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      switch (this.#state) {
        case "idle":
          this.events.headStart();
          this.#state = "head";
          this.#head = [];
          this.#headLen = 0;
          this.#newlines = 0;
          break;
        case "head": {
          let j = i;
          let done = false;
          for (; j < bytes.length; j++) {
            const b = bytes[j]!;
            if (b === LF) {
              if (++this.#newlines === 2) {
                done = true;
                j++;
                break;
              }
            } else if (b !== CR) this.#newlines = 0;
          }
          this.#headLen += j - i;
          if (this.#headLen > this.maxHead) {
            throw new FramingError(
              `request head over ${this.maxHead} bytes`,
              431,
            );
          }
          this.#head.push(bytes.subarray(i, j));
          i = j;
          if (done) {
            headEnds.push(j);
            this.#headDone();
          }
          break;
        }
        case "length": {
          const n = Math.min(this.#remaining, bytes.length - i);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#end();
          break;
        }
        case "chunk_size": {
          const line = this.#readLine(bytes, i);
          i = line.next;
          if (line.text === null) break;
          const size = /^([0-9a-fA-F]{1,12})\s*(;.*)?$/.exec(line.text.trim());
          if (!size) {
            throw new FramingError(
              `bad chunk size line "${line.text.slice(0, 40)}"`,
            );
          }
          this.#remaining = parseInt(size[1]!, 16);
          this.#state = this.#remaining === 0 ? "trailer" : "chunk_data";
          break;
        }
        case "chunk_data": {
          const n = Math.min(this.#remaining, bytes.length - i);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = "chunk_crlf";
          break;
        }
        case "chunk_crlf": {
          const line = this.#readLine(bytes, i);
          i = line.next;
          if (line.text === null) break;
          if (line.text !== "") {
            throw new FramingError("chunk data not followed by CRLF");
          }
          this.#state = "chunk_size";
          break;
        }
        case "trailer": {
          const line = this.#readLine(bytes, i);
          i = line.next;
          if (line.text === "") this.#end();
          break;
        }
        case "until_close":
          i = bytes.length;
          break;
      }
    }
    return headEnds;
  }

  /** The peer closed: a close-delimited body ends here. */
  close(): void {
    if (this.#state === "until_close") this.#end();
  }

  #readLine(
    bytes: Uint8Array,
    i: number,
  ): { text: string | null; next: number } {
    for (let j = i; j < bytes.length; j++) {
      const b = bytes[j]!;
      if (b === LF) {
        const text = String.fromCharCode(...this.#line).replace(/\r$/, "");
        this.#line = [];
        return { text, next: j + 1 };
      }
      this.#line.push(b);
      if (this.#line.length > 4096) {
        throw new FramingError("chunk line too long");
      }
    }
    return { text: null, next: bytes.length };
  }

  #headDone(): void {
    const all = new Uint8Array(this.#headLen);
    let at = 0;
    for (const part of this.#head) {
      all.set(part, at);
      at += part.length;
    }
    this.#head = [];
    const head = parseHead(new TextDecoder("latin1").decode(all));
    const mode = this.events.head(head);
    switch (mode.kind) {
      case "none":
        this.#end();
        break;
      case "length":
        if (mode.length === 0) this.#end();
        else {
          this.#remaining = mode.length;
          this.#state = "length";
        }
        break;
      case "chunked":
        this.#state = "chunk_size";
        break;
      case "until_close":
        this.#state = "until_close";
        break;
    }
  }

  #end(): void {
    this.#state = "idle";
    this.events.end();
  }
}

/** Reads what framing needs from a head's text. */
export function parseHead(text: string): Head {
  const lines = text.split(/\r?\n/);
  // Leading empty lines before a request line are allowed (RFC 9112 §2.2).
  while (lines.length > 0 && lines[0] === "") lines.shift();
  const start = lines[0] ?? "";
  const request = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) \S+ HTTP\/(\d)\.(\d)$/.exec(
    start,
  );
  const response = /^HTTP\/(\d)\.(\d) (\d{3})(?: .*)?$/.exec(start);
  if (!request && !response) {
    throw new FramingError(`bad start line "${start.slice(0, 60)}"`);
  }
  const http10 = request
    ? request[2] === "1" && request[3] === "0"
    : response![1] === "1" && response![2] === "0";
  let contentLength: number | null = null;
  let chunked = false;
  let connection = "";
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new FramingError(`bad header line "${line.slice(0, 60)}"`);
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      if (!/^\d{1,15}$/.test(value)) {
        throw new FramingError(`bad Content-Length "${value.slice(0, 20)}"`);
      }
      const n = Number(value);
      if (contentLength !== null && contentLength !== n) {
        throw new FramingError("conflicting Content-Length headers");
      }
      contentLength = n;
    } else if (name === "transfer-encoding") {
      chunked = /(^|,)\s*chunked\s*$/i.test(value);
    } else if (name === "connection") {
      connection += `,${value.toLowerCase()}`;
    }
  }
  const close = /(^|,)\s*close\s*(,|$)/.test(connection) ||
    (http10 && !/(^|,)\s*keep-alive\s*(,|$)/.test(connection));
  return {
    method: request ? request[1]! : "",
    status: response ? Number(response[3]) : 0,
    contentLength,
    chunked,
    close,
  };
}

/** How a request's body is delimited (RFC 9112 §6.3: no length, no body). */
export function requestBody(head: Head): BodyMode {
  if (head.chunked) return { kind: "chunked" };
  if (head.contentLength !== null) {
    return { kind: "length", length: head.contentLength };
  }
  return { kind: "none" };
}

/** How a response to `method` is delimited. */
export function responseBody(head: Head, method: string): BodyMode {
  if (
    method === "HEAD" || (head.status >= 100 && head.status < 200) ||
    head.status === 204 || head.status === 304
  ) return { kind: "none" };
  if (head.chunked) return { kind: "chunked" };
  if (head.contentLength !== null) {
    return { kind: "length", length: head.contentLength };
  }
  return { kind: "until_close" };
}
