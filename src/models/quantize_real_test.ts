// Checks against the real tiny.en installed by `deno task setup`: quantized
// to q8_0 it is what whisper.cpp's own quantizer writes, it has the layout
// whisper.cpp's loader expects, and `ensureModel("tiny.en-q8_0")` installs
// and verifies it offline. Skipped (ignored) when tiny.en is not installed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { modelsDir } from "../config/mod.ts";
import { CATALOG } from "./catalog.ts";
import { GgmlType, readGgmlLayout } from "./ggml/layout.ts";
import { ensureModel } from "./install.ts";
import { quantizeGgml } from "./quantize.ts";
import { readSidecar } from "./sidecar.ts";
import { verifyInstalledModel } from "./verify.ts";
import { tensorTypeFor, whisperTensorSpecs } from "./ggml/whisper_tensors.ts";

const INSTALLED = join(modelsDir(), "ggml-tiny.en.bin");

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

// The converted tiny.en (sha1 12fe5a5a…, see convert_real_test.ts) run
// through whisper.cpp's `examples/quantize` built from the bundled sources.
const CONVERTED_TINY_EN_SHA1 = "12fe5a5a5118f1a96be2ea21a03115d93fb39da1";
const QUANTIZED_SHA1 = {
  q8_0: "4856dab9909cf8fff0387454fec34de5927e488e",
  q5_1: "a06d67b52fca84604387b81ceac486c0494588db",
  q4_0: "b0b5f067adf64f33e798a8441fb0ec665643090d",
} as const;

Deno.test({
  name: "quantizeGgml turns the real tiny.en into the loader's q8_0 layout",
  ignore: !exists(INSTALLED),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "real_q8_0_" });
    try {
      const out = join(dir, "ggml-tiny.en-q8_0.bin");
      const r = await quantizeGgml(INSTALLED, out, { type: "q8_0" });
      // Same size as the published ggml-tiny.en-q8_0.bin.
      assert.equal(r.sizeBytes, CATALOG["tiny.en-q8_0"].sizeBytes);
      if (r.source.sha1 === CONVERTED_TINY_EN_SHA1) {
        assert.equal(r.sha1, QUANTIZED_SHA1.q8_0);
      }
      const layout = await readGgmlLayout(out);
      assert.equal(layout.fileSize, 43_550_795);
      assert.equal(layout.hparams.ftype, 2007);
      const specs = whisperTensorSpecs(layout.hparams);
      assert.equal(specs.length, 167);
      const byName = new Map(layout.tensors.map((t) => [t.name, t]));
      assert.equal(byName.size, 167);
      for (const spec of specs) {
        const t = byName.get(spec.name);
        assert.ok(t, `${spec.name} missing`);
        assert.deepEqual(t.dims, spec.dims, spec.name);
        assert.equal(t.type, tensorTypeFor(spec.role, 7), spec.name);
      }
      const count = (type: number) =>
        layout.tensors.filter((t) => t.type === type).length;
      assert.deepEqual(
        [count(GgmlType.q8_0), count(GgmlType.f16), count(GgmlType.f32)],
        [65, 2, 100],
      );
      const emb = byName.get("decoder.token_embedding.weight")!;
      assert.deepEqual([emb.dims, emb.type, emb.dataBytes], [
        [384, 51864],
        GgmlType.q8_0,
        (384 * 51864 / 32) * 34,
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "quantizeGgml q5_1 and q4_0 of the real tiny.en match whisper.cpp's",
  ignore: !exists(INSTALLED),
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "real_q_" });
    try {
      for (const type of ["q5_1", "q4_0"] as const) {
        await t.step(type, async () => {
          const r = await quantizeGgml(INSTALLED, join(dir, `${type}.bin`), {
            type,
          });
          if (r.source.sha1 === CONVERTED_TINY_EN_SHA1) {
            assert.equal(r.sha1, QUANTIZED_SHA1[type]);
          }
          const layout = await readGgmlLayout(r.path);
          assert.equal(layout.tensors.length, 167);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "ensureModel installs tiny.en-q8_0 offline by quantizing tiny.en",
  ignore: !exists(INSTALLED),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "real_ensure_q8_0_" });
    try {
      const base = join(dir, "ggml-tiny.en.bin");
      await Deno.copyFile(INSTALLED, base);
      await Deno.copyFile(`${INSTALLED}.json`, `${base}.json`);
      const baseSidecar = (await readSidecar(base))!;
      const log: string[] = [];
      const path = await ensureModel("tiny.en-q8_0", {
        dir,
        offline: true,
        log: (m) => log.push(m),
      });
      assert.equal(path, join(dir, "ggml-tiny.en-q8_0.bin"));
      assert.ok(
        log.some((l) => /making it from tiny\.en instead \(q8_0\)/.test(l)),
        log.join("\n"),
      );
      const v = await verifyInstalledModel("tiny.en-q8_0", {
        dir,
        checksum: true,
      });
      assert.equal(v.sizeBytes, 43_550_795);
      assert.equal(v.hparams.ftype, 2007);
      assert.equal(v.sidecar.source, "quantized");
      assert.deepEqual(v.sidecar.from, {
        name: "tiny.en",
        file: "ggml-tiny.en.bin",
        sizeBytes: baseSidecar.sizeBytes,
        sha1: baseSidecar.sha1,
        type: "q8_0",
      });
      // A second call finds it installed and does nothing.
      const again: string[] = [];
      await ensureModel("tiny.en-q8_0", {
        dir,
        offline: true,
        log: (m) => again.push(m),
      });
      assert.deepEqual(again, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
