/**
 * The README's client snippets (curl, the OpenAI JavaScript SDK, the OpenAI
 * Python SDK) run as written against a real stack, with `BASE` set as the
 * README says and the sample written where the snippet reads it.
 */
import { assert, assertEquals } from "../src/testing/assert.ts";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/config/mod.ts";
import { startStack } from "../src/stack/mod.ts";
import { openAiPythonDir, openAiPythonVersion } from "../src/setup/mod.ts";
import { parseSrt } from "../src/subtitles/mod.ts";
import { words } from "./_client.ts";
import { removeLogs } from "./chaos_helpers.ts";

const README = await Deno.readTextFile(join(PROJECT_ROOT, "README.md"));

/** The README's fenced `lang` block that contains `marker`. */
function snippet(lang: string, marker: string): string {
  const blocks = [...README.matchAll(/```(\w+)\n([\s\S]*?)```/g)]
    .filter((m) => m[1] === lang && m[2]!.includes(marker));
  assert(
    blocks.length === 1,
    `README: ${blocks.length} ${lang} blocks with ${marker}`,
  );
  return blocks[0]![2]!;
}

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("README client snippets run as written", async (t) => {
  const stack = await startStack({ workers: 1 });
  const dir = await Deno.makeTempDir({ prefix: "readme-examples-" });
  const env = { BASE: stack.baseUrl };
  // The snippets read and write /tmp/sample.wav; here a private folder.
  const local = (code: string) =>
    code.replaceAll("/tmp/sample.wav", join(dir, "sample.wav"));
  let failure: unknown;
  try {
    const expected = words("Open the door.");

    await t.step("curl: the sample as SRT", async () => {
      const sh = local(snippet("sh", "/v1/audio/transcriptions"));
      const r = await run(
        "bash",
        ["-euo", "pipefail", "-c", sh],
        env,
        PROJECT_ROOT,
      );
      assertEquals(r.code, 0, r.stderr);
      const cues = parseSrt(r.stdout);
      assertEquals(words(cues.map((c) => c.text).join(" ")), expected);
    });

    await t.step("JavaScript: the OpenAI SDK from npm", async () => {
      const file = join(dir, "example.ts");
      await Deno.writeTextFile(
        file,
        local(snippet("ts", "transcriptions.create")),
      );
      const r = await run(Deno.execPath(), ["run", "-A", file], env, dir);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(words(r.stdout), expected);
    });

    await t.step("Python: the OpenAI SDK (installed by setup)", async () => {
      const installed = await openAiPythonVersion();
      if (installed === null && Deno.env.get("CI") !== "true") {
        console.warn(
          "readme_examples_test: no OpenAI Python SDK; step skipped",
        );
        return;
      }
      const file = join(dir, "example.py");
      await Deno.writeTextFile(
        file,
        local(snippet("python", "transcriptions.create")),
      );
      const r = await run("python3", [file], {
        ...env,
        PYTHONPATH: openAiPythonDir(),
      }, dir);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(words(r.stdout), expected);
    });
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    await stack.stop();
    await Deno.remove(dir, { recursive: true });
    await removeLogs(stack, failure);
  }
});
