/**
 * The README stays true to the tree: its layout table names every folder
 * under src/ and nothing that isn't there, its links point at files that
 * exist, and it stays short enough to read (issue 13: under 15 k characters).
 */
import { assert } from "../src/testing/assert.ts";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/config/mod.ts";

const README = await Deno.readTextFile(join(PROJECT_ROOT, "README.md"));

Deno.test("README layout table names every src/ folder and only existing ones", async () => {
  const table = README.slice(README.indexOf("## Layout"));
  const named = new Set(
    [...table.matchAll(/`(src\/[a-z_]+)\/`/g)].map((m) => m[1]!),
  );
  const folders: string[] = [];
  for await (const e of Deno.readDir(join(PROJECT_ROOT, "src"))) {
    if (e.isDirectory) folders.push(`src/${e.name}`);
  }
  for (const f of folders) assert(named.has(f), `README layout lacks ${f}/`);
  for (const n of named) {
    assert(folders.includes(n), `README layout names ${n}/, not in the tree`);
  }
});

Deno.test("README links and task names point at things that exist", async () => {
  for (const m of README.matchAll(/\]\(((?:docs|perf)\/[^)#]+)\)/g)) {
    const path = join(PROJECT_ROOT, m[1]!);
    assert(
      await Deno.stat(path).then(() => true, () => false),
      `README links to ${m[1]}, which does not exist`,
    );
  }
  const tasks = Object.keys(
    JSON.parse(await Deno.readTextFile(join(PROJECT_ROOT, "deno.json")))
      .tasks,
  );
  for (const m of README.matchAll(/`deno task ([a-z:]+)/g)) {
    assert(
      tasks.includes(m[1]!),
      `README names deno task ${m[1]}, not in deno.json`,
    );
  }
  assert(README.length < 15_000, `README is ${README.length} characters`);
});
