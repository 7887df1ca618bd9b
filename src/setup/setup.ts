/**
 * Idempotent provisioning of everything external: redis-server, the native
 * whisper.cpp engine, the Whisper model (and, for perf runs, k6; for
 * `deno task setup`, the OpenAI Python SDK). Each step reports what it found
 * or installed; a second run finds everything at once.
 */
import { ConfigError } from "../errors/mod.ts";
import { PipInstallError } from "../config/mod.ts";
import { ensureEngine } from "../engine/mod.ts";
import { DEFAULT_MODEL, ensureModel } from "../models/mod.ts";
import { findRedisServer } from "../stack/redis_server.ts";
import { ensureK6 } from "./k6_install.ts";
import {
  ensureOpenAiPython,
  OPENAI_PYTHON_REQUIREMENT,
} from "./openai_python.ts";
import { mib, ProgressBar } from "../cli/mod.ts";

/** What to provision. */
export interface SetupOptions {
  /** Models to install. @default [DEFAULT_MODEL] (tiny.en-q8_0, made from tiny.en) */
  models?: string[];
  /** Allow `apt-get install` for missing OS packages. @default true when root */
  allowApt?: boolean;
  /** Provision k6 too. @default true */
  k6?: boolean;
  /**
   * Provision the OpenAI Python SDK (optional: needs python3 with pip) for
   * `examples/openai_python.py` and its test. `deno task setup` (and so
   * `deno task test`) turns it on. @default false
   */
  openAiPython?: boolean;
  /**
   * Install chromium (optional, a Debian package) for the report page's
   * headless-browser test and the run's screenshot (`report.png`).
   * `deno task setup` (and so `deno task test`) turns it on. @default false
   */
  browser?: boolean;
  /** Extra steps. */
  extraSteps?: SetupStep[];
  /** Where messages go. @default stderr */
  say?: (line: string) => void;
}

/** One provisioning step. */
export interface SetupStep {
  name: string;
  run: (say: (line: string) => void) => Promise<string>;
}

/** Runs every step; throws {@linkcode ConfigError} naming what is missing. */
export async function setup(options: SetupOptions = {}): Promise<void> {
  const say = options.say ?? ((line: string) => console.error(line));
  const models = options.models ?? [DEFAULT_MODEL];
  const steps: SetupStep[] = [
    {
      name: "redis-server",
      run: (s) => ensureRedisServer(options.allowApt, s),
    },
    {
      name: "ffmpeg (optional)",
      run: (s) =>
        ensureOptionalPackage(
          "ffmpeg",
          "only WAV uploads will be accepted",
          options.allowApt,
          s,
        ),
    },
    {
      name: "espeak-ng (optional)",
      run: (s) =>
        ensureOptionalPackage(
          "espeak-ng",
          "the accuracy corpus can't be regenerated or checked byte for byte",
          options.allowApt,
          s,
        ),
    },
    ...(options.browser
      ? [{
        name: "chromium (optional)",
        run: (s: (line: string) => void) =>
          ensureOptionalPackage(
            "chromium",
            "perf runs save no report.png and the report page's browser test is ignored (fails in CI)",
            options.allowApt,
            s,
          ),
      }]
      : []),
    { name: "engine", run: () => provisionEngine() },
    ...models.map((m) => ({
      name: `model ${m}`,
      run: () => provisionModel(m),
    })),
    ...(options.k6 === false ? [] : [{ name: "k6", run: provisionK6 }]),
    ...(options.openAiPython
      ? [{ name: "OpenAI Python SDK (optional)", run: provisionOpenAiPython }]
      : []),
    ...(options.extraSteps ?? []),
  ];
  for (const step of steps) {
    const t0 = performance.now();
    const what = await step.run(say);
    say(
      `setup: ${step.name}: ${what} (${Math.round(performance.now() - t0)} ms)`,
    );
  }
}

async function ensureRedisServer(
  allowApt: boolean | undefined,
  say: (line: string) => void,
): Promise<string> {
  const found = await findRedisServer();
  if (found) return `found (${found.split(" ").slice(0, 3).join(" ")})`;
  const root = Deno.uid?.() === 0;
  if (!(allowApt ?? root) || !(await hasCommand("apt-get"))) {
    throw new ConfigError(
      "redis-server is not installed: install the Debian package redis-server " +
        "(sudo apt-get install -y redis-server), then run deno task setup again",
    );
  }
  say(
    "setup: redis-server missing; installing the Debian package redis-server",
  );
  let result = await aptInstall(["redis-server"]);
  if (!result.ok) {
    await run("apt-get", ["update", "-qq"]);
    result = await aptInstall(["redis-server"]);
  }
  if (!result.ok || !(await findRedisServer())) {
    throw new ConfigError(
      `apt-get install redis-server failed:\n${result.tail}`,
    );
  }
  return "installed (apt-get)";
}

/**
 * An optional Debian package (command and package share the name): ffmpeg
 * decodes mp3/flac/ogg/m4a/webm (without it those uploads get 415);
 * espeak-ng regenerates the accuracy corpus; chromium renders the report
 * page headless. Installed with apt-get when permitted; otherwise `without`
 * says what is missing.
 */
async function ensureOptionalPackage(
  name: string,
  without: string,
  allowApt: boolean | undefined,
  say: (line: string) => void,
): Promise<string> {
  if (await hasCommand(name)) return "found";
  const root = Deno.uid?.() === 0;
  if (!(allowApt ?? root) || !(await hasCommand("apt-get"))) {
    return `not installed: ${without} (install the Debian package ${name})`;
  }
  say(`setup: ${name} missing; installing the Debian package ${name}`);
  let result = await aptInstall([name]);
  if (!result.ok) {
    await run("apt-get", ["update", "-qq"]);
    result = await aptInstall([name]);
  }
  return result.ok
    ? "installed (apt-get)"
    : `not installed (apt-get failed: ${result.tail})`;
}

async function provisionEngine(): Promise<string> {
  const bar = new ProgressBar("setup: building whisper.cpp engine");
  let built = false;
  const path = await ensureEngine({
    onProgress: (p) => {
      built = true;
      bar.update(p.fraction, p.message.slice(0, 50));
    },
  });
  if (built) bar.finish("built");
  return `${built ? "built" : "found"} ${path}`;
}

async function provisionModel(name: string): Promise<string> {
  const bars = new Map<string, ProgressBar>();
  let acted = false;
  const path = await ensureModel(name, {
    onProgress: (p) => {
      acted = true;
      let bar = bars.get(p.stage);
      if (!bar) {
        bars.set(p.stage, bar = new ProgressBar(`setup: ${p.stage} ${name}`));
      }
      bar.update(
        p.total ? p.done / p.total : 0,
        p.total ? `${mib(p.done)} / ${mib(p.total)}` : mib(p.done),
      );
    },
    log: (line: string) => console.error(`setup: ${line}`),
  });
  for (const bar of bars.values()) bar.finish("done");
  return `${acted ? "installed" : "found"} ${path}`;
}

/** k6 for `deno task perf`: found, downloaded, or built with `go install`. */
export async function provisionK6(
  say: (line: string) => void = console.error,
): Promise<string> {
  const bar = new ProgressBar("setup: k6");
  let acted = false;
  const path = await ensureK6({
    onProgress: (fraction, detail) => {
      acted = true;
      bar.update(fraction, detail);
    },
    log: (m) => say(`setup: k6: ${m}`),
  });
  if (acted) bar.finish("ready");
  return `${acted ? "installed" : "found"} ${path}`;
}

/**
 * The pip package `openai` (pinned) in `<cache>/pip-openai`. Optional: when
 * python3 or pip is missing, or pip fails, setup goes on and says what
 * can't run.
 */
async function provisionOpenAiPython(
  say: (line: string) => void,
): Promise<string> {
  try {
    const sdk = await ensureOpenAiPython({
      log: (m) => say(`setup: OpenAI Python SDK: ${m}`),
    });
    return `${
      sdk.installedNow ? "installed" : "found"
    } openai ${sdk.version} in ${sdk.target}`;
  } catch (error) {
    if (!(error instanceof PipInstallError)) throw error;
    const why = error.pipMissing
      ? "python3 not found (install Python 3 with pip)"
      : error.message;
    return `not installed: ${OPENAI_PYTHON_REQUIREMENT}: ${why}; ` +
      "examples/openai_python.py and tests/openai_python_test.ts can't run";
  }
}

async function aptInstall(
  pkgs: string[],
): Promise<{ ok: boolean; tail: string }> {
  return await run("apt-get", ["install", "-y", "-qq", ...pkgs], {
    DEBIAN_FRONTEND: "noninteractive",
  });
}

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ok: boolean; tail: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return {
    ok: out.success,
    tail: text.trim().split("\n").slice(-10).join("\n"),
  };
}

/** True when `cmd` can be run. */
export async function hasCommand(cmd: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `command -v ${cmd}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}
