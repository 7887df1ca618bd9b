import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import {
  CONNECTION_HEADER,
  type Guard,
  startGuard,
  tagHeads,
} from "./guard.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The test server's answers: "/slow" late, a POST's byte count, else "hello". */
async function answer(req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname === "/slow") {
    await new Promise((r) => setTimeout(r, 800));
    return new Response("late");
  }
  if (req.method === "POST") {
    const body = new Uint8Array(await req.arrayBuffer());
    return Response.json({
      bytes: body.length,
      sum: body.reduce((a, b) => a + b, 0),
    });
  }
  return new Response("hello");
}

/**
 * An HTTP server (`handler`, default {@linkcode answer}) behind a guard with
 * short limits (`limitMs` for all three: head 300, body 400, idle 500 ms).
 */
async function withGuard(
  fn: (url: string, port: number, guard: Guard) => Promise<void>,
  o: {
    handler?: (req: Request, guard: Guard) => Promise<Response>;
    limitMs?: number;
  } = {},
) {
  const ac = new AbortController();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const ref: { guard?: Guard } = {};
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (a) => listening.resolve(a as Deno.NetAddr),
  }, (req) => o.handler ? o.handler(req, ref.guard!) : answer(req));
  const upstream = await listening.promise;
  const guard = ref.guard = startGuard({
    hostname: "127.0.0.1",
    port: 0,
    upstream: { hostname: upstream.hostname, port: upstream.port },
    headTimeoutMs: o.limitMs ?? 300,
    bodyTimeoutMs: o.limitMs ?? 400,
    idleTimeoutMs: o.limitMs ?? 500,
  });
  try {
    await fn(`http://127.0.0.1:${guard.addr.port}`, guard.addr.port, guard);
  } finally {
    guard.close();
    ac.abort();
    await server.finished;
  }
}

/** Reads everything until the peer closes (or `ms` pass); the text and when it closed. */
async function readToClose(conn: Deno.Conn, ms = 3000) {
  const t0 = performance.now();
  const buf = new Uint8Array(65536);
  let text = "";
  const deadline = setTimeout(() => conn.close(), ms);
  try {
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(deadline);
  }
  return { text, afterMs: performance.now() - t0 };
}

Deno.test("guard: requests pass through, kept alive, bodies of every framing", async () => {
  await withGuard(async (url, _port, guard) => {
    for (let i = 0; i < 5; i++) {
      assertEquals(await (await fetch(url)).text(), "hello");
    }
    const big = new Uint8Array(3_000_000).map((_, i) => i % 251);
    const sum = big.reduce((a, b) => a + b, 0);
    const r = await (await fetch(url, { method: "POST", body: big })).json();
    assertEquals(r, { bytes: big.length, sum });
    // A chunked body (a stream of unknown length).
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(big.subarray(0, 1000));
        c.enqueue(big.subarray(1000, 5000));
        c.close();
      },
    });
    const r2 = await (await fetch(url, { method: "POST", body: stream }))
      .json();
    assertEquals(r2.bytes, 5000);
    // A response slower than every limit is not cut: it's the server's turn.
    assertEquals(await (await fetch(`${url}/slow`)).text(), "late");
    assert(guard.stats.accepted >= 1);
    assertEquals(guard.stats.cut, {
      head_timeout: 0,
      body_timeout: 0,
      idle_timeout: 0,
      bad_request: 0,
    });
  });
});

Deno.test("guard: half a head, no bytes at all, or a trickling body get 408 and are closed", async () => {
  await withGuard(async (_url, port, guard) => {
    const half = await Deno.connect({ hostname: "127.0.0.1", port });
    await half.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n"));
    const a = await readToClose(half);
    assertMatch(a.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assertMatch(a.text, /"code":"request_timeout"/);
    assert(a.afterMs >= 250 && a.afterMs < 1500, `cut after ${a.afterMs} ms`);

    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    const b = await readToClose(silent);
    assertMatch(b.text, /^HTTP\/1\.1 408 /);

    const trickle = await Deno.connect({ hostname: "127.0.0.1", port });
    await trickle.write(
      enc.encode(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc",
      ),
    );
    const c = await readToClose(trickle);
    assertMatch(c.text, /^HTTP\/1\.1 408 /);
    assertMatch(c.text, /body did not arrive within 400 ms/);
    assert(c.afterMs >= 350 && c.afterMs < 1500, `cut after ${c.afterMs} ms`);
    assertEquals(guard.stats.cut.head_timeout, 2);
    assertEquals(guard.stats.cut.body_timeout, 1);
    for (let i = 0; i < 50 && guard.stats.open > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assertEquals(guard.stats.open, 0);
  });
});

Deno.test("guard: an idle kept-alive connection is closed without a word; bad framing is 400", async () => {
  await withGuard(async (_url, port, guard) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    assertMatch(
      dec.decode(buf.subarray(0, n!)),
      /^HTTP\/1\.1 200 OK[\s\S]*hello$/,
    );
    const idle = await readToClose(conn);
    assertEquals(idle.text, "");
    assert(
      idle.afterMs >= 400 && idle.afterMs < 1500,
      `closed after ${idle.afterMs} ms`,
    );
    assertEquals(guard.stats.cut.idle_timeout, 1);

    const bad = await Deno.connect({ hostname: "127.0.0.1", port });
    await bad.write(
      enc.encode("POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n"),
    );
    const r = await readToClose(bad);
    assertMatch(r.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assertEquals(guard.stats.cut.bad_request, 1);
  });
});

Deno.test("tagHeads puts the tag last in each head, before its blank line", () => {
  const tag = enc.encode("x-guard-connection: t-1\r\n");
  const two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\n" +
    "Content-Length: 2\r\n\r\nhi";
  const ends = [two.indexOf("POST"), two.indexOf("hi")];
  assertEquals(
    dec.decode(tagHeads(enc.encode(two), ends, tag)),
    "GET /a HTTP/1.1\r\nHost: x\r\nx-guard-connection: t-1\r\n\r\n" +
      "POST /b HTTP/1.1\r\nContent-Length: 2\r\n" +
      "x-guard-connection: t-1\r\n\r\nhi",
  );
  // Bare line feeds, as lenient servers take them.
  const lf = "GET / HTTP/1.1\nHost: x\n\n";
  assertEquals(
    dec.decode(tagHeads(enc.encode(lf), [lf.length], tag)),
    "GET / HTTP/1.1\nHost: x\nx-guard-connection: t-1\r\n\n",
  );
});

Deno.test("guard: every request names its client connection; the signal aborts when that client hangs up", async () => {
  // Deno.serve's own request.signal stays quiet when the client leaves after
  // its body was read: the case the guard's signal is for.
  const seen: string[] = [];
  const serverSignal: string[] = [];
  const waiting = Promise.withResolvers<AbortSignal | undefined>();
  const handler = async (req: Request, guard: Guard) => {
    const header = req.headers.get(CONNECTION_HEADER) ?? "";
    seen.push(header);
    if (new URL(req.url).pathname !== "/wait") return new Response("ok");
    await req.arrayBuffer();
    req.signal.addEventListener("abort", () => serverSignal.push("aborted"));
    waiting.resolve(guard.clientGone(header));
    await new Promise((r) => setTimeout(r, 700));
    return new Response("late");
  };
  await withGuard(async (_url, port, guard) => {
    // Two requests on one connection, a head split byte by byte, and a
    // header of the client's own that the guard's value follows.
    const conn = await Deno.connect({ port });
    const get = "GET / HTTP/1.1\r\nHost: x\r\n" +
      `${CONNECTION_HEADER}: forged\r\n\r\n`;
    for (const b of enc.encode(get)) await conn.write(new Uint8Array([b]));
    await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const buf = new Uint8Array(4096);
    let text = "";
    while ((text.match(/ok/g) ?? []).length < 2) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n));
    }
    conn.close();
    assertEquals(seen.length, 2);
    assertMatch(seen[0]!, /^forged, [0-9a-f]{8}-\d+$/);
    const token = seen[0]!.split(", ")[1]!;
    assertEquals(seen[1], token);

    // A client that posts a body, then hangs up while the server works.
    const body = new Uint8Array(33_000);
    const req = enc.encode(
      `POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const c2 = await Deno.connect({ port });
    await c2.write(req);
    for (let at = 0; at < body.length;) at += await c2.write(body.subarray(at));
    const gone = await waiting.promise;
    assert(gone !== undefined, "no signal for the waiting request");
    assertEquals(gone.aborted, false);
    assert(seen[2] !== token, "a new connection has a new token");
    const aborted = new Promise((r) => gone.addEventListener("abort", r));
    c2.close();
    await aborted;
    assertEquals(gone.aborted, true);
    assertEquals(guard.clientGone("nobody-1"), undefined);
    await new Promise((r) => setTimeout(r, 800));
    assertEquals(serverSignal, [], "Deno.serve noticed after all");
  }, { handler, limitMs: 1000 });
});

Deno.test("guard: a request goes on while the next one's head is still arriving", async () => {
  await withGuard(async (_url, port) => {
    const conn = await Deno.connect({ port });
    try {
      // A whole POST and the start of a pipelined GET in one write: the POST
      // must be answered before the GET's head is complete.
      await conn.write(
        enc.encode(
          "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HT",
        ),
      );
      const buf = new Uint8Array(4096);
      let text = "";
      while (!text.includes('"bytes":5')) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += dec.decode(buf.subarray(0, n));
      }
      assertMatch(text, /"bytes":5,"sum":532/);
      await conn.write(enc.encode("TP/1.1\r\nHost: x\r\n\r\n"));
      while (!text.includes("hello")) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += dec.decode(buf.subarray(0, n));
      }
      assertMatch(text, /\r\n\r\nhello$/);
    } finally {
      conn.close();
    }
  });
});
