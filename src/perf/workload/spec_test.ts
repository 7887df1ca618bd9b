import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import { encodeWav } from "../../audio/mod.ts";
import { perfOptionsFrom } from "../run_options.ts";
import {
  loadWorkloadSpec,
  MIXED_SPEC,
  parseWorkloadSpec,
  resolveWorkload,
  workloadId,
} from "./spec.ts";

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert(error instanceof ConfigError, `a ConfigError, got ${error}`);
    return error.message;
  }
  throw new Error("no error thrown");
}

Deno.test("the committed mixed spec: mostly 1 s, rare long recordings", async () => {
  const spec = await loadWorkloadSpec(MIXED_SPEC);
  assertEquals(
    spec.classes.map((c) => [c.name, c.source, c.weight]),
    [
      ["1s", "sample", 90],
      ["15s", "clips:15", 7],
      ["2min", "long:2min", 2],
      ["8min", "long:8min", 1],
    ],
  );
});

Deno.test("parseWorkloadSpec names the file and the field", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["not JSON", "{", /^my\.json: is not valid JSON/],
    ["no classes", {}, /^my\.json: classes must be a list of classes/],
    ["empty", { classes: [] }, /^my\.json: classes must have at least one/],
    [
      "weight",
      { classes: [{ name: "a", source: "sample", weight: 1.5 }] },
      /^my\.json: classes\.0\.weight must be a positive integer/,
    ],
    [
      "zero weight",
      {
        classes: [
          { name: "a", source: "sample", weight: 1 },
          { name: "b", source: "sample", weight: 0 },
        ],
      },
      /^my\.json: classes\.1\.weight must be a positive integer/,
    ],
    [
      "source",
      { classes: [{ name: "a", source: "http://x/a.wav", weight: 1 }] },
      /^my\.json: classes\.0\.source must be sample, clips:<seconds>, long:<name> or file:<path>/,
    ],
    [
      "name",
      { classes: [{ name: "a b}", source: "sample", weight: 1 }] },
      /^my\.json: classes\.0\.name must be 1-40 characters/,
    ],
    [
      "repeated name",
      {
        classes: [
          { name: "a", source: "sample", weight: 1 },
          { name: "a", source: "clips:5", weight: 1 },
        ],
      },
      /^my\.json: classes\.1\.name repeats the class name "a"/,
    ],
    [
      "unknown field",
      { classes: [{ name: "a", source: "sample", weight: 1, wieght: 2 }] },
      /^my\.json: classes\.0/,
    ],
    [
      "max_wer",
      { classes: [{ name: "a", source: "sample", weight: 1, max_wer: 2 }] },
      /^my\.json: classes\.0\.max_wer/,
    ],
  ];
  for (const [name, raw, re] of cases) {
    await t.step(name, () => {
      const text = typeof raw === "string" ? raw : JSON.stringify(raw);
      assertMatch(configError(() => parseWorkloadSpec(text, "my.json")), re);
    });
  }
  await t.step("a valid spec", () => {
    const spec = parseWorkloadSpec(
      JSON.stringify({
        classes: [{ name: "a", source: "file:x.flac", weight: 3 }],
      }),
      "my.json",
    );
    assertEquals(spec.classes[0]?.max_wer, undefined);
  });
});

Deno.test("resolveWorkload: named workloads, spec files and folders", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "wl-" });
  try {
    await t.step("named", () => {
      assertEquals(resolveWorkload(undefined), { kind: "sample" });
      assertEquals(resolveWorkload("sample"), { kind: "sample" });
      assertEquals(resolveWorkload("mixed"), {
        kind: "mixed",
        spec: MIXED_SPEC,
      });
      assertEquals(workloadId(resolveWorkload("mixed")), "mixed");
    });
    await t.step("a bad value names --workload", () => {
      assertMatch(
        configError(() => resolveWorkload("mixd")),
        /^--workload: must be sample, mixed, a workload spec \(\.json\) or a folder of audio files, got "mixd"/,
      );
    });
    await t.step("a folder without audio names the folder", async () => {
      const empty = join(dir, "calls");
      await Deno.mkdir(empty);
      await Deno.writeTextFile(join(empty, "notes.txt"), "hello");
      assertMatch(
        configError(() => resolveWorkload(empty)),
        new RegExp(`^--workload: the folder ${empty} has no audio files`),
      );
    });
    await t.step("a folder with audio, a spec file", async () => {
      const calls = join(dir, "calls");
      await Deno.writeFile(
        join(calls, "a.wav"),
        encodeWav(new Float32Array(1600), { sampleRate: 16_000 }),
      );
      const ref = resolveWorkload(calls);
      assertEquals(ref, { kind: "dir", dir: calls });
      assertEquals(workloadId(ref), "dir:calls");
      const spec = join(dir, "night.json");
      await Deno.writeTextFile(spec, "{}");
      assertEquals(workloadId(resolveWorkload(spec)), "spec:night");
      assertMatch(
        configError(() => resolveWorkload(join(calls, "a.wav"))),
        /^--workload: ".*a\.wav" is a file but not a workload spec/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("perfOptionsFrom reads --workload and refuses what doesn't fit", () => {
  const env = () => undefined;
  assertEquals(perfOptionsFrom({}, env).workload, undefined);
  assertEquals(
    perfOptionsFrom({ workload: "sample" }, env).workload,
    undefined,
  );
  assertEquals(perfOptionsFrom({ workload: "mixed" }, env).workload, {
    kind: "mixed",
    spec: MIXED_SPEC,
  });
  assertMatch(
    configError(() => perfOptionsFrom({ workload: "nope" }, env)),
    /^--workload: /,
  );
  assertMatch(
    configError(() =>
      perfOptionsFrom({ workload: "mixed", api: "openai" }, env)
    ),
    /--workload mixed drives the native protocol; it can't be combined with --api openai/,
  );
});

Deno.test("a workload other than the sample has its own defaults; flags and variables win", () => {
  const none = () => undefined;
  const mixed = perfOptionsFrom({ workload: "mixed" }, none);
  assertEquals([mixed.rate, mixed.vus, mixed.maxVus], [2, 8, 16]);
  const sample = perfOptionsFrom({}, none);
  assertEquals([sample.rate, sample.vus, sample.maxVus], [3, 4, 12]);
  const flagged = perfOptionsFrom({ workload: "mixed", rate: "1" }, none);
  assertEquals(flagged.rate, 1);
  const env = perfOptionsFrom(
    { workload: "mixed" },
    (n) => n === "ARRIVAL_RATE" ? "5" : undefined,
  );
  assertEquals(env.rate, 5);
});
