/**
 * Builds smart-whisper's native addon project-locally: fetch the npm package
 * sources, apply our native fixes, compile with node-gyp and the CPU's
 * vector extensions, and stamp the result so the next call is instant.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { engineDir, pathExists } from "../config/mod.ts";
import { EngineError } from "../errors/mod.ts";
import { applyPatches, PATCH_HASH } from "./patches.ts";
import { cpuFlags } from "./cpu_flags.ts";

/** The smart-whisper version we build (its sources bundle whisper.cpp). */
export const SMART_WHISPER_VERSION = "0.8.1";
/** node-addon-api version installed next to the sources (headers only). */
export const NODE_ADDON_API_VERSION = "7.1.1";
/** node-gyp version run through npx. */
export const NODE_GYP_VERSION = "11.4.2";
/**
 * Added to every C/C++ compile. node-gyp's Release config leaves NDEBUG
 * undefined, which keeps ggml's debug prints to stderr on every graph
 * reallocation (`ggml_gallocr_needs_realloc: ...`). GGML_USE_LLAMAFILE
 * turns on ggml's tinyBLAS matrix products (sgemm.cpp, added to the
 * sources by a source edit): the encoder runs ~1.5× faster.
 */
const OPT_FLAGS = ["-O3", "-DNDEBUG", "-DGGML_USE_LLAMAFILE"] as const;
/** Name of the stamp file inside the package folder. */
const STAMP_FILE = ".whisper-service-stamp.json";
/** Relative path of the compiled addon inside the package folder. */
const ADDON_PATH = "build/Release/smart-whisper.node";
/**
 * Objects the build compiles: 4 binding + 6 whisper/ggml + sgemm +
 * node-addon-api.
 */
const EXPECTED_OBJECTS = 12;

/** One progress report of {@linkcode ensureEngine}. */
export interface BuildProgress {
  /** What the build is doing. */
  phase: "fetch" | "patch" | "configure" | "compile" | "link" | "done";
  /** Overall completion in [0, 1]. */
  fraction: number;
  /** Human-readable detail, e.g. the file being compiled. */
  message: string;
}

/** Options of {@linkcode ensureEngine}. */
export interface EnsureEngineOptions {
  /** Called as the build advances (only when a build actually runs). */
  onProgress?: (progress: BuildProgress) => void;
  /** Receives every line of npm / node-gyp / compiler output. */
  log?: (line: string) => void;
  /** Rebuild even when the stamp matches. @default false */
  force?: boolean;
  /**
   * Extra compiler flags for the CPU's vector extensions.
   * @default cpuFlags() (AVX, AVX2, FMA, F16C as the CPU lists them)
   */
  cpuFlags?: readonly string[];
  /** Folder to build in. @default engineDir() */
  dir?: string;
}

/** What the stamp records; any difference triggers a rebuild. */
interface Stamp {
  smartWhisper: string;
  nodeAddonApi: string;
  nodeGyp: string;
  flags: string[];
  patchHash: string;
  binding: string;
}

/** Folder holding the extracted, patched sources for `dir`. */
export function packageDir(dir: string = engineDir()): string {
  return join(dir, `smart-whisper-${SMART_WHISPER_VERSION}`);
}

const inflight = new Map<string, Promise<string>>();

/**
 * Returns the path of the built `smart-whisper.node`, building it first when
 * it is missing or was built from other sources, patches or flags.
 *
 * Concurrent calls in one process share one build; across processes a lock
 * file in the build folder serialises them.
 *
 * @throws {EngineError} when fetching or compiling fails (the message ends
 *   with the last lines of the tool output).
 */
export function ensureEngine(
  options: EnsureEngineOptions = {},
): Promise<string> {
  const dir = options.dir ?? engineDir();
  const flags = [...OPT_FLAGS, ...(options.cpuFlags ?? cpuFlags())];
  const key = `${dir}\0${flags.join(" ")}\0${options.force ? 1 : 0}`;
  let job = inflight.get(key);
  if (!job) {
    job = ensureLocked(dir, flags, options).finally(() => inflight.delete(key));
    inflight.set(key, job);
  }
  return job;
}

async function ensureLocked(
  dir: string,
  flags: string[],
  options: EnsureEngineOptions,
): Promise<string> {
  const want = stampFor(flags);
  const pkg = packageDir(dir);
  const addon = join(pkg, ADDON_PATH);
  if (!options.force && await stampMatches(pkg, addon, want)) return addon;

  await Deno.mkdir(dir, { recursive: true });
  const release = await acquireLock(join(dir, ".build.lock"));
  try {
    // Another process may have built it while we waited for the lock.
    if (!options.force && await stampMatches(pkg, addon, want)) return addon;
    await build(dir, pkg, want, options);
    return addon;
  } finally {
    await release();
  }
}

function stampFor(flags: string[]): Stamp {
  const binding = createHash("sha256").update(bindingGypEdit(flags).replace)
    .digest("hex").slice(0, 16);
  return {
    smartWhisper: SMART_WHISPER_VERSION,
    nodeAddonApi: NODE_ADDON_API_VERSION,
    nodeGyp: NODE_GYP_VERSION,
    flags,
    patchHash: PATCH_HASH,
    binding,
  };
}

async function stampMatches(
  pkg: string,
  addon: string,
  want: Stamp,
): Promise<boolean> {
  try {
    const [text] = await Promise.all([
      Deno.readTextFile(join(pkg, STAMP_FILE)),
      Deno.stat(addon),
    ]);
    return text.trim() === JSON.stringify(want);
  } catch {
    return false;
  }
}

/**
 * The binding.gyp edit that puts our flags on every C and C++ compile of the
 * target (gyp `cflags`, which the make generator emits into
 * `CFLAGS_Release`), independent of the caller's CFLAGS environment.
 */
function bindingGypEdit(flags: string[]): { find: string; replace: string } {
  const list = flags.map((f) => `'${f}'`).join(", ");
  return {
    find: "      'cflags!': [ '-fno-exceptions' ],\n",
    replace: `      'cflags': [ ${list} ],\n` +
      "      'cflags!': [ '-fno-exceptions' ],\n",
  };
}

async function build(
  dir: string,
  pkg: string,
  stamp: Stamp,
  options: EnsureEngineOptions,
): Promise<void> {
  const progress = options.onProgress ?? (() => {});
  const run = runner(options.log);

  // 1. Fetch: a cached tarball from `npm pack`, extracted fresh every build
  //    so the source edits always apply to pristine files.
  progress({ phase: "fetch", fraction: 0, message: "fetching sources" });
  const tarball = join(dir, `smart-whisper-${SMART_WHISPER_VERSION}.tgz`);
  if (!await pathExists(tarball)) {
    await run("npm", [
      "pack",
      `smart-whisper@${SMART_WHISPER_VERSION}`,
      "--pack-destination",
      dir,
      "--silent",
    ], dir);
  }
  await Deno.remove(pkg, { recursive: true }).catch(() => {});
  const staging = await Deno.makeTempDir({ dir, prefix: ".extract-" });
  try {
    await run("tar", ["-xzf", tarball, "-C", staging], dir);
    await Deno.rename(join(staging, "package"), pkg);
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  progress({ phase: "fetch", fraction: 0.04, message: "node-addon-api" });
  await run("npm", [
    "install",
    "--ignore-scripts",
    "--no-save",
    "--no-package-lock",
    "--no-audit",
    "--no-fund",
    "--omit=dev",
    `node-addon-api@${NODE_ADDON_API_VERSION}`,
  ], pkg);

  // 2. Patch the native loader and pin our compile flags into binding.gyp.
  progress({ phase: "patch", fraction: 0.08, message: "applying patches" });
  await applyPatches(pkg);
  const gypPath = join(pkg, "binding.gyp");
  const gyp = await Deno.readTextFile(gypPath);
  const edit = bindingGypEdit(stamp.flags);
  if (!gyp.includes(edit.find)) {
    throw new EngineError(`${gypPath}: no cflags! entry to extend`);
  }
  await Deno.writeTextFile(gypPath, gyp.replace(edit.find, edit.replace));

  // 3. Configure, then check the flags reached the generated makefile.
  progress({
    phase: "configure",
    fraction: 0.1,
    message: "node-gyp configure",
  });
  const gypCmd = ["--yes", `node-gyp@${NODE_GYP_VERSION}`];
  await run("npx", [...gypCmd, "configure"], pkg);
  const mk = await Deno.readTextFile(
    join(pkg, "build", "smart-whisper.target.mk"),
  );
  const release = mk.match(/^CFLAGS_Release :=((?:.*\\\n)*.*)$/m)?.[1] ?? "";
  const missing = stamp.flags.filter((f) => !release.includes(f));
  if (missing.length > 0) {
    throw new EngineError(
      `node-gyp did not put ${missing.join(" ")} into CFLAGS_Release`,
    );
  }

  // 4. Compile; each "CC(target)"/"CXX(target)" line is one object.
  let compiled = 0;
  const jobs = String(Math.max(1, navigator.hardwareConcurrency || 1));
  await run("npx", [...gypCmd, "build", "--jobs", jobs], pkg, (line) => {
    const m = line.match(/^\s*(CC|CXX)\(target\) (\S+)/);
    if (m) {
      compiled++;
      const fraction = 0.12 + 0.83 * Math.min(compiled / EXPECTED_OBJECTS, 1);
      progress({ phase: "compile", fraction, message: m[2] ?? "" });
    } else if (/^\s*SOLINK_MODULE\(target\)/.test(line)) {
      progress({ phase: "link", fraction: 0.96, message: "linking" });
    }
  });

  await Deno.writeTextFile(join(pkg, STAMP_FILE), JSON.stringify(stamp));
  progress({ phase: "done", fraction: 1, message: join(pkg, ADDON_PATH) });
}

type Run = (
  cmd: string,
  args: string[],
  cwd: string,
  onLine?: (line: string) => void,
) => Promise<void>;

/** A command runner that streams output lines and keeps a tail for errors. */
function runner(log?: (line: string) => void): Run {
  return async (cmd, args, cwd, onLine) => {
    const child = new Deno.Command(cmd, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: {
        // Use the installed headers instead of downloading them for the
        // Node version Deno reports.
        npm_config_nodedir: "/usr",
        // smart-whisper's build.js would pick OpenBLAS when ldconfig lists it.
        COMPUTE_BACKEND: "cpu",
        // Our flags come from binding.gyp; keep the caller's out.
        CFLAGS: "",
        CXXFLAGS: "",
        npm_config_update_notifier: "false",
      },
    }).spawn();
    const tail: string[] = [];
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) take(line);
      }
      if (rest) take(rest);
    };
    const take = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      log?.(line);
      onLine?.(line);
    };
    const [status] = await Promise.all([
      child.status,
      pump(child.stdout),
      pump(child.stderr),
    ]);
    if (!status.success) {
      throw new EngineError(
        `engine build: \`${cmd} ${
          args.join(" ")
        }\` exited with ${status.code}` +
          ` in ${cwd}:\n${tail.join("\n")}`,
      );
    }
  };
}

/**
 * Takes an exclusive lock file holding our pid; waits (polling the lock's
 * presence) while a live process holds it, and takes over a stale one.
 */
async function acquireLock(path: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      await file.write(new TextEncoder().encode(String(Deno.pid)));
      file.close();
      return () => Deno.remove(path).catch(() => {});
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const holder = Number(await Deno.readTextFile(path).catch(() => ""));
    const age = Date.now() -
      ((await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? 0);
    // Stale: its process is gone, or it never wrote its pid.
    const stale = holder ? !await pathExists(`/proc/${holder}`) : age > 10_000;
    if (stale) {
      await Deno.remove(path).catch(() => {});
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
