import { assertEquals, assertThrows } from "../../testing/assert.ts";
import {
  type BodyMode,
  Framing,
  FramingError,
  type Head,
  parseHead,
  requestBody,
  responseBody,
} from "./framing.ts";

const enc = new TextEncoder();

/** Feeds `text` in pieces of `step` bytes; returns the event log. */
function run(
  text: string,
  step: number,
  mode: (h: Head) => BodyMode = requestBody,
): string[] {
  const log: string[] = [];
  const f = new Framing({
    headStart: () => log.push("start"),
    head: (h) => {
      log.push(`head ${h.method || h.status}`);
      return mode(h);
    },
    end: () => log.push("end"),
  });
  const bytes = enc.encode(text);
  for (let i = 0; i < bytes.length; i += step) {
    f.push(bytes.subarray(i, i + step));
  }
  log.push(f.idle ? "idle" : "busy");
  return log;
}

const CL = "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
const CHUNKED = "POST /v1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n";
const GET = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

Deno.test("Framing finds heads and bodies however the bytes are split", () => {
  for (const step of [1, 2, 3, 7, 1000]) {
    assertEquals(
      run(CL, step),
      ["start", "head POST", "end", "idle"],
      `step ${step}`,
    );
    assertEquals(
      run(CHUNKED, step),
      ["start", "head POST", "end", "idle"],
      `step ${step}`,
    );
    assertEquals(run(GET + CL + GET, step), [
      "start",
      "head GET",
      "end",
      "start",
      "head POST",
      "end",
      "start",
      "head GET",
      "end",
      "idle",
    ]);
  }
});

Deno.test("Framing: a partial head or body is not complete", () => {
  assertEquals(run("POST /jobs HTTP/1.1\r\nContent-Length: 5\r\n", 4), [
    "start",
    "busy",
  ]);
  assertEquals(run(CL.slice(0, -1), 4), ["start", "head POST", "busy"]);
  assertEquals(run(CHUNKED.slice(0, -2), 4), ["start", "head POST", "busy"]);
});

Deno.test("Framing: responses by the request's method and status", () => {
  const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  assertEquals(run(ok, 3, (h) => responseBody(h, "GET")), [
    "start",
    "head 200",
    "end",
    "idle",
  ]);
  // No body after HEAD, 204 and 1xx.
  assertEquals(
    run(
      "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
      5,
      (h) => responseBody(h, "HEAD"),
    ),
    ["start", "head 200", "end", "idle"],
  );
  assertEquals(
    run(
      "HTTP/1.1 100 Continue\r\n\r\n" + ok,
      4,
      (h) => responseBody(h, "POST"),
    ),
    ["start", "head 100", "end", "start", "head 200", "end", "idle"],
  );
  // Neither length nor chunked: the body runs until the connection closes.
  const log: string[] = [];
  const f = new Framing({
    headStart: () => log.push("start"),
    head: (h) => responseBody(h, "GET"),
    end: () => log.push("end"),
  });
  f.push(enc.encode("HTTP/1.0 200 OK\r\n\r\nsome bytes"));
  assertEquals(log, ["start"]);
  f.close();
  assertEquals(log, ["start", "end"]);
});

Deno.test("parseHead reads lengths, chunked and close", () => {
  assertEquals(
    parseHead("POST /a HTTP/1.1\r\nContent-Length: 12\r\nConnection: close"),
    {
      method: "POST",
      status: 0,
      contentLength: 12,
      chunked: false,
      close: true,
    },
  );
  assertEquals(parseHead("GET / HTTP/1.0\r\n").close, true);
  assertEquals(
    parseHead("GET / HTTP/1.0\r\nConnection: Keep-Alive").close,
    false,
  );
  assertEquals(
    parseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked").chunked,
    true,
  );
  assertEquals(parseHead("HTTP/1.1 204 No Content").status, 204);
});

Deno.test("Framing refuses malformed framing", () => {
  const bad = [
    "POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
    "NOT HTTP\r\n\r\n",
    "GET / HTTP/1.1\r\nno colon\r\n\r\n",
  ];
  for (const text of bad) {
    const e = assertThrows(() => run(text, 1000)) as FramingError;
    assertEquals(e instanceof FramingError, true, text);
    assertEquals(e.status, 400);
  }
  const big = new Framing({ headStart() {}, head: requestBody, end() {} }, 100);
  const e = assertThrows(() =>
    big.push(enc.encode("GET / HTTP/1.1\r\n" + "x".repeat(200)))
  ) as FramingError;
  assertEquals(e.status, 431);
});

Deno.test("Framing.push gives the offset just past each head that ends in the bytes", () => {
  const f = new Framing({ headStart() {}, head: requestBody, end() {} });
  const two = enc.encode(GET + CL);
  assertEquals(f.push(two), [GET.length, GET.length + CL.indexOf("hello")]);
  // A head split over three pushes ends in the third, at its own offset.
  const split = enc.encode(GET);
  assertEquals(f.openHeadBytes, 0);
  assertEquals(f.push(split.subarray(0, 10)), []);
  assertEquals(f.openHeadBytes, 10);
  assertEquals(f.push(split.subarray(10, GET.length - 1)), []);
  assertEquals(f.openHeadBytes, GET.length - 1);
  assertEquals(f.push(split.subarray(GET.length - 1)), [1]);
  assertEquals(f.openHeadBytes, 0);
  // Body bytes end no head.
  assertEquals(f.push(enc.encode(CL).subarray(0, CL.indexOf("hello"))), [
    CL.indexOf("hello"),
  ]);
  assertEquals(f.push(enc.encode("hello")), []);
});
