/**
 * Our fixes to smart-whisper 0.8.1's native sources, as unified diffs in
 * `patches/` (read them there: each opens with what it changes and why),
 * applied in name order to the extracted package before it is compiled.
 *
 * The applier is ours and strict: every hunk's old lines must be found
 * exactly (at the stated line, or else once anywhere in the file), so a
 * different upstream version fails loudly instead of being half-patched.
 * {@linkcode PATCH_HASH} goes into the build stamp, so changing a patch
 * triggers a rebuild.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { EngineError } from "../errors/mod.ts";

/** Value exported by the patched binding as `patchLevel` (set in 01-binding.patch). */
export const PATCH_LEVEL = "whisper-service-7";

const PATCH_DIR = new URL("./patches/", import.meta.url);

/** One patch file: its name and text. */
export interface PatchFile {
  name: string;
  text: string;
}

/** The patch files, in the order they apply. */
export const PATCHES: readonly PatchFile[] = [...Deno.readDirSync(PATCH_DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".patch"))
  .map((e) => e.name)
  .sort()
  .map((name) => ({
    name,
    text: Deno.readTextFileSync(new URL(name, PATCH_DIR)),
  }));

/** sha256 (hex, first 16) of the patches; changes whenever a patch changes. */
export const PATCH_HASH: string = createHash("sha256")
  .update(JSON.stringify(PATCHES))
  .digest("hex")
  .slice(0, 16);

/** One hunk of a unified diff. */
interface Hunk {
  /** 1-based first line of the old text. */
  oldStart: number;
  oldLines: string[];
  newLines: string[];
  header: string;
}

/** The files a unified diff changes, with their hunks. */
export function parsePatch(
  text: string,
  name = "patch",
): { file: string; hunks: Hunk[] }[] {
  const lines = text.split("\n");
  const files: { file: string; hunks: Hunk[] }[] = [];
  let i = 0;
  const fail = (why: string) =>
    new EngineError(`${name}:${i + 1}: ${why} (not a unified diff?)`);
  while (i < lines.length) {
    if (!lines[i]!.startsWith("--- ")) {
      i++; // description before the first file, or trailing text
      continue;
    }
    const plus = lines[i + 1] ?? "";
    if (!plus.startsWith("+++ ")) throw fail("expected a +++ line");
    const file = plus.slice(4).trim().replace(/^b\//, "").split("\t")[0]!;
    const entry = { file, hunks: [] as Hunk[] };
    files.push(entry);
    i += 2;
    while (i < lines.length && lines[i]!.startsWith("@@ ")) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(lines[i]!);
      if (!m) throw fail("bad hunk header");
      const hunk: Hunk = {
        oldStart: Number(m[1]),
        oldLines: [],
        newLines: [],
        header: lines[i]!,
      };
      let oldLeft = m[2] === undefined ? 1 : Number(m[2]);
      let newLeft = m[4] === undefined ? 1 : Number(m[4]);
      i++;
      while (oldLeft > 0 || newLeft > 0) {
        const line = lines[i];
        if (line === undefined) throw fail("hunk cut short");
        const body = line.slice(1);
        if (line.startsWith(" ") || line === "") {
          hunk.oldLines.push(body);
          hunk.newLines.push(body);
          oldLeft--;
          newLeft--;
        } else if (line.startsWith("-")) {
          hunk.oldLines.push(body);
          oldLeft--;
        } else if (line.startsWith("+")) {
          hunk.newLines.push(body);
          newLeft--;
        } else if (!line.startsWith("\\")) {
          throw fail(`unexpected line in hunk: ${line.slice(0, 40)}`);
        }
        i++;
      }
      entry.hunks.push(hunk);
    }
  }
  return files;
}

/** Where `block` occurs in `lines`: at `hint` if it does, else its only place. */
function locate(lines: string[], block: string[], hint: number): number {
  const at = (p: number) =>
    p >= 0 && p + block.length <= lines.length &&
    block.every((l, k) => lines[p + k] === l);
  if (at(hint)) return hint;
  const found: number[] = [];
  for (let p = 0; p + block.length <= lines.length; p++) {
    if (at(p)) found.push(p);
  }
  return found.length === 1 ? found[0]! : -1;
}

/** Applies one patch's hunks to the files under `root`. */
export async function applyPatch(
  root: string,
  patch: PatchFile,
): Promise<void> {
  for (const { file, hunks } of parsePatch(patch.text, patch.name)) {
    const path = join(root, file);
    const lines = (await Deno.readTextFile(path)).split("\n");
    let offset = 0;
    for (const h of hunks) {
      const p = locate(lines, h.oldLines, h.oldStart - 1 + offset);
      if (p < 0) {
        throw new EngineError(
          `${patch.name}: ${file}: hunk ${h.header} does not apply ` +
            `(its lines are not in the file exactly once); is this smart-whisper 0.8.1, unpatched?`,
        );
      }
      lines.splice(p, h.oldLines.length, ...h.newLines);
      offset = p - (h.oldStart - 1) + h.newLines.length - h.oldLines.length;
    }
    await Deno.writeTextFile(path, lines.join("\n"));
  }
}

/**
 * Applies {@linkcode PATCHES} in order to the pristine package at `root`.
 * @throws {EngineError} when a hunk does not apply.
 */
export async function applyPatches(root: string): Promise<void> {
  for (const patch of PATCHES) await applyPatch(root, patch);
}
