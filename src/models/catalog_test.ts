import assert from "node:assert/strict";
import {
  CATALOG,
  DEFAULT_MODEL,
  findCatalogEntry,
  isModelName,
  MODEL_NAMES,
} from "./catalog.ts";

Deno.test("catalog lists the published tiny/base/small ggml files", () => {
  assert.deepEqual(Object.keys(CATALOG).sort(), [...MODEL_NAMES].sort());
  assert.equal(DEFAULT_MODEL, "tiny.en");
  assert.deepEqual(CATALOG["tiny.en"], {
    name: "tiny.en",
    file: "ggml-tiny.en.bin",
    sizeBytes: 77_704_715,
    sha1: "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
    multilingual: false,
    shape: { nVocab: 51864, nAudioState: 384, nAudioLayer: 4, nTextLayer: 4 },
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
    assert.equal(e.multilingual, !name.endsWith(".en"));
    assert.equal(e.shape.nVocab, e.multilingual ? 51865 : 51864);
  }
  assert.equal(new Set(MODEL_NAMES.map((n) => CATALOG[n].sha1)).size, 6);
});

Deno.test("findCatalogEntry knows catalog names only", () => {
  assert.equal(findCatalogEntry("base")?.file, "ggml-base.bin");
  assert.equal(findCatalogEntry("medium"), undefined);
  assert.equal(findCatalogEntry("../etc/passwd"), undefined);
  assert.equal(isModelName("small.en"), true);
  assert.equal(isModelName("Small.en"), false);
});
