import { ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { engineDir } from "../config/mod.ts";
import { EngineError } from "../errors/mod.ts";
import {
  applyPatch,
  applyPatches,
  parsePatch,
  PATCH_HASH,
  PATCH_LEVEL,
  PATCHES,
} from "./patches.ts";
import { ensureEngine, SMART_WHISPER_VERSION } from "./build.ts";

Deno.test("parsePatch reads files and hunks after a description", () => {
  const files = parsePatch(
    "why: a description\n- not a file line\n\n" +
      "--- a/x.c\n+++ b/x.c\n@@ -2,3 +2,4 @@\n a\n-b\n+B\n+B2\n c\n" +
      "--- a/y.c\n+++ b/y.c\n@@ -1 +1 @@\n-old\n+new\n",
  );
  strictEqual(files.length, 2);
  strictEqual(files[0]!.file, "x.c");
  strictEqual(files[0]!.hunks[0]!.oldStart, 2);
  strictEqual(files[0]!.hunks[0]!.oldLines.join("|"), "a|b|c");
  strictEqual(files[0]!.hunks[0]!.newLines.join("|"), "a|B|B2|c");
  strictEqual(files[1]!.hunks[0]!.newLines.join("|"), "new");
});

Deno.test("applyPatch finds moved hunks and refuses ones that don't match", async () => {
  const dir = await Deno.makeTempDir({ prefix: "engine-patch-unit-" });
  try {
    const path = join(dir, "x.c");
    const patch = {
      name: "t.patch",
      text: "--- a/x.c\n+++ b/x.c\n@@ -2,3 +2,3 @@\n a\n-b\n+B\n c\n",
    };
    // Two lines more above the hunk than it says: found by its content.
    await Deno.writeTextFile(path, "0\n1\n2\na\nb\nc\nd\n");
    await applyPatch(dir, patch);
    strictEqual(await Deno.readTextFile(path), "0\n1\n2\na\nB\nc\nd\n");
    // Applied already: the old lines are gone, so it fails loudly.
    await rejects(applyPatch(dir, patch), EngineError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the engine patches apply to pristine smart-whisper sources once", async () => {
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
    await applyPatches(root);
    strictEqual(
      PATCHES.map((p) => p.name).join(","),
      "01-binding.patch,02-loader.patch,03-speed.patch,04-flash-attn.patch,05-time-limit.patch,06-state-pool.patch,07-encoder-sgemm.patch,08-mel.patch,09-thread-cpu.patch,10-reseed.patch",
    );
    const binding = await Deno.readTextFile(
      join(root, "src/binding/binding.cc"),
    );
    ok(binding.includes(`"${PATCH_LEVEL}"`), "the patch marker is in");
    const model = await Deno.readTextFile(join(root, "src/binding/model.cc"));
    ok(!model.includes("whisper_print_timings(context)"));
    const whisper = await Deno.readTextFile(
      join(root, "whisper.cpp/src/whisper.cpp"),
    );
    ok(whisper.includes("whisper_service_state_timings"));
    ok(whisper.includes("wstate.flash_attn"));
    // Patch 10: the first decoder is reseeded per call, not only per state.
    strictEqual(
      whisper.split("state->decoders[0].rng = std::mt19937(0);").length - 1,
      2,
    );
    const transcribe = await Deno.readTextFile(
      join(root, "src/binding/transcribe.cc"),
    );
    ok(transcribe.includes("params.abort_callback = "));
    // Patched sources no longer match: a second run fails loudly.
    await rejects(applyPatches(root), EngineError);
    strictEqual(PATCH_HASH.length, 16);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
