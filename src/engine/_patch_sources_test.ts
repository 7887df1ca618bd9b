import { ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { engineDir } from "../config/mod.ts";
import { EngineError } from "../errors/mod.ts";
import {
  applySourceEdits,
  PATCH_HASH,
  SOURCE_EDITS,
} from "./_patch_sources.ts";
import { ensureEngine, SMART_WHISPER_VERSION } from "./build.ts";

Deno.test("applySourceEdits patches pristine smart-whisper sources once", async () => {
  await ensureEngine(); // leaves the npm tarball in engineDir()
  const tarball = join(
    engineDir(),
    `smart-whisper-${SMART_WHISPER_VERSION}.tgz`,
  );
  const dir = await Deno.makeTempDir({ prefix: "engine-patch-" });
  try {
    const tar = await new Deno.Command("tar", {
      args: [
        "-xzf",
        tarball,
        "-C",
        dir,
        "package/src",
        "package/binding.gyp",
        "package/whisper.cpp/src",
        "package/whisper.cpp/ggml/src",
      ],
    }).output();
    strictEqual(tar.success, true);
    const root = join(dir, "package");
    await applySourceEdits(root);
    for (const edit of SOURCE_EDITS) {
      const text = await Deno.readTextFile(join(root, edit.file));
      ok(text.includes(edit.replace), `${edit.file}: ${edit.why}`);
    }
    const model = await Deno.readTextFile(join(root, "src/binding/model.cc"));
    ok(!model.includes("whisper_print_timings(context)"));
    // Patched sources no longer match: a second run fails loudly.
    await rejects(applySourceEdits(root), EngineError);
    strictEqual(PATCH_HASH.length, 16);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
