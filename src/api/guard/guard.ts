/**
 * The connection guard: a TCP front for the API's HTTP server, which (Deno
 * 2.9's `Deno.serve`) has no time limits of its own — a client that sends
 * half a request head and then nothing keeps its connection forever. The
 * guard accepts the connections, follows each request's framing (see
 * `framing.ts`) and cuts a connection whose request head takes longer than
 * `headTimeoutMs`, whose body takes longer than `bodyTimeoutMs`, or that
 * sits idle between requests for `idleTimeoutMs`, answering 408 where no
 * response has begun. The connection to the HTTP server behind it is made
 * only once a complete head has arrived, so half-sent heads cost one socket
 * each, not three.
 *
 * The guard also tells the app when a client goes away. Deno 2.9's
 * `Deno.serve` doesn't notice a client that hangs up once the request's body
 * has been read (its `request.signal` fires only for bodiless requests), so
 * a waiting `/v1` transcription would never learn its caller left. Each
 * request head is forwarded with the header {@linkcode CONNECTION_HEADER}
 * naming its client connection, and {@linkcode Guard.clientGone} gives that
 * connection's signal, aborted when the client stops sending (hangs up or
 * half-closes: nginx's reading too) or the connection is closed.
 */
import { errorBody } from "../../errors/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { Framing, FramingError, requestBody, responseBody } from "./framing.ts";

/** Why the guard closed a connection. */
export type CutReason =
  | "head_timeout"
  | "body_timeout"
  | "idle_timeout"
  | "bad_request";

/** Options of {@linkcode startGuard}. */
export interface GuardOptions {
  hostname: string;
  port: number;
  /**
   * The HTTP server the guard forwards to: a loopback port, or a Unix
   * socket's path (cheaper: no TCP stack on the hop).
   */
  upstream: { hostname: string; port: number } | { path: string };
  /** From a request's first byte (or the connection's start) to its head's end. */
  headTimeoutMs: number;
  /** From a request head's end to its body's end. */
  bodyTimeoutMs: number;
  /** From a response's end to the next request's first byte. */
  idleTimeoutMs: number;
  /** Largest request head, bytes (431 past it). @default 65536 */
  maxHeadBytes?: number;
  log?: Logger;
}

/** What the guard has seen. */
export interface GuardStats {
  accepted: number;
  open: number;
  cut: Record<CutReason, number>;
}

/**
 * The request header the guard adds to every request head it forwards: its
 * client connection's token (the last value counts; a client's own copy
 * comes before it).
 */
export const CONNECTION_HEADER = "x-guard-connection";

/** A running guard. */
export interface Guard {
  addr: Deno.NetAddr;
  stats: GuardStats;
  /**
   * The signal of the client connection named by a {@linkcode
   * CONNECTION_HEADER} value: aborted once that client stopped sending or
   * its connection closed; undefined for a token of no open connection.
   */
  clientGone(header: string): AbortSignal | undefined;
  /** Stops accepting and closes every connection. */
  close(): void;
}

/** Listens on `hostname:port` and guards every connection. */
export function startGuard(o: GuardOptions): Guard {
  const listener = Deno.listen({ hostname: o.hostname, port: o.port });
  const stats: GuardStats = {
    accepted: 0,
    open: 0,
    cut: { head_timeout: 0, body_timeout: 0, idle_timeout: 0, bad_request: 0 },
  };
  const open = new Set<() => void>();
  const gone = new Map<string, AbortSignal>();
  // Tokens name connections of this guard only: a random prefix, a counter.
  const prefix = crypto.randomUUID().slice(0, 8);
  (async () => {
    for await (const conn of listener) {
      stats.accepted++;
      stats.open++;
      const token = `${prefix}-${stats.accepted}`;
      const signal = new AbortController();
      gone.set(token, signal.signal);
      const close = guardConnection(conn, o, stats, token, signal, () => {
        stats.open--;
        open.delete(close);
        gone.delete(token);
      });
      open.add(close);
    }
  })().catch(() => undefined); // the listener was closed
  return {
    addr: listener.addr as Deno.NetAddr,
    stats,
    clientGone: (header) =>
      gone.get(header.slice(header.lastIndexOf(",") + 1).trim()),
    close: () => {
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const close of [...open]) close();
    },
  };
}

/**
 * Read buffers start small (an idle or waiting connection holds two) and
 * grow while reads fill them (uploads, large responses), back when they
 * don't.
 */
const SMALL_READ = 2 * 1024;
const LARGE_READ = 64 * 1024;

/** A read buffer that grows under load and shrinks when idle. */
class ReadBuffer {
  #buf = new Uint8Array(SMALL_READ);

  /** Reads once from `conn`: a copy of the bytes, or null at the end. */
  async read(conn: Deno.Conn): Promise<Uint8Array | null> {
    const n = await conn.read(this.#buf);
    if (n === null) return null;
    const out = this.#buf.slice(0, n);
    if (n === this.#buf.length && n < LARGE_READ) {
      this.#buf = new Uint8Array(LARGE_READ);
    } else if (n < SMALL_READ && this.#buf.length > SMALL_READ) {
      this.#buf = new Uint8Array(SMALL_READ);
    }
    return out;
  }
}

/** Guards one client connection; returns a function that closes it. */
function guardConnection(
  client: Deno.TcpConn,
  o: GuardOptions,
  stats: GuardStats,
  token: string,
  gone: AbortController,
  onClosed: () => void,
): () => void {
  trySetNoDelay(client);
  const tag = new TextEncoder().encode(`${CONNECTION_HEADER}: ${token}\r\n`);
  let upstream: Deno.Conn | null = null;
  let connecting: Promise<Deno.Conn> | null = null;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerReason: CutReason | null = null;
  /** Methods of the requests whose responses have not ended, oldest first. */
  const methods: string[] = [];
  let responseBegun = false;
  let lastStatus = 0;

  const closeAll = () => {
    if (closed) return;
    closed = true;
    gone.abort();
    clearTimeout(timer);
    for (const c of [client, upstream]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
    onClosed();
  };
  const cut = (reason: CutReason, status?: number, message?: string) => {
    if (closed) return;
    stats.cut[reason]++;
    // Answer only where no response is under way on this connection.
    const canAnswer = status !== undefined && !responseBegun &&
      methods.length <= (reason === "head_timeout" ? 0 : 1);
    if (canAnswer) {
      const body = JSON.stringify(
        errorBody(
          reason === "bad_request" ? "bad_request" : "request_timeout",
          message!,
        ),
      );
      const text = `HTTP/1.1 ${status} ${
        status === 408
          ? "Request Timeout"
          : status === 431
          ? "Request Header Fields Too Large"
          : "Bad Request"
      }\r\ncontent-type: application/json\r\ncontent-length: ${
        new TextEncoder().encode(body).length
      }\r\nconnection: close\r\n\r\n${body}`;
      // Best effort, bounded: a client that doesn't read is cut anyway.
      const write = client.write(new TextEncoder().encode(text)).catch(() => 0);
      Promise.race([write, new Promise((r) => setTimeout(r, 1000))])
        .finally(closeAll);
    } else closeAll();
  };
  const arm = (ms: number, reason: CutReason, message: string) => {
    clearTimeout(timer);
    timerReason = reason;
    timer = setTimeout(
      // An idle connection is closed without a word (RFC 9112 §9.8).
      () => reason === "idle_timeout" ? cut(reason) : cut(reason, 408, message),
      ms,
    );
  };
  const disarm = () => {
    clearTimeout(timer);
    timerReason = null;
  };

  const headLimit = () =>
    arm(
      o.headTimeoutMs,
      "head_timeout",
      `the request head did not arrive within ${o.headTimeoutMs} ms`,
    );
  const request = new Framing({
    // The head's clock runs from the connection's start for its first
    // request (already armed), from the first byte for the next ones.
    headStart: () => {
      if (timerReason !== "head_timeout") headLimit();
    },
    head: (h) => {
      methods.push(h.method);
      const mode = requestBody(h);
      if (
        mode.kind === "none" || (mode.kind === "length" && mode.length === 0)
      ) {
        clearTimeout(timer);
      } else {
        arm(
          o.bodyTimeoutMs,
          "body_timeout",
          `the request body did not arrive within ${o.bodyTimeoutMs} ms`,
        );
      }
      return mode;
    },
    end: disarm, // the response is the server's to make
  }, o.maxHeadBytes ?? 64 * 1024);

  const response = new Framing({
    headStart: () => {
      responseBegun = true;
    },
    head: (h) => {
      lastStatus = h.status;
      return responseBody(h, methods[0] ?? "GET");
    },
    end: () => {
      if (lastStatus >= 200) methods.shift();
      responseBegun = false;
      if (methods.length === 0 && request.idle) {
        arm(o.idleTimeoutMs, "idle_timeout", "idle");
      }
    },
  }, 1024 * 1024);

  const pump = async () => {
    const buf = new ReadBuffer();
    // A head still arriving is held back: it goes upstream whole, tagged;
    // everything before it goes on at once.
    let held: Uint8Array | null = null;
    // A connection that never sends a byte is held to the head limit too.
    headLimit();
    while (!closed) {
      let chunk: Uint8Array | null;
      try {
        chunk = await buf.read(client);
      } catch {
        break;
      }
      if (chunk === null) break;
      let headEnds: number[];
      try {
        headEnds = request.push(chunk);
      } catch (error) {
        if (error instanceof FramingError) {
          cut("bad_request", error.status, error.message);
          return;
        }
        throw error;
      }
      let out: Uint8Array = held === null ? chunk : concat(held, chunk);
      if (headEnds.length > 0) {
        const shift = out.length - chunk.length;
        out = tagHeads(out, headEnds.map((e) => e + shift), tag);
      }
      const open = request.openHeadBytes;
      held = open > 0 ? out.subarray(out.length - open) : null;
      if (open > 0) out = out.subarray(0, out.length - open);
      if (out.length === 0) continue;
      if (upstream === null) {
        connecting ??= "path" in o.upstream
          ? Deno.connect({ transport: "unix", path: o.upstream.path })
          : Deno.connect(o.upstream);
        try {
          upstream = await connecting;
        } catch (error) {
          o.log?.({
            level: "error",
            msg: "guard: upstream connect failed",
            error: String(error),
          });
          closeAll();
          return;
        }
        trySetNoDelay(upstream);
        pullResponses(upstream);
      }
      if (!(await writeAll(upstream, out))) return closeAll();
    }
    // The client is done sending: the app hears it has gone; a response
    // under way may still finish (a client that only half-closed reads it).
    gone.abort();
    if (upstream !== null && methods.length > 0 && !closed) {
      try {
        await upstream.closeWrite();
      } catch {
        closeAll();
      }
    } else closeAll();
  };

  const pullResponses = (up: Deno.Conn) => {
    (async () => {
      const buf = new ReadBuffer();
      while (!closed) {
        let chunk: Uint8Array | null;
        try {
          chunk = await buf.read(up);
        } catch {
          break;
        }
        if (chunk === null) break;
        try {
          response.push(chunk);
        } catch { /* the server's framing is its own affair */ }
        if (!(await writeAll(client, chunk))) break;
      }
      response.close();
      closeAll();
    })();
  };

  pump().catch((error) => {
    o.log?.({
      level: "warn",
      msg: "guard: connection failed",
      error: String(error),
    });
    closeAll();
  });
  return closeAll;
}

/** `a` then `b`, in one array. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * `bytes` with `tag` (a header line) inserted before the final line break of
 * each head ending at `headEnds` (offsets just past that line break).
 */
export function tagHeads(
  bytes: Uint8Array,
  headEnds: readonly number[],
  tag: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(bytes.length + tag.length * headEnds.length);
  let from = 0;
  let at = 0;
  for (const end of headEnds) {
    // The head ends "\r\n\r\n" or, leniently, "\n\n": the tag goes before
    // the last line break, as the head's last header line.
    const before = end >= 2 && bytes[end - 2] === 13 ? end - 2 : end - 1;
    out.set(bytes.subarray(from, before), at);
    at += before - from;
    out.set(tag, at);
    at += tag.length;
    from = before;
  }
  out.set(bytes.subarray(from), at);
  return out;
}

/** Writes all of `bytes`; false when the connection is gone. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    let at = 0;
    while (at < bytes.length) at += await conn.write(bytes.subarray(at));
    return true;
  } catch {
    return false;
  }
}

function trySetNoDelay(conn: Deno.Conn): void {
  if (!("setNoDelay" in conn)) return; // a Unix socket
  try {
    (conn as Deno.TcpConn).setNoDelay(true);
  } catch { /* not a TCP socket */ }
}
