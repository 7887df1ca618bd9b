import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelIntegrityError, UnknownModelError } from "../errors/mod.ts";
import { sha1Hex, TINY_EN_HPARAMS } from "./_test_helpers.ts";
import { CATALOG } from "./catalog.ts";
import { encodeGgmlHeader } from "./ggml/header.ts";
import { listInstalledModels, modelFilePath } from "./model_paths.ts";
import { readSidecar, sidecarPath, writeSidecar } from "./sidecar.ts";
import { sha1File, verifyInstalledModel, verifyModelFile } from "./verify.ts";

/** A tiny.en-shaped header followed by filler bytes. */
function fakeTinyEn(size = 10_000): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 13) & 0xff;
  bytes.set(encodeGgmlHeader(TINY_EN_HPARAMS));
  return bytes;
}

function integrity(message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ModelIntegrityError, String(e));
    assert.equal(e.code, "model_corrupt");
    assert.match(e.message, message);
    return true;
  };
}

Deno.test("verifyModelFile accepts an intact file and reports its sha1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "m.bin");
    const bytes = fakeTinyEn();
    await Deno.writeFile(path, bytes);
    const v = await verifyModelFile(path, {
      sizeBytes: bytes.length,
      sha1: sha1Hex(bytes),
      shape: CATALOG["tiny.en"].shape,
    });
    assert.equal(v.sizeBytes, bytes.length);
    assert.equal(v.sha1, sha1Hex(bytes));
    assert.equal(v.hparams.nAudioState, 384);
    assert.equal(await sha1File(path), sha1Hex(bytes));
    const quick = await verifyModelFile(path, {}, { checksum: false });
    assert.equal(quick.sha1, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifyModelFile names the file and the problem", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "ggml-x.bin");
  const bytes = fakeTinyEn();
  const expected = { sizeBytes: bytes.length, sha1: sha1Hex(bytes) };
  try {
    await t.step("missing", async () => {
      await assert.rejects(
        verifyModelFile(path, expected),
        integrity(/ggml-x\.bin: missing$/),
      );
    });
    await t.step("header only", async () => {
      await Deno.writeFile(path, bytes.subarray(0, 12));
      await assert.rejects(
        verifyModelFile(path, expected),
        integrity(/ggml-x\.bin: truncated: 12 bytes, expected 10000/),
      );
    });
    await t.step("truncated", async () => {
      await Deno.writeFile(path, bytes.subarray(0, 9000));
      await assert.rejects(
        verifyModelFile(path, expected),
        integrity(/ggml-x\.bin: truncated: 9000 bytes, expected 10000/),
      );
    });
    await t.step("too long", async () => {
      await Deno.writeFile(path, new Uint8Array([...bytes, 0]));
      await assert.rejects(
        verifyModelFile(path, expected),
        integrity(/size mismatch: 10001 bytes, expected 10000/),
      );
    });
    await t.step("bad magic", async () => {
      const bad = bytes.slice();
      bad.set([0, 0, 0, 0]);
      await Deno.writeFile(path, bad);
      await assert.rejects(
        verifyModelFile(path, expected),
        integrity(/ggml-x\.bin: bad magic 0x00000000/),
      );
    });
    await t.step("wrong model", async () => {
      await Deno.writeFile(path, bytes);
      await assert.rejects(
        verifyModelFile(path, { ...expected, shape: CATALOG["base.en"].shape }),
        integrity(/wrong model: header has nAudioState=384, expected 512/),
      );
    });
    await t.step("wrong weight type", async () => {
      await Deno.writeFile(path, bytes);
      await assert.rejects(
        verifyModelFile(path, { ...expected, ftype: 7 }),
        integrity(
          /wrong weight type: header has ftype=1, expected 7 \(or 2007\)/,
        ),
      );
      // The quantization version (ftype / 1000) is ignored, as whisper.cpp does.
      const q = fakeTinyEn();
      q.set(new Uint8Array(Int32Array.of(2007).buffer), 44);
      await Deno.writeFile(path, q);
      await verifyModelFile(path, { ftype: 7 }, { checksum: false });
    });
    await t.step("checksum mismatch", async () => {
      const flipped = bytes.slice();
      flipped[5000] = flipped[5000]! ^ 1;
      await Deno.writeFile(path, flipped);
      await assert.rejects(
        verifyModelFile(path, expected),
        integrity(
          new RegExp(
            `checksum mismatch: sha1 ${
              sha1Hex(flipped)
            }, expected ${expected.sha1}`,
          ),
        ),
      );
      // Without hashing the same file passes: that is the quick path.
      await verifyModelFile(path, expected, { checksum: false });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifyInstalledModel checks the file against its sidecar", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = modelFilePath("tiny.en", { dir });
  const bytes = fakeTinyEn();
  try {
    assert.equal(path, join(dir, "ggml-tiny.en.bin"));
    assert.deepEqual(listInstalledModels({ dir }), []);
    await Deno.writeFile(path, bytes);
    await t.step("no sidecar", async () => {
      assert.deepEqual(listInstalledModels({ dir }), []);
      await assert.rejects(
        verifyInstalledModel("tiny.en", { dir }),
        integrity(/ggml-tiny\.en\.bin: no sidecar .*ggml-tiny\.en\.bin\.json/),
      );
    });
    await t.step("converted, intact", async () => {
      const sidecar = await writeSidecar(path, {
        name: "tiny.en",
        sizeBytes: bytes.length,
        sha1: sha1Hex(bytes),
        source: "converted",
      });
      assert.deepEqual(await readSidecar(path), sidecar);
      assert.deepEqual(listInstalledModels({ dir }), ["tiny.en"]);
      const v = await verifyInstalledModel("tiny.en", { dir, checksum: true });
      assert.equal(v.sha1, sha1Hex(bytes));
      assert.equal(v.sidecar.source, "converted");
    });
    await t.step("corrupted after install", async () => {
      const flipped = bytes.slice();
      flipped[100] = flipped[100]! ^ 1;
      await Deno.writeFile(path, flipped);
      // Size and header still fine: only the full check catches it.
      await verifyInstalledModel("tiny.en", { dir });
      await assert.rejects(
        verifyInstalledModel("tiny.en", { dir, checksum: true }),
        integrity(/checksum mismatch/),
      );
      await Deno.writeFile(path, bytes.subarray(0, 5000));
      await assert.rejects(
        verifyInstalledModel("tiny.en", { dir }),
        integrity(/truncated: 5000 bytes, expected 10000/),
      );
    });
    await t.step(
      "a download sidecar must carry the published sha1",
      async () => {
        await Deno.writeFile(path, bytes);
        await writeSidecar(path, {
          name: "tiny.en",
          sizeBytes: bytes.length,
          sha1: sha1Hex(bytes),
          source: "download",
        });
        await assert.rejects(
          verifyInstalledModel("tiny.en", { dir }),
          integrity(/must have sha1 c78c86eb1a8faa21b369bcd33207cc90d64ae9df/),
        );
      },
    );
    await t.step(
      "a quantized sidecar must say what it was made from",
      async () => {
        await Deno.writeFile(path, bytes);
        await Deno.writeTextFile(
          sidecarPath(path),
          JSON.stringify({
            name: "tiny.en",
            sizeBytes: bytes.length,
            sha1: sha1Hex(bytes),
            source: "quantized",
            created_at: "2026-01-01T00:00:00Z",
          }),
        );
        await assert.rejects(
          verifyInstalledModel("tiny.en", { dir }),
          integrity(
            /ggml-tiny\.en\.bin\.json: from: a "quantized" sidecar must record "from"/,
          ),
        );
      },
    );
    await t.step("an f16 model whose header says q8_0", async () => {
      const q = bytes.slice();
      q.set(new Uint8Array(Int32Array.of(2007).buffer), 44);
      await Deno.writeFile(path, q);
      await writeSidecar(path, {
        name: "tiny.en",
        sizeBytes: q.length,
        sha1: sha1Hex(q),
        source: "converted",
      });
      await assert.rejects(
        verifyInstalledModel("tiny.en", { dir }),
        integrity(/wrong weight type: header has ftype=2007, expected 1$/),
      );
    });
    await t.step("malformed sidecar", async () => {
      await Deno.writeTextFile(
        sidecarPath(path),
        JSON.stringify({ name: "tiny.en", sha1: "xyz" }),
      );
      await assert.rejects(
        verifyInstalledModel("tiny.en", { dir }),
        integrity(/ggml-tiny\.en\.bin\.json: sizeBytes: /),
      );
    });
    await t.step("unknown name", () => {
      assert.throws(() => modelFilePath("huge", { dir }), (e: unknown) => {
        assert.ok(e instanceof UnknownModelError);
        assert.match(
          e.message,
          /model "huge" is not installed; installed models: tiny\.en/,
        );
        return true;
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
