import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { join } from "node:path";
import { PipInstallError } from "../config/mod.ts";
import {
  ensureOpenAiPython,
  OPENAI_PYTHON_VERSION,
  openAiPythonDir,
} from "./openai_python.ts";

Deno.test("openAiPythonDir is project-local under the cache", () => {
  assert(openAiPythonDir().endsWith("/pip-openai"), openAiPythonDir());
});

Deno.test("ensureOpenAiPython finds the pinned version without running pip", async () => {
  const python = await new Deno.Command("python3", { args: ["-V"] }).output()
    .then(() => true, () => false);
  if (!python) {
    console.warn("python3 not installed; ensureOpenAiPython not checked");
    return;
  }
  const target = await Deno.makeTempDir({ prefix: "openai-py-test-" });
  try {
    await Deno.mkdir(join(target, "openai"));
    await Deno.writeTextFile(
      join(target, "openai", "__init__.py"),
      `__version__ = "${OPENAI_PYTHON_VERSION}"\n`,
    );
    const lines: string[] = [];
    assertEquals(
      await ensureOpenAiPython({ target, log: (l) => lines.push(l) }),
      { target, version: OPENAI_PYTHON_VERSION, installedNow: false },
    );
    assertEquals(lines, []);
  } finally {
    await Deno.remove(target, { recursive: true });
  }
});

Deno.test("ensureOpenAiPython without Python is a PipInstallError marked pipMissing", async () => {
  const target = await Deno.makeTempDir({ prefix: "openai-py-test-" });
  try {
    const error = await assertRejects(() =>
      ensureOpenAiPython({ target, python: join(target, "no-python3") })
    );
    assert(error instanceof PipInstallError);
    assertEquals(error.pipMissing, true);
    assert(error.message.includes(`openai==${OPENAI_PYTHON_VERSION}`));
  } finally {
    await Deno.remove(target, { recursive: true });
  }
});
