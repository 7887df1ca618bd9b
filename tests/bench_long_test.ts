/**
 * `deno task bench:long`'s command line as users type it: a bad `--voices`
 * (or one the engine alone can't measure, or a voice espeak-ng doesn't
 * know) stops it with exit 2 and a message naming the flag and the entry,
 * before any stack starts. The measurement itself is a benchmark, run by
 * hand (docs/performance.md).
 */
import { assertEquals, assertMatch } from "../src/testing/assert.ts";
import { join } from "node:path";

const TASK = join(import.meta.dirname!, "..", "src", "tasks", "bench_long.ts");

async function benchLong(args: string[], resultsDir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TASK, ...args],
    env: { PERF_RESULTS_DIR: resultsDir },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, err: new TextDecoder().decode(out.stderr) };
}

Deno.test("bench:long refuses a bad --voices with exit 2, naming it, before starting anything", async () => {
  const resultsDir = await Deno.makeTempDir({ prefix: "bench-long-test-" });
  try {
    const cases: [string[], RegExp][] = [
      [["--voices", "en-gb"], /--voices: "en-gb" is not VOICE:SPEED/],
      [["--voices", "en-us:180,en-gb:20"], /--voices: "en-gb:20" is not/],
      [
        ["--voices", "en-gb:160", "--engine-streams", "0"],
        /--voices needs the engine alone/,
      ],
      [
        ["--recordings", "2min", "--voices", "xx-nosuchvoice:160"],
        /--voices xx-nosuchvoice:160: espeak-ng can't speak it: .*-v xx-nosuchvoice/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await benchLong(args, resultsDir);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.err.slice(-1500)}`);
      assertMatch(r.err, message);
      assertEquals(
        r.err.includes("starting the stack"),
        false,
        `${args.join(" ")}: no stack started`,
      );
    }
  } finally {
    await Deno.remove(resultsDir, { recursive: true });
  }
});
