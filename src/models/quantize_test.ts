import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelIntegrityError } from "../errors/mod.ts";
import { sha1Hex, syntheticGgml } from "./_test_helpers.ts";
import { ModelConversionError } from "./errors.ts";
import { GGML_HEADER_BYTES, readGgmlHeader } from "./ggml/header.ts";
import { ggmlTensorBytes, GgmlType, readGgmlLayout } from "./ggml/layout.ts";
import { QUANT_FORMATS, QUANT_TYPES, quantize } from "./ggml/quants.ts";
import type { Progress } from "./progress.ts";
import { quantizeGgml } from "./quantize.ts";
import { whisperTensorSpecs } from "./ggml/whisper_tensors.ts";

// SHA-1s of what whisper.cpp's own `examples/quantize`, built from the
// bundled smart-whisper 0.8.1 sources, writes for `syntheticGgml()` (f16,
// width 32, one layer each side). Byte-identical output is the contract.
const WHISPER_CPP_QUANTIZE_SHA1 = {
  q8_0: "35d5f907937b8c421bb521a82cc479447edfac6f",
  q5_1: "4bfe2801c508ef6bffed887cc291694365100b4d",
  q4_0: "5ad705190b3c24f3490f15a8c35e480288296077",
} as const;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "quantize_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("quantizeGgml writes what whisper.cpp's quantizer writes, byte for byte", async (t) => {
  await withTempDir(async (dir) => {
    const synth = syntheticGgml();
    const input = join(dir, "in.bin");
    await Deno.writeFile(input, synth.bytes);
    for (const type of QUANT_TYPES) {
      await t.step(type, async () => {
        const out = join(dir, `out-${type}.bin`);
        const result = await quantizeGgml(input, out, { type });
        assert.equal(result.sha1, WHISPER_CPP_QUANTIZE_SHA1[type]);
        assert.equal(sha1Hex(await Deno.readFile(out)), result.sha1);
      });
    }
  });
});

Deno.test("quantizeGgml q8_0: header, tensor types, block bytes and sizes", async () => {
  await withTempDir(async (dir) => {
    const synth = syntheticGgml({ layers: 2 });
    const input = join(dir, "in.bin");
    const out = join(dir, "sub", "ggml-test-q8_0.bin");
    await Deno.writeFile(input, synth.bytes);
    const events: Progress[] = [];
    const result = await quantizeGgml(input, out, {
      type: "q8_0",
      onProgress: (p) => events.push(p),
    });
    const bytes = await Deno.readFile(out);
    const layout = await readGgmlLayout(out);

    // Header: same hyper-parameters, ftype 2 × 1000 + GGML_FTYPE_MOSTLY_Q8_0.
    assert.deepEqual(layout.hparams, { ...synth.hparams, ftype: 2007 });
    assert.deepEqual(result.hparams, layout.hparams);
    assert.deepEqual(await readGgmlHeader(out), layout.hparams);
    // Mel filters and vocabulary copied unchanged.
    assert.deepEqual(
      bytes.subarray(GGML_HEADER_BYTES, synth.prefix.length),
      synth.prefix.subarray(GGML_HEADER_BYTES),
    );

    // Every tensor, in the source order, with the type the loader expects.
    const specs = whisperTensorSpecs(synth.hparams);
    assert.equal(layout.tensors.length, specs.length);
    assert.equal(specs.length, 7 + 15 * 2 + 4 + 24 * 2);
    let expectedSize = synth.prefix.length;
    for (const [i, tensor] of layout.tensors.entries()) {
      const src = synth.tensors[i]!;
      const spec = specs[i]!;
      assert.equal(tensor.name, src.name);
      assert.deepEqual(tensor.dims, src.dims);
      const want = spec.role === "weight"
        ? GgmlType.q8_0
        : spec.role === "conv"
        ? GgmlType.f16
        : GgmlType.f32;
      assert.equal(tensor.type, want, tensor.name);
      const data = bytes.subarray(
        tensor.dataOffset,
        tensor.dataOffset + tensor.dataBytes,
      );
      if (want === GgmlType.q8_0) {
        // Row-major blocks of the f16 source values.
        assert.deepEqual(data, quantize("q8_0", src.values), tensor.name);
        assert.equal(data.length, (src.values.length / 32) * 34);
      } else {
        assert.equal(src.type, want);
        const raw = want === GgmlType.f16
          ? Float16Array.from(src.values)
          : Float32Array.from(src.values);
        assert.deepEqual(data, new Uint8Array(raw.buffer), tensor.name);
      }
      expectedSize += 12 + 4 * tensor.dims.length + tensor.name.length +
        ggmlTensorBytes(want, src.values.length);
    }
    const quantized = layout.tensors.filter((x) => x.type === GgmlType.q8_0);
    assert.deepEqual(
      quantized.map((x) => x.name).filter((n) => n.startsWith("encoder.")),
      [
        "encoder.blocks.0.mlp.0.weight",
        "encoder.blocks.0.mlp.2.weight",
        "encoder.blocks.0.attn.query.weight",
        "encoder.blocks.0.attn.key.weight",
        "encoder.blocks.0.attn.value.weight",
        "encoder.blocks.0.attn.out.weight",
        "encoder.blocks.1.mlp.0.weight",
        "encoder.blocks.1.mlp.2.weight",
        "encoder.blocks.1.attn.query.weight",
        "encoder.blocks.1.attn.key.weight",
        "encoder.blocks.1.attn.value.weight",
        "encoder.blocks.1.attn.out.weight",
      ],
    );
    assert.ok(
      quantized.some((x) => x.name === "decoder.token_embedding.weight"),
    );
    assert.equal(quantized.length, 6 * 2 + 10 * 2 + 1);
    assert.equal(result.quantizedCount, quantized.length);
    assert.equal(result.tensorCount, specs.length);

    // Sizes and hashes agree.
    assert.equal(bytes.length, expectedSize);
    assert.equal(result.sizeBytes, expectedSize);
    assert.equal(layout.fileSize, expectedSize);
    assert.equal(result.sha1, sha1Hex(bytes));
    assert.deepEqual(result.source, {
      path: input,
      sizeBytes: synth.bytes.length,
      sha1: sha1Hex(synth.bytes),
    });
    // Progress ends at the total; no temporary file is left behind.
    assert.deepEqual(events.at(-1), {
      stage: "quantize",
      done: expectedSize,
      total: expectedSize,
    });
    assert.deepEqual(await listDir(join(dir, "sub")), ["ggml-test-q8_0.bin"]);
  });
});

Deno.test("quantizeGgml sizes follow each type's block size", async (t) => {
  await withTempDir(async (dir) => {
    const synth = syntheticGgml();
    const input = join(dir, "in.bin");
    await Deno.writeFile(input, synth.bytes);
    const weightElements = whisperTensorSpecs(synth.hparams)
      .filter((s) => s.role === "weight")
      .reduce((n, s) => n + s.dims[0]! * s.dims[1]!, 0);
    for (const type of QUANT_TYPES) {
      await t.step(type, async () => {
        const out = join(dir, `${type}.bin`);
        const r = await quantizeGgml(input, out, { type });
        const f = QUANT_FORMATS[type];
        // f16 weights (2 bytes each) become blocks; the rest is unchanged.
        assert.equal(
          r.sizeBytes,
          synth.bytes.length - 2 * weightElements +
            (weightElements / 32) * f.blockBytes,
        );
        assert.equal(r.hparams.ftype, 2000 + f.ftype);
        const layout = await readGgmlLayout(out);
        const types = new Set(layout.tensors.map((x) => x.type));
        assert.deepEqual(
          [...types].sort(),
          [GgmlType.f32, GgmlType.f16, f.ggmlType].sort(),
        );
      });
    }
  });
});

Deno.test("quantizeGgml turns an all-f32 source into the types the loader expects", async () => {
  await withTempDir(async (dir) => {
    const synth = syntheticGgml({ ftype: 0 });
    assert.ok(synth.tensors.every((x) => x.type === GgmlType.f32));
    const input = join(dir, "in.bin");
    const out = join(dir, "out.bin");
    await Deno.writeFile(input, synth.bytes);
    await quantizeGgml(input, out, { type: "q8_0" });
    const bytes = await Deno.readFile(out);
    const layout = await readGgmlLayout(out);
    assert.equal(layout.hparams.ftype, 2007);
    const byName = new Map(layout.tensors.map((x) => [x.name, x]));
    // The loader wants f16 conv kernels in any non-f32 file: converted.
    const conv = byName.get("encoder.conv1.weight")!;
    assert.equal(conv.type, GgmlType.f16);
    const src = synth.tensors.find((x) => x.name === "encoder.conv1.weight")!;
    assert.deepEqual(
      bytes.subarray(conv.dataOffset, conv.dataOffset + conv.dataBytes),
      new Uint8Array(Float16Array.from(src.values).buffer),
    );
    assert.equal(byName.get("encoder.conv1.bias")!.type, GgmlType.f32);
    assert.equal(
      byName.get("decoder.positional_embedding")!.type,
      GgmlType.f32,
    );
    const emb = byName.get("decoder.token_embedding.weight")!;
    assert.equal(emb.type, GgmlType.q8_0);
    const embSrc = synth.tensors.find((x) => x.name === emb.name)!;
    assert.deepEqual(
      bytes.subarray(emb.dataOffset, emb.dataOffset + emb.dataBytes),
      quantize("q8_0", embSrc.values),
    );
  });
});

Deno.test("quantizeGgml rejects files whisper.cpp would not load, leaving nothing behind", async (t) => {
  await withTempDir(async (dir) => {
    const cases: {
      name: string;
      bytes: () => Promise<Uint8Array> | Uint8Array;
      error: RegExp;
      type?: typeof ModelConversionError | typeof ModelIntegrityError;
    }[] = [
      {
        name: "already quantized",
        bytes: async () => {
          const input = join(dir, "in.bin");
          await Deno.writeFile(input, syntheticGgml().bytes);
          await quantizeGgml(input, join(dir, "q.bin"), { type: "q8_0" });
          const q = await Deno.readFile(join(dir, "q.bin"));
          await Deno.remove(join(dir, "q.bin"));
          await Deno.remove(input);
          return q;
        },
        error: /header ftype 2007: already quantized/,
      },
      {
        name: "unknown tensor",
        bytes: () =>
          syntheticGgml({
            edit: (ts) => {
              ts[0]!.name = "encoder.mystery";
            },
          }).bytes,
        error: /unknown tensor encoder\.mystery/,
      },
      {
        name: "missing tensor",
        bytes: () =>
          syntheticGgml({
            edit: (ts) =>
              ts.splice(ts.findIndex((x) => x.name === "decoder.ln.bias"), 1),
          }).bytes,
        error:
          /1 tensor\(s\) whisper\.cpp needs are missing: decoder\.ln\.bias/,
      },
      {
        name: "wrong shape",
        bytes: () =>
          syntheticGgml({
            edit: (ts) => {
              const emb = ts.find((x) =>
                x.name === "decoder.token_embedding.weight"
              )!;
              emb.dims = [emb.dims[1]!, emb.dims[0]!];
            },
          }).bytes,
        error:
          /decoder\.token_embedding\.weight has dims \[40, 32\], whisper\.cpp expects \[32, 40\]/,
      },
      {
        name: "rows that don't split into blocks",
        bytes: () => syntheticGgml({ d: 8 }).bytes,
        error: /rows of 8 elements don't split into 32-element q8_0 blocks/,
      },
      {
        name: "truncated",
        bytes: () => syntheticGgml().bytes.subarray(0, 5000),
        error: /truncated/,
        type: ModelIntegrityError,
      },
    ];
    for (const c of cases) {
      await t.step(c.name, async () => {
        const input = join(dir, "bad.bin");
        await Deno.writeFile(input, await c.bytes());
        await assert.rejects(
          quantizeGgml(input, join(dir, "out.bin"), { type: "q8_0" }),
          (e: unknown) => {
            assert.ok(e instanceof (c.type ?? ModelConversionError), String(e));
            assert.match((e as Error).message, c.error);
            assert.ok((e as Error).message.includes(input));
            return true;
          },
        );
        assert.deepEqual(await listDir(dir), ["bad.bin"]);
        await Deno.remove(input);
      });
    }
    await t.step("unknown type", async () => {
      await assert.rejects(
        quantizeGgml(join(dir, "x.bin"), join(dir, "y.bin"), {
          type: "q3_k" as "q8_0",
        }),
        /type must be one of q8_0, q5_1, q4_0, got q3_k/,
      );
    });
  });
});
