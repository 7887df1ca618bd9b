import assert from "node:assert/strict";
import {
  BASE_MODEL_NAMES,
  CATALOG,
  DEFAULT_MODEL,
  findCatalogEntry,
  isModelName,
  MODEL_NAMES,
} from "./catalog.ts";
import { ApiConfigSchema, WorkerConfigSchema } from "../config/mod.ts";

Deno.test("catalog lists the published tiny/base/small ggml files", () => {
  assert.deepEqual(Object.keys(CATALOG).sort(), [...MODEL_NAMES].sort());
  // tiny.en quantized to 8 bits: faster, same accuracy (docs/performance.md).
  assert.equal(DEFAULT_MODEL, "tiny.en-q8_0");
  assert.equal(CATALOG[DEFAULT_MODEL].quantization?.from, "tiny.en");
  assert.deepEqual(CATALOG["tiny.en"], {
    name: "tiny.en",
    file: "ggml-tiny.en.bin",
    sizeBytes: 77_704_715,
    sha1: "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
    multilingual: false,
    shape: { nVocab: 51864, nAudioState: 384, nAudioLayer: 4, nTextLayer: 4 },
    ftype: 1,
  });
  assert.equal(
    CATALOG["small"].sha1,
    "55356645c2b361a969dfd0ef2c5a50d530afd8d5",
  );
  assert.equal(CATALOG["base.en"].sizeBytes, 147_964_211);
  for (const name of MODEL_NAMES) {
    const e = CATALOG[name];
    assert.equal(e.name, name);
    assert.equal(e.file, `ggml-${name}.bin`);
    assert.match(e.sha1, /^[0-9a-f]{40}$/);
    assert.equal(e.multilingual, !name.includes(".en"));
    assert.equal(e.shape.nVocab, e.multilingual ? 51865 : 51864);
  }
  assert.equal(
    new Set(MODEL_NAMES.map((n) => CATALOG[n].sha1)).size,
    MODEL_NAMES.length,
  );
});

Deno.test("catalog has a q8_0 variant of every f16 model", () => {
  assert.deepEqual(CATALOG["tiny.en-q8_0"], {
    name: "tiny.en-q8_0",
    file: "ggml-tiny.en-q8_0.bin",
    sizeBytes: 43_550_795,
    sha1: "802d6668e7d411123e672abe4cb6c18f12306abb",
    multilingual: false,
    shape: { nVocab: 51864, nAudioState: 384, nAudioLayer: 4, nTextLayer: 4 },
    ftype: 7,
    quantization: { type: "q8_0", from: "tiny.en" },
  });
  for (const base of BASE_MODEL_NAMES) {
    const q = CATALOG[`${base}-q8_0`];
    assert.deepEqual(q.shape, CATALOG[base].shape);
    assert.equal(q.multilingual, CATALOG[base].multilingual);
    assert.deepEqual(q.quantization, { type: "q8_0", from: base });
    // Published q8_0 files are 56 % of the f16 ones (34 bytes per 32
    // weights instead of 64, biases and norms unchanged).
    const ratio = q.sizeBytes / CATALOG[base].sizeBytes;
    assert.ok(ratio > 0.53 && ratio < 0.57, `${base}: ${ratio}`);
    assert.equal(CATALOG[base].quantization, undefined);
  }
});

Deno.test("findCatalogEntry knows catalog names only", () => {
  assert.equal(findCatalogEntry("base")?.file, "ggml-base.bin");
  assert.equal(findCatalogEntry("tiny.en-q8_0")?.file, "ggml-tiny.en-q8_0.bin");
  assert.equal(findCatalogEntry("medium"), undefined);
  assert.equal(findCatalogEntry("tiny.en-q4_0"), undefined);
  assert.equal(findCatalogEntry("../etc/passwd"), undefined);
  assert.equal(isModelName("small.en"), true);
  assert.equal(isModelName("Small.en"), false);
});

Deno.test("the API's and workers' default model is the catalog's", () => {
  assert.equal(ApiConfigSchema.parse({}).DEFAULT_MODEL, DEFAULT_MODEL);
  assert.equal(WorkerConfigSchema.parse({}).DEFAULT_MODEL, DEFAULT_MODEL);
});
