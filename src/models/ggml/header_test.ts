import assert from "node:assert/strict";
import { TINY_EN_HPARAMS } from "../_test_helpers.ts";
import { join } from "node:path";
import { ModelIntegrityError } from "../../errors/mod.ts";
import {
  encodeGgmlHeader,
  type GgmlHparams,
  parseGgmlHeader,
  readGgmlHeader,
} from "./header.ts";

const TINY_EN: GgmlHparams = TINY_EN_HPARAMS;

Deno.test("encodeGgmlHeader writes magic and 11 little-endian i32", () => {
  const bytes = encodeGgmlHeader(TINY_EN);
  assert.equal(bytes.length, 48);
  assert.deepEqual([...bytes.subarray(0, 8)], [
    0x6c,
    0x6d,
    0x67,
    0x67,
    0x98,
    0xca,
    0,
    0,
  ]);
  assert.deepEqual(parseGgmlHeader(bytes), TINY_EN);
});

Deno.test("parseGgmlHeader rejects what is not a whisper ggml header", async (t) => {
  const reject = (bytes: Uint8Array, message: RegExp) =>
    assert.throws(() => parseGgmlHeader(bytes, "m.bin"), (e: unknown) => {
      assert.ok(e instanceof ModelIntegrityError);
      assert.match(e.message, message);
      return true;
    });
  await t.step("short", () => {
    reject(
      encodeGgmlHeader(TINY_EN).subarray(0, 12),
      /^m\.bin: truncated: 12 bytes/,
    );
  });
  await t.step("bad magic", () => {
    const bytes = encodeGgmlHeader(TINY_EN);
    bytes.set(new TextEncoder().encode("GGUF"));
    reject(bytes, /^m\.bin: bad magic 0x46554747, expected 0x67676d6c/);
  });
  await t.step("implausible values", () => {
    reject(
      encodeGgmlHeader({ ...TINY_EN, nVocab: 0 }),
      /nVocab=0, expected 1\.\./,
    );
    reject(encodeGgmlHeader({ ...TINY_EN, nMels: -80 }), /nMels=-80/);
    reject(encodeGgmlHeader({ ...TINY_EN, ftype: 99_999 }), /ftype=99999/);
    reject(
      encodeGgmlHeader({ ...TINY_EN, nTextHead: 5 }),
      /nTextState=384 is not a multiple of nTextHead=5/,
    );
  });
});

Deno.test("readGgmlHeader reads a file's header and names missing files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "m.bin");
    const bytes = new Uint8Array(4096);
    bytes.set(encodeGgmlHeader(TINY_EN));
    await Deno.writeFile(path, bytes);
    assert.deepEqual(await readGgmlHeader(path), TINY_EN);
    await Deno.writeFile(path, bytes.subarray(0, 30));
    await assert.rejects(readGgmlHeader(path), /m\.bin: truncated: 30 bytes/);
    await assert.rejects(
      readGgmlHeader(join(dir, "nope.bin")),
      (e: unknown) =>
        e instanceof ModelIntegrityError &&
        /nope\.bin: missing/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
