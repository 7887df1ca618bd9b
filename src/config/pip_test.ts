import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
} from "../testing/assert.ts";
import { join } from "node:path";
import {
  pipInstall,
  pipInstallArgs,
  PipInstallError,
  pythonModuleVersions,
} from "./pip.ts";

/** A stand-in pip: records its arguments, fails when asked to install "bad". */
const FAKE_PIP = `#!/bin/sh
for a in "$@"; do
  if [ "$a" = "bad==1" ]; then
    echo "Collecting bad==1" >&2
    echo "ERROR: No matching distribution found for bad==1" >&2
    exit 1
  fi
done
printf '%s\\n' "$@" > "$FAKE_PIP_LOG"
`;

async function withFakePip(
  fn: (pip: string, argsLog: string, dir: string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "pip-test-" });
  const pip = join(dir, "fake-pip");
  const argsLog = join(dir, "args.txt");
  await Deno.writeTextFile(pip, FAKE_PIP, { mode: 0o755 });
  Deno.env.set("FAKE_PIP_LOG", argsLog);
  try {
    await fn(pip, argsLog, dir);
  } finally {
    Deno.env.delete("FAKE_PIP_LOG");
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("pipInstallArgs installs into the target folder, --no-deps only when asked", () => {
  assertEquals(
    pipInstallArgs({ requirements: ["a==1", "b==2"], target: "/t" }),
    [
      "install",
      "--target",
      "/t",
      "--upgrade",
      "--disable-pip-version-check",
      "--no-input",
      "a==1",
      "b==2",
    ],
  );
  assert(
    pipInstallArgs({ requirements: ["a==1"], target: "/t", noDeps: true })
      .includes("--no-deps"),
  );
});

Deno.test("pipInstall runs the first pip command that starts and returns its command line", async () => {
  await withFakePip(async (pip, argsLog, dir) => {
    const lines: string[] = [];
    const target = join(dir, "target");
    const ran = await pipInstall({
      requirements: ["openai==9.9.9"],
      target,
      noDeps: true,
      pipCommands: [[join(dir, "no-such-pip")], [pip]],
      log: (l) => lines.push(l),
    });
    const args = [
      "install",
      "--target",
      target,
      "--upgrade",
      "--disable-pip-version-check",
      "--no-input",
      "--no-deps",
      "openai==9.9.9",
    ];
    assertEquals(ran, [pip, ...args].join(" "));
    assertEquals((await Deno.readTextFile(argsLog)).trim().split("\n"), args);
    assertEquals(lines, [
      `running ${join(dir, "no-such-pip")} ${args.join(" ")}`,
      `running ${ran}`,
    ]);
  });
});

Deno.test("pipInstall reports a failing pip with its exit code and stderr, and a missing one as pipMissing", async () => {
  await withFakePip(async (pip, _argsLog, dir) => {
    const failed = await assertRejects(() =>
      pipInstall({
        requirements: ["bad==1"],
        target: join(dir, "t"),
        pipCommands: [[pip], ["python3", "-m", "pip"]],
      })
    );
    assert(failed instanceof PipInstallError);
    assertEquals(failed.pipMissing, false);
    assertMatch(
      failed.message,
      /fake-pip install --target .* bad==1 failed \(exit 1\): Collecting bad==1\nERROR: No matching distribution found for bad==1$/,
    );

    const missing = await assertRejects(() =>
      pipInstall({
        requirements: ["openai==1"],
        target: join(dir, "t"),
        pipCommands: [[join(dir, "nope")], [join(dir, "nope2"), "-m", "pip"]],
      })
    );
    assert(missing instanceof PipInstallError);
    assertEquals(missing.pipMissing, true);
    assertEquals(
      missing.message,
      `cannot install openai==1: pip not found (tried ${join(dir, "nope")}, ${
        join(dir, "nope2")
      } -m pip); install Python 3 with pip`,
    );
  });
});

Deno.test("pythonModuleVersions reads __version__ from the target folder, null when an import fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pip-test-" });
  try {
    assertEquals(
      await pythonModuleVersions(["x"], dir, join(dir, "no-python")),
      null,
    );
    const present = await new Deno.Command("python3", { args: ["-V"] })
      .output().then(() => true, () => false);
    if (!present) {
      console.warn("python3 not installed; pythonModuleVersions not checked");
      return;
    }
    await Deno.writeTextFile(
      join(dir, "stub_one.py"),
      '__version__ = "1.2.3"\n',
    );
    await Deno.mkdir(join(dir, "stub_two"));
    await Deno.writeTextFile(
      join(dir, "stub_two", "__init__.py"),
      "__version__ = (4, 5)\n",
    );
    assertEquals(await pythonModuleVersions(["stub_one", "stub_two"], dir), [
      "1.2.3",
      "(4, 5)",
    ]);
    assertEquals(
      await pythonModuleVersions(["stub_one", "stub_missing"], dir),
      null,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
