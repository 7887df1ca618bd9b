/**
 * Where the project keeps what it provisions. Everything lives under one
 * git-ignored cache folder so a second `deno task setup` is instant.
 */
import { fromFileUrl, join } from "./_path.ts";

/** The repository root (two levels above this file). */
export const PROJECT_ROOT: string = fromFileUrl(
  new URL("../../", import.meta.url),
).replace(/\/$/, "");

/**
 * The cache root: `WHISPER_CACHE_DIR` or `<repo>/.cache`.
 * @default "<repo>/.cache"
 */
export function cacheDir(): string {
  return Deno.env.get("WHISPER_CACHE_DIR") ?? join(PROJECT_ROOT, ".cache");
}

/** Folder of installed ggml models: `WHISPER_MODELS_DIR` or `<cache>/models`. */
export function modelsDir(): string {
  return Deno.env.get("WHISPER_MODELS_DIR") ?? join(cacheDir(), "models");
}

/** Folder of the built native engine addon. */
export function engineDir(): string {
  return join(cacheDir(), "engine");
}

/** Folder of external tools (k6). */
export function toolsDir(): string {
  return join(cacheDir(), "tools");
}

/** Folder for project-local pip installs. */
export function pipDir(): string {
  return join(cacheDir(), "pip");
}

/** True when something exists at `path` (file, folder or link target). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
