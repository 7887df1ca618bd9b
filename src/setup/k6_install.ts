/**
 * Finding or installing the pinned k6 binary.
 *
 * Order: a `k6` on PATH whose version matches the pin; the project's cached
 * copy `<toolsDir()>/k6-v<K6_VERSION>/k6`; the official release tarball;
 * `go install go.k6.io/k6@v<K6_VERSION>` into the tools folder.
 */
import { join } from "node:path";
import { ConfigError } from "../errors/mod.ts";
import { toolsDir } from "../config/mod.ts";

/**
 * The pinned k6 version. A 1.x release ≥ 1.5: the scenario relies on the
 * 1.x module path `go.k6.io/k6` (for `go install`), and on the 1.x
 * `--summary-export` and `--new-machine-readable-summary` formats that
 * {@linkcode parseSummary} reads. Change it together with the testdata.
 */
export const K6_VERSION = "1.8.1";

/** Where official k6 release assets are downloaded from. */
export const K6_DOWNLOAD_BASE_URL =
  "https://github.com/grafana/k6/releases/download";

/** Options of {@linkcode ensureK6}. */
export interface EnsureK6Options {
  /** Progress of a long step: `fraction` in 0..1 (NaN when unknown). */
  onProgress?: (fraction: number, detail: string) => void;
  /** One-line messages about what is being tried. @default no output */
  log?: (message: string) => void;
  /** Folder holding `k6-v<version>/`. @default toolsDir() */
  toolsDir?: string;
  /**
   * Base URL of release assets (`<base>/v<ver>/k6-v<ver>-linux-<arch>.tar.gz`).
   * @default env K6_DOWNLOAD_BASE_URL, else {@linkcode K6_DOWNLOAD_BASE_URL}
   */
  downloadBaseUrl?: string;
  /** Milliseconds to wait for the download's response headers. @default 10000 */
  connectTimeoutMs?: number;
  /** The PATH searched for `k6`. @default env PATH */
  searchPath?: string;
  /** The `go` command used for `go install`. @default "go" */
  goCommand?: string;
}

const resolved = new Map<string, string>();

/** The folder that holds the cached binary for `version`. */
export function k6InstallDir(dir: string = toolsDir()): string {
  return join(dir, `k6-v${K6_VERSION}`);
}

/**
 * Returns the path of a k6 binary of version {@linkcode K6_VERSION},
 * installing it into the tools folder when needed. A second call returns the
 * cached binary at once.
 *
 * @throws {ConfigError} when no way of getting k6 worked; the message says
 *   what to install.
 */
export async function ensureK6(options: EnsureK6Options = {}): Promise<string> {
  const log = options.log ?? (() => {});
  const dir = k6InstallDir(options.toolsDir);
  const cached = join(dir, "k6");
  const memoKey = `${dir}\0${options.searchPath ?? ""}`;
  const memo = resolved.get(memoKey);
  if (memo && await isExecutable(memo)) return memo;

  const remember = (path: string) => {
    resolved.set(memoKey, path);
    return path;
  };
  const failures: string[] = [];

  // (a) PATH
  const searchPath = options.searchPath ?? Deno.env.get("PATH") ?? "";
  for (const folder of searchPath.split(":").filter(Boolean)) {
    const candidate = join(folder, "k6");
    if (!(await isExecutable(candidate))) continue;
    const version = await k6Version(candidate).catch(() => undefined);
    if (version === K6_VERSION) return remember(candidate);
    failures.push(`${candidate} is version ${version ?? "unknown"}`);
    break; // only the first k6 on PATH is the one a shell would run
  }
  if (!failures.length) failures.push("no k6 on PATH");

  // (b) the project's cached copy
  if (await isExecutable(cached)) return remember(cached);

  // (c) the official release tarball
  const base = (options.downloadBaseUrl ??
    Deno.env.get("K6_DOWNLOAD_BASE_URL") ?? K6_DOWNLOAD_BASE_URL).replace(
      /\/+$/,
      "",
    );
  const asset = releaseAssetName();
  if (asset) {
    const url = `${base}/v${K6_VERSION}/${asset}.tar.gz`;
    try {
      log(`downloading ${url}`);
      await downloadRelease(url, asset, dir, options);
      return remember(cached);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(`download failed: ${reason}`);
      failures.push(`download of ${url} failed: ${reason}`);
    }
  } else {
    failures.push(
      `no release tarball for ${Deno.build.os}/${Deno.build.arch}`,
    );
  }

  // (d) go install
  try {
    await goInstall(dir, options);
    return remember(cached);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`go install failed: ${reason}`);
    failures.push(`go install failed: ${reason}`);
  }

  throw new ConfigError(
    `k6 v${K6_VERSION} is not available (${failures.join("; ")}). ` +
      `Install k6 v${K6_VERSION} on PATH ` +
      `(https://grafana.com/docs/k6/latest/set-up/install-k6/), or install ` +
      `Go (https://go.dev/dl/) so that \`go install go.k6.io/k6@v${K6_VERSION}\` ` +
      `can build it into ${dir}`,
  );
}

/**
 * Runs `<path> version` and returns the version it reports, e.g. "1.8.1".
 * @throws {Error} when it can't run or prints no version.
 */
export async function k6Version(path: string): Promise<string> {
  const out = await new Deno.Command(path, {
    args: ["version"],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const match = /\bk6 v(\d+\.\d+\.\d+\S*)/.exec(text);
  if (!out.success || !match?.[1]) {
    throw new Error(`"${path} version" printed no k6 version: ${text.trim()}`);
  }
  return match[1];
}

/** The release asset's base name for this platform, or undefined. */
function releaseAssetName(): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  const arch = { x86_64: "amd64", aarch64: "arm64" }[Deno.build.arch];
  return arch ? `k6-v${K6_VERSION}-linux-${arch}` : undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && info.size > 0 && ((info.mode ?? 0o755) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Streams the tarball to disk with progress, extracts it, installs `k6`. */
async function downloadRelease(
  url: string,
  asset: string,
  dir: string,
  options: EnsureK6Options,
): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error("connection timed out")),
    options.connectTimeoutMs ?? 10_000,
  );
  let response: Response;
  try {
    response = await fetch(url, { signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  await Deno.mkdir(dir, { recursive: true });
  const work = await Deno.makeTempDir({ dir, prefix: ".download-" });
  try {
    const tarball = join(work, `${asset}.tar.gz`);
    const total = Number(response.headers.get("content-length") ?? NaN);
    let received = 0;
    const file = await Deno.open(tarball, { write: true, create: true });
    const writer = file.writable.getWriter();
    try {
      for await (const chunk of response.body) {
        await writer.write(chunk);
        received += chunk.byteLength;
        options.onProgress?.(
          total > 0 ? received / total : NaN,
          `${(received / 1048576).toFixed(1)} MiB`,
        );
      }
    } finally {
      await writer.close().catch(() => {});
    }
    const tar = await new Deno.Command("tar", {
      args: ["-xzf", tarball, "-C", work],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!tar.success) {
      throw new Error(
        `tar failed: ${new TextDecoder().decode(tar.stderr).trim()}`,
      );
    }
    const extracted = join(work, asset, "k6");
    if (!(await isExecutable(extracted))) {
      throw new Error(`the tarball has no executable ${asset}/k6`);
    }
    const version = await k6Version(extracted);
    if (version !== K6_VERSION) {
      throw new Error(`the tarball holds k6 ${version}, not ${K6_VERSION}`);
    }
    await Deno.rename(extracted, join(dir, "k6"));
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/** Builds k6 with `go install` straight into `dir`. */
async function goInstall(dir: string, options: EnsureK6Options): Promise<void> {
  const log = options.log ?? (() => {});
  await Deno.mkdir(dir, { recursive: true });
  const goCommand = options.goCommand ?? "go";
  log(
    `building k6 with \`go install go.k6.io/k6@v${K6_VERSION}\` ` +
      `(minutes on a fresh machine; Go's caches make a rebuild fast)`,
  );
  const started = Date.now();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(goCommand, {
      args: ["install", `go.k6.io/k6@v${K6_VERSION}`],
      env: { GOBIN: dir },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`"${goCommand}" is not installed`);
    }
    throw error;
  }
  const ticker = setInterval(() => {
    const s = Math.round((Date.now() - started) / 1000);
    options.onProgress?.(NaN, `go install: ${s} s`);
    log(`still building k6 (${s} s)`);
  }, 15_000);
  try {
    const out = await child.output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr).trim();
      throw new Error(
        `exit ${out.code}: ${text.split("\n").slice(-5).join(" | ")}`,
      );
    }
  } finally {
    clearInterval(ticker);
  }
  const version = await k6Version(join(dir, "k6"));
  if (version !== K6_VERSION) {
    throw new Error(`go install built k6 ${version}, not ${K6_VERSION}`);
  }
  log(`built k6 ${version} in ${Math.round((Date.now() - started) / 1000)} s`);
}
