import assert from "node:assert/strict";
import { join } from "node:path";
import { createHash } from "node:crypto";
import {
  asF16,
  asF32,
  SYNTH_VOCAB,
  syntheticWhisper,
  type SynthOptions,
  variableBytes,
  writeCt2Dir,
} from "../_test_helpers.ts";
import { convertCt2ToGgml } from "./convert_ct2.ts";
import { ModelConversionError } from "../errors.ts";
import { readGgmlLayout } from "../ggml/layout.ts";
import { melFilters } from "./mel_filters.ts";
import type { Progress } from "../progress.ts";

const D = 8;

async function convertSynthetic(
  options: SynthOptions = {},
  edit?: (vars: ReturnType<typeof syntheticWhisper>) => void,
) {
  const dir = await Deno.makeTempDir({ prefix: "ct2_test_" });
  const vars = syntheticWhisper(options);
  edit?.(vars);
  await writeCt2Dir(join(dir, "ct2"), vars);
  const out = join(dir, "out", "ggml-test.bin");
  return { dir, vars, ct2: join(dir, "ct2"), out };
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

Deno.test("convertCt2ToGgml writes the whisper.cpp layout field by field", async () => {
  const { dir, vars, ct2, out } = await convertSynthetic();
  try {
    const events: Progress[] = [];
    const result = await convertCt2ToGgml(ct2, out, {
      onProgress: (p) => events.push(p),
    });
    const bytes = await Deno.readFile(out);
    const layout = await readGgmlLayout(out);

    // Result and file agree.
    assert.equal(result.sizeBytes, bytes.length);
    assert.equal(layout.fileSize, bytes.length);
    assert.equal(
      result.sha1,
      createHash("sha1").update(bytes).digest("hex"),
    );
    assert.deepEqual(await listDir(join(dir, "out")), ["ggml-test.bin"]);

    // Header: magic bytes and derived hparams.
    assert.deepEqual([...bytes.subarray(0, 4)], [0x6c, 0x6d, 0x67, 0x67]);
    assert.deepEqual(layout.hparams, {
      nVocab: SYNTH_VOCAB.length,
      nAudioCtx: 6,
      nAudioState: D,
      nAudioHead: 2,
      nAudioLayer: 2,
      nTextCtx: 5,
      nTextState: D,
      nTextHead: 2,
      nTextLayer: 2,
      nMels: 80,
      ftype: 1,
    });
    assert.deepEqual(result.hparams, layout.hparams);

    // Mel filters: 80 × 201 f32 from melFilters().
    assert.deepEqual(layout.mel, { rows: 80, cols: 201, offset: 56 });
    const mel = asF32(bytes.subarray(56, 56 + 80 * 201 * 4));
    assert.deepEqual(mel, melFilters());

    // Vocabulary: bytes decoded from GPT-2's alphabet, up to <|endoftext|>.
    const text = (s: string) => [...new TextEncoder().encode(s)];
    assert.equal(result.vocabCount, 8);
    assert.deepEqual(layout.vocab.map((t) => [...t]), [
      text("!"),
      text(" the"),
      text(" a"),
      text("hello"),
      [0x0a],
      [0xc3, 0xa9],
      [0x20, 0x20],
      text("<|endoftext|>"),
    ]);

    // Tensors: exact count and names, ggml dims (reversed) and types.
    assert.equal(layout.tensors.length, 7 + 15 * 2 + 4 + 24 * 2);
    assert.equal(result.tensorCount, layout.tensors.length);
    const byName = new Map(layout.tensors.map((t) => [t.name, t]));
    const expectTensor = (name: string, dims: number[], type: number) => {
      const t = byName.get(name);
      assert.ok(t, `missing tensor ${name}`);
      assert.deepEqual(t.dims, dims, `${name} dims`);
      assert.equal(t.type, type, `${name} type`);
    };
    expectTensor("encoder.conv1.weight", [3, 80, D], 1);
    expectTensor("encoder.conv1.bias", [1, D], 0);
    expectTensor("encoder.conv2.weight", [3, D, D], 1);
    expectTensor("encoder.conv2.bias", [1, D], 0);
    expectTensor("encoder.positional_embedding", [D, 6], 0);
    expectTensor("encoder.ln_post.weight", [D], 0);
    expectTensor("encoder.ln_post.bias", [D], 0);
    expectTensor("decoder.positional_embedding", [D, 5], 0);
    expectTensor("decoder.token_embedding.weight", [D, SYNTH_VOCAB.length], 1);
    expectTensor("decoder.ln.weight", [D], 0);
    expectTensor("decoder.ln.bias", [D], 0);
    for (const stack of ["encoder", "decoder"]) {
      for (const n of [0, 1]) {
        const b = `${stack}.blocks.${n}`;
        expectTensor(`${b}.attn_ln.weight`, [D], 0);
        expectTensor(`${b}.attn.query.weight`, [D, D], 1);
        expectTensor(`${b}.attn.query.bias`, [D], 0);
        expectTensor(`${b}.attn.key.weight`, [D, D], 1);
        expectTensor(`${b}.attn.value.weight`, [D, D], 1);
        expectTensor(`${b}.attn.value.bias`, [D], 0);
        expectTensor(`${b}.attn.out.weight`, [D, D], 1);
        expectTensor(`${b}.mlp_ln.bias`, [D], 0);
        expectTensor(`${b}.mlp.0.weight`, [D, 4 * D], 1);
        expectTensor(`${b}.mlp.0.bias`, [4 * D], 0);
        expectTensor(`${b}.mlp.2.weight`, [4 * D, D], 1);
        expectTensor(`${b}.mlp.2.bias`, [D], 0);
        assert.equal(byName.has(`${b}.attn.key.bias`), false);
      }
    }
    expectTensor("decoder.blocks.1.cross_attn_ln.weight", [D], 0);
    expectTensor("decoder.blocks.1.cross_attn.query.weight", [D, D], 1);
    expectTensor("decoder.blocks.1.cross_attn.key.weight", [D, D], 1);
    expectTensor("decoder.blocks.1.cross_attn.value.bias", [D], 0);
    expectTensor("decoder.blocks.1.cross_attn.out.bias", [D], 0);
    assert.equal(byName.has("decoder.blocks.1.cross_attn.key.bias"), false);
    assert.equal(byName.has("encoder.blocks.0.cross_attn.query.weight"), false);
    assert.ok(![...byName.keys()].some((n) => n.includes("projection")));

    // Data: fused projections split by rows; f16 copied, f32 widened.
    const data = (name: string) => {
      const t = byName.get(name)!;
      return bytes.subarray(t.dataOffset, t.dataOffset + t.dataBytes);
    };
    const src = (name: string) => vars.get(name)!;
    const f16Rows = (name: string, from: number, to: number) =>
      variableBytes(src(name)).subarray(from * D * 2, to * D * 2);
    const qkv = "decoder/layer_1/self_attention/linear_0";
    assert.deepEqual(
      data("decoder.blocks.1.attn.query.weight"),
      f16Rows(`${qkv}/weight`, 0, D),
    );
    assert.deepEqual(
      data("decoder.blocks.1.attn.key.weight"),
      f16Rows(`${qkv}/weight`, D, 2 * D),
    );
    assert.deepEqual(
      data("decoder.blocks.1.attn.value.weight"),
      f16Rows(`${qkv}/weight`, 2 * D, 3 * D),
    );
    const qkvBias = src(`${qkv}/bias`).values;
    assert.deepEqual(
      asF32(data("decoder.blocks.1.attn.query.bias")),
      Float32Array.from(qkvBias.subarray(0, D)),
    );
    assert.deepEqual(
      asF32(data("decoder.blocks.1.attn.value.bias")),
      Float32Array.from(qkvBias.subarray(2 * D, 3 * D)),
    );
    assert.notDeepEqual(
      asF32(data("decoder.blocks.1.attn.value.bias")),
      asF32(data("decoder.blocks.1.attn.query.bias")),
    );
    const kv = "decoder/layer_0/attention/linear_1";
    assert.deepEqual(
      data("decoder.blocks.0.cross_attn.key.weight"),
      f16Rows(`${kv}/weight`, 0, D),
    );
    assert.deepEqual(
      data("decoder.blocks.0.cross_attn.value.weight"),
      f16Rows(`${kv}/weight`, D, 2 * D),
    );
    assert.deepEqual(
      asF32(data("decoder.blocks.0.cross_attn.value.bias")),
      Float32Array.from(src(`${kv}/bias`).values.subarray(D, 2 * D)),
    );
    assert.deepEqual(
      asF16(data("encoder.conv1.weight")),
      Float16Array.from(src("encoder/conv1/weight").values),
    );
    assert.deepEqual(
      asF32(data("encoder.conv2.bias")),
      Float32Array.from(src("encoder/conv2/bias").values),
    );
    assert.deepEqual(
      asF32(data("decoder.positional_embedding")),
      Float32Array.from(src("decoder/position_encodings/encodings").values),
    );
    assert.deepEqual(
      data("decoder.token_embedding.weight"),
      variableBytes(src("decoder/embeddings/weight")),
    );

    // Progress: monotonic, ends at the file size.
    assert.ok(events.length > 10);
    assert.ok(
      events.every((e) => e.stage === "convert" && e.total === bytes.length),
    );
    assert.ok(events.every((e, i) => i === 0 || e.done >= events[i - 1]!.done));
    assert.equal(events.at(-1)!.done, bytes.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("convertCt2ToGgml gives the same file for f16, f32, bf16 and int8 sources", async () => {
  const sha1s: string[] = [];
  for (const dtype of ["f16", "f32", "bf16", "int8"] as const) {
    const { dir, ct2, out } = await convertSynthetic({ dtype });
    try {
      sha1s.push((await convertCt2ToGgml(ct2, out)).sha1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  assert.equal(new Set(sha1s).size, 1, sha1s.join(" "));
});

Deno.test("convertCt2ToGgml rejects bad input with a clear error", async (t) => {
  const cases: {
    name: string;
    edit?: (vars: ReturnType<typeof syntheticWhisper>) => void;
    write?: (ct2: string) => Promise<void>;
    message: RegExp;
  }[] = [
    {
      name: "wrong spec name",
      write: async (ct2) =>
        await writeCt2Dir(ct2, syntheticWhisper(), {
          specName: "TransformerSpec",
        }),
      message: /spec is TransformerSpec, expected WhisperSpec/,
    },
    {
      name: "wrong spec revision",
      write: async (ct2) =>
        await writeCt2Dir(ct2, syntheticWhisper(), { specRevision: 2 }),
      message: /revision 2, expected 3/,
    },
    {
      name: "other binary version",
      write: async (ct2) =>
        await writeCt2Dir(ct2, syntheticWhisper(), { binaryVersion: 5 }),
      message: /unsupported CTranslate2 binary version 5/,
    },
    {
      name: "truncated model.bin",
      write: async (ct2) => {
        const path = join(ct2, "model.bin");
        const bytes = await Deno.readFile(path);
        await Deno.writeFile(path, bytes.subarray(0, bytes.length - 100));
      },
      message: /model\.bin: truncated/,
    },
    {
      name: "non-zero self-attention key bias",
      edit: (vars) => {
        vars.get("encoder/layer_1/self_attention/linear_0/bias")!.values[
          D + 3
        ] = 0.5;
      },
      message:
        /encoder\/layer_1\/self_attention\/linear_0\/bias\[11\] = 0\.5: the key bias must be all zeros/,
    },
    {
      name: "non-zero cross-attention key bias",
      edit: (vars) => {
        vars.get("decoder/layer_0/attention/linear_1/bias")!.values[0] = -1;
      },
      message: /decoder\/layer_0\/attention\/linear_1\/bias\[0\] = -1/,
    },
    {
      name: "missing variable",
      edit: (vars) => vars.delete("decoder/layer_1/ffn/linear_0/weight"),
      message: /missing variable decoder\/layer_1\/ffn\/linear_0\/weight/,
    },
    {
      name: "unexpected variable",
      edit: (vars) =>
        vars.set("encoder/extra/weight", {
          shape: [2],
          values: new Float64Array(2),
        }),
      message: /unexpected variables: encoder\/extra\/weight/,
    },
    {
      name: "wrong shape",
      edit: (vars) =>
        vars.set("encoder/layer_0/ffn/linear_1/weight", {
          shape: [D, 3 * D],
          values: new Float64Array(3 * D * D),
        }),
      message:
        /encoder\/layer_0\/ffn\/linear_1\/weight has shape \[8, 24\], expected \[8, 32\]/,
    },
    {
      name: "unsupported activation",
      edit: (vars) =>
        vars.set("decoder/activation", {
          shape: [],
          values: Float64Array.of(0),
          dtype: "i8",
        }),
      message: /decoder\/activation is 0, whisper\.cpp supports only 3/,
    },
    {
      name: "vocabulary that doesn't fit the embeddings",
      write: async (ct2) =>
        await writeCt2Dir(ct2, syntheticWhisper(), {
          vocab: SYNTH_VOCAB.slice(1),
        }),
      message: /vocabulary\.txt has 8 tokens but the embeddings have 9 rows/,
    },
    {
      name: "missing vocabulary.txt",
      write: async (ct2) => {
        await writeCt2Dir(ct2, syntheticWhisper());
        await Deno.remove(join(ct2, "vocabulary.txt"));
      },
      message: /vocabulary\.txt: missing/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const { dir, ct2, out } = await convertSynthetic({}, c.edit);
      try {
        await c.write?.(ct2);
        await assert.rejects(
          convertCt2ToGgml(ct2, out),
          (e: unknown) => {
            assert.ok(e instanceof ModelConversionError, String(e));
            assert.match(e.message, c.message);
            return true;
          },
        );
        assert.deepEqual(await listDir(join(dir, "out")), []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});
