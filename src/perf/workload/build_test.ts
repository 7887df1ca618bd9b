import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import { encodeWav } from "../../audio/mod.ts";
import { buildWorkload, classNameOf, MANIFEST_FILE } from "./build.ts";
import { resolveWorkload } from "./spec.ts";

const second = (s: number) =>
  encodeWav(new Float32Array(16_000 * s), { sampleRate: 16_000 });

Deno.test("buildWorkload: a folder is one class per file, with its transcript when there is one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wl-build-" });
  try {
    const calls = join(dir, "calls");
    await Deno.mkdir(calls);
    await Deno.writeFile(join(calls, "short call.wav"), second(2));
    await Deno.writeTextFile(join(calls, "short call.txt"), "Hello there.\n");
    await Deno.writeFile(join(calls, "b.wav"), second(3));
    await Deno.writeTextFile(join(calls, "notes.md"), "not audio");
    const said: string[] = [];
    const { path, manifest } = await buildWorkload(
      resolveWorkload(calls) as { kind: "dir"; dir: string },
      join(dir, "out"),
      (l) => said.push(l),
    );
    assertEquals(path, join(dir, "out", MANIFEST_FILE));
    assertEquals(JSON.parse(await Deno.readTextFile(path)), manifest);
    assertEquals(manifest.id, "dir:calls");
    assertEquals(
      manifest.classes.map((c) => [c.name, c.weight, c.duration_s, c.text]),
      [["b", 1, 3, null], ["short_call", 1, 2, "Hello there."]],
    );
    assertEquals(manifest.classes[1]?.filename, "short call.wav");
    assertMatch(said.join("\n"), /short_call \(2\.0 s, weight 1\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildWorkload: a spec's classes, files relative to it, long recordings left out without espeak-ng", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wl-build-" });
  const path = Deno.env.get("PATH")!;
  try {
    await Deno.writeFile(join(dir, "mine.wav"), second(1));
    await Deno.writeTextFile(join(dir, "mine.txt"), "one two");
    const spec = join(dir, "night.json");
    await Deno.writeTextFile(
      spec,
      JSON.stringify({
        classes: [
          { name: "1s", source: "sample", weight: 5 },
          { name: "mine", source: "file:mine.wav", weight: 2, max_wer: 0.1 },
          { name: "clip", source: "clips:4", weight: 1 },
          { name: "2min", source: "long:2min", weight: 1 },
        ],
      }),
    );
    // No espeak-ng on PATH: the corpus can't even be checked.
    Deno.env.set("PATH", join(dir, "empty"));
    const said: string[] = [];
    const { manifest } = await buildWorkload(
      { kind: "spec", spec },
      join(dir, "out"),
      (l) => said.push(l),
    );
    Deno.env.set("PATH", path);
    assertEquals(manifest.id, "spec:night");
    assertEquals(manifest.classes.map((c) => [c.name, c.weight, c.max_wer]), [
      ["1s", 5, 0.3],
      ["mine", 2, 0.1],
      ["clip", 1, 0.3],
    ]);
    assertEquals(manifest.classes[0]?.text, "Open the door.");
    assertEquals(manifest.classes[1]?.text, "one two");
    const clip = manifest.classes[2]!;
    assert(clip.duration_s >= 4 && clip.duration_s < 7, `${clip.duration_s}`);
    assert((await Deno.stat(clip.audio)).size > 16_000 * 2 * 4);
    assertEquals(manifest.left_out.map((l) => l.name), ["2min"]);
    assertMatch(
      said.join("\n"),
      /warning: workload class 2min left out: espeak-ng is missing/,
    );
    // Nothing left at all is an error naming the spec.
    const only = join(dir, "only.json");
    await Deno.writeTextFile(
      only,
      JSON.stringify({
        classes: [{ name: "8min", source: "long:8min", weight: 1 }],
      }),
    );
    Deno.env.set("PATH", join(dir, "empty"));
    let message = "";
    await buildWorkload({ kind: "spec", spec: only }, join(dir, "o2"), () => {})
      .catch((e) => {
        assert(e instanceof ConfigError);
        message = e.message;
      });
    assertMatch(message, /only\.json: no class could be built \(8min: /);
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("classNameOf keeps tag-safe characters", () => {
  assertEquals(classNameOf("/x/My Call {1}.flac"), "My_Call_1_");
  assertEquals(classNameOf("/x/_.wav"), "audio");
  assertEquals(classNameOf("/x/a.b-c.mp3"), "a.b-c");
});
