import { rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { ModelIntegrityError } from "../errors/mod.ts";
import { checkModelFile, GGML_MAGIC, MIN_MODEL_BYTES } from "./model_guard.ts";

/** A ggml magic followed by `size - 4` zero bytes. */
function ggmlStub(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(0, GGML_MAGIC, true);
  return bytes;
}

Deno.test("checkModelFile rejects unusable files with ModelIntegrityError", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "engine-guard-" });
  try {
    await t.step("missing file", async () => {
      await rejects(checkModelFile(join(dir, "nope.bin")), (e: unknown) => {
        return e instanceof ModelIntegrityError &&
          /not found/.test(e.message) &&
          e.code === "model_corrupt";
      });
    });
    await t.step("directory", async () => {
      await rejects(checkModelFile(dir), /not a regular file/);
    });
    await t.step("12-byte header-only file", async () => {
      const path = join(dir, "header.bin");
      await Deno.writeFile(path, ggmlStub(12));
      await rejects(checkModelFile(path), (e: unknown) => {
        return e instanceof ModelIntegrityError && /12 bytes/.test(e.message);
      });
    });
    await t.step("garbage of plausible size", async () => {
      const path = join(dir, "garbage.bin");
      const bytes = new Uint8Array(MIN_MODEL_BYTES).fill(0x41);
      await Deno.writeFile(path, bytes);
      await rejects(checkModelFile(path), (e: unknown) => {
        return e instanceof ModelIntegrityError &&
          /magic 0x41414141/.test(e.message);
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkModelFile accepts a ggml file of at least the minimum size", async () => {
  const dir = await Deno.makeTempDir({ prefix: "engine-guard-" });
  try {
    const path = join(dir, "ok.bin");
    const bytes = ggmlStub(MIN_MODEL_BYTES);
    new DataView(bytes.buffer).setInt32(4, 51864, true); // n_vocab of tiny.en
    await Deno.writeFile(path, bytes);
    const info = await checkModelFile(path);
    strictEqual(info.size, MIN_MODEL_BYTES);
    strictEqual(info.path, path);
    strictEqual(info.nVocab, 51864);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
