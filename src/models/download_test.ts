import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelIntegrityError } from "../errors/mod.ts";
import { sha1Hex, TINY_EN_HPARAMS } from "./_test_helpers.ts";
import { downloadModel, modelUrl } from "./download.ts";
import { ModelDownloadError } from "./errors.ts";
import { encodeGgmlHeader } from "./ggml/header.ts";
import type { Progress } from "./progress.ts";
import { readSidecar } from "./sidecar.ts";

/** A fake ggml file: a valid header and 3 MiB of patterned bytes. */
function fakeModel(): Uint8Array<ArrayBuffer> {
  const header = encodeGgmlHeader(TINY_EN_HPARAMS);
  const out = new Uint8Array(3 * 1024 * 1024 + 123);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31) & 0xff;
  out.set(header);
  return out;
}

/** Serves `files` on an ephemeral port; 404 for anything else. */
function serve(files: Record<string, Uint8Array<ArrayBuffer>>) {
  const requests: string[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) => {
      const path = new URL(req.url).pathname;
      requests.push(path);
      const body = files[path];
      return body
        ? new Response(body, {
          headers: { "content-type": "application/octet-stream" },
        })
        : new Response("not here", { status: 404, statusText: "Not Found" });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}/models`;
  return { server, base, requests };
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("downloadModel streams, verifies and installs with a sidecar", async () => {
  const body = fakeModel();
  const sha1 = sha1Hex(body);
  const { server, base, requests } = serve({
    "/models/ggml-tiny.en.bin": body,
  });
  const dir = await Deno.makeTempDir({ prefix: "download_test_" });
  try {
    const events: Progress[] = [];
    const result = await downloadModel("tiny.en", {
      dir,
      baseUrl: base + "/",
      expected: { sizeBytes: body.length, sha1 },
      onProgress: (p) => events.push(p),
    });
    assert.deepEqual(requests, ["/models/ggml-tiny.en.bin"]);
    const path = join(dir, "ggml-tiny.en.bin");
    assert.equal(result.path, path);
    assert.equal(result.sha1, sha1);
    assert.deepEqual(await Deno.readFile(path), body);
    assert.deepEqual(await entries(dir), [
      "ggml-tiny.en.bin",
      "ggml-tiny.en.bin.json",
    ]);
    const sidecar = await readSidecar(path);
    assert.deepEqual(
      { ...sidecar, created_at: undefined },
      {
        name: "tiny.en",
        sizeBytes: body.length,
        sha1,
        source: "download",
        created_at: undefined,
      },
    );
    assert.ok(!Number.isNaN(Date.parse(sidecar!.created_at)));

    assert.deepEqual(events[0], {
      stage: "download",
      done: 0,
      total: body.length,
    });
    assert.deepEqual(events.at(-1), {
      stage: "download",
      done: body.length,
      total: body.length,
    });
    assert.ok(events.length >= 4, `only ${events.length} progress events`);
    assert.ok(events.every((e, i) => i === 0 || e.done > events[i - 1]!.done));
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
  // The port is released.
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("downloadModel rejects bad downloads and leaves nothing behind", async (t) => {
  const body = fakeModel();
  const sha1 = sha1Hex(body);
  const bad = body.slice();
  bad[1000] = bad[1000]! ^ 0xff;
  const notGgml = body.slice();
  notGgml.set(new TextEncoder().encode("<html>"));
  const { server, base } = serve({
    "/models/ggml-tiny.en.bin": bad,
    "/models/ggml-base.en.bin": notGgml,
    "/models/ggml-small.bin": body,
  });
  const dir = await Deno.makeTempDir({ prefix: "download_test_" });
  const expected = { sizeBytes: body.length, sha1 };
  try {
    await t.step("checksum mismatch", async () => {
      await assert.rejects(
        downloadModel("tiny.en", { dir, baseUrl: base, expected }),
        (e: unknown) => {
          assert.ok(e instanceof ModelIntegrityError, String(e));
          assert.match(
            e.message,
            new RegExp(
              `ggml-tiny\\.en\\.bin: checksum mismatch: sha1 ${
                sha1Hex(bad)
              }, expected ${sha1}`,
            ),
          );
          return true;
        },
      );
    });
    await t.step("bad magic", async () => {
      await assert.rejects(
        downloadModel("base.en", {
          dir,
          baseUrl: base,
          expected: { sizeBytes: body.length, sha1: sha1Hex(notGgml) },
        }),
        (e: unknown) => {
          assert.ok(e instanceof ModelIntegrityError, String(e));
          assert.match(e.message, /bad magic 0x6d74683c/);
          return true;
        },
      );
    });
    await t.step("size announced differs from the catalog", async () => {
      await assert.rejects(
        downloadModel("small", { dir, baseUrl: base }),
        (e: unknown) => {
          assert.ok(e instanceof ModelIntegrityError, String(e));
          assert.match(
            e.message,
            new RegExp(
              `server announced ${body.length} bytes, expected 487601967`,
            ),
          );
          return true;
        },
      );
    });
    await t.step("HTTP 404", async () => {
      await assert.rejects(
        downloadModel("tiny", { dir, baseUrl: base, expected }),
        (e: unknown) => {
          assert.ok(e instanceof ModelDownloadError, String(e));
          assert.equal(e.httpStatus, 404);
          assert.match(
            e.message,
            /downloading tiny from http:\/\/127\.0\.0\.1:\d+\/models\/ggml-tiny\.bin: HTTP 404 Not Found/,
          );
          return true;
        },
      );
    });
    await t.step("connection refused", async () => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = listener.addr.port;
      listener.close();
      await assert.rejects(
        downloadModel("tiny", {
          dir,
          baseUrl: `http://127.0.0.1:${port}`,
          expected,
        }),
        (e: unknown) => {
          assert.ok(e instanceof ModelDownloadError, String(e));
          assert.equal(e.httpStatus, undefined);
          return true;
        },
      );
    });
    await t.step("no response before the connect timeout", async () => {
      const neverFetch: typeof fetch = (_input, init) =>
        new Promise((_, reject) => {
          init?.signal?.addEventListener(
            "abort",
            () => reject(init.signal!.reason),
          );
        });
      await assert.rejects(
        downloadModel("tiny", {
          dir,
          baseUrl: "http://example.invalid",
          fetch: neverFetch,
          connectTimeoutMs: 50,
          expected,
        }),
        (e: unknown) => {
          assert.ok(e instanceof ModelDownloadError, String(e));
          assert.match(e.message, /no response within 50 ms/);
          return true;
        },
      );
    });
    await t.step("body stalls", async () => {
      let cancelled = false;
      const stallingFetch: typeof fetch = () =>
        Promise.resolve(
          new Response(
            new ReadableStream<Uint8Array>({
              start(c) {
                c.enqueue(body.subarray(0, 1000));
              },
              cancel() {
                cancelled = true;
              },
            }),
          ),
        );
      await assert.rejects(
        downloadModel("tiny", {
          dir,
          baseUrl: "http://example.invalid",
          fetch: stallingFetch,
          idleTimeoutMs: 50,
          expected,
        }),
        (e: unknown) => {
          assert.ok(e instanceof ModelDownloadError, String(e));
          assert.match(e.message, /no data for 50 ms after 1000 bytes/);
          return true;
        },
      );
      assert.equal(cancelled, true);
    });
    await t.step("truncated body", async () => {
      const shortFetch: typeof fetch = () =>
        Promise.resolve(new Response(body.subarray(0, 5000)));
      await assert.rejects(
        downloadModel("tiny", {
          dir,
          baseUrl: "http://example.invalid",
          fetch: shortFetch,
          expected,
        }),
        (e: unknown) => {
          assert.ok(e instanceof ModelIntegrityError, String(e));
          assert.match(
            e.message,
            new RegExp(`truncated: got 5000 bytes, expected ${body.length}`),
          );
          return true;
        },
      );
    });
    assert.deepEqual(await entries(dir), []);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("modelUrl uses the published location unless overridden", () => {
  assert.equal(
    modelUrl(
      "base.en",
      "https://huggingface.co/ggerganov/whisper.cpp/resolve/main",
    )
      .href,
    "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-base.en.bin",
  );
  assert.equal(
    modelUrl("tiny", "http://mirror.local/m///").href,
    "http://mirror.local/m/ggml-tiny.bin",
  );
  assert.throws(() => modelUrl("tiny", "ftp://x"), /not a valid http\(s\) URL/);
  assert.throws(() => modelUrl("huge"), /model "huge" is not installed/);
});
