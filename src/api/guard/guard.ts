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

/** A running guard. */
export interface Guard {
  addr: Deno.NetAddr;
  stats: GuardStats;
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
  (async () => {
    for await (const conn of listener) {
      stats.accepted++;
      stats.open++;
      const close = guardConnection(conn, o, stats, () => {
        stats.open--;
        open.delete(close);
      });
      open.add(close);
    }
  })().catch(() => undefined); // the listener was closed
  return {
    addr: listener.addr as Deno.NetAddr,
    stats,
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
  onClosed: () => void,
): () => void {
  trySetNoDelay(client);
  let upstream: Deno.Conn | null = null;
  let connecting: Promise<Deno.Conn> | null = null;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerReason: CutReason | null = null;
  /** Methods of the requests whose responses have not ended, oldest first. */
  const methods: string[] = [];
  let responseBegun = false;
  let lastStatus = 0;
  let heads = 0;

  const closeAll = () => {
    if (closed) return;
    closed = true;
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
      heads++;
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
    let pending: Uint8Array[] = [];
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
      try {
        request.push(chunk);
      } catch (error) {
        if (error instanceof FramingError) {
          cut("bad_request", error.status, error.message);
          return;
        }
        throw error;
      }
      if (upstream === null) {
        pending.push(chunk);
        if (heads === 0) continue; // the first head is not complete yet
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
        for (const p of pending) {
          if (!(await writeAll(upstream, p))) return closeAll();
        }
        pending = [];
      } else if (!(await writeAll(upstream, chunk))) return closeAll();
    }
    // The client is done sending: let a response under way finish.
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
