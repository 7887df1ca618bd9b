/** Where installed models live, and which ones are installed. */
import { join } from "node:path";
import { UnknownModelError } from "../errors/mod.ts";
import { modelsDir } from "../config/mod.ts";
import { type CatalogEntry, findCatalogEntry, MODEL_NAMES } from "./catalog.ts";
import { sidecarPath } from "./sidecar.ts";

/** Options shared by functions that look in the models folder. */
export interface ModelsDirOptions {
  /** Models folder. @default modelsDir() */
  dir?: string;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Catalog names whose model file and sidecar both exist (not verified; see
 * `verifyInstalledModel`).
 */
export function listInstalledModels(options: ModelsDirOptions = {}): string[] {
  const dir = options.dir ?? modelsDir();
  return MODEL_NAMES.filter((name) => {
    const path = join(dir, findCatalogEntry(name)!.file);
    return isFile(path) && isFile(sidecarPath(path));
  });
}

/**
 * The catalog entry of `name`.
 * @throws {UnknownModelError} (listing the installed models) when `name` is
 *   not in the catalog
 */
export function requireCatalogEntry(
  name: string,
  options: ModelsDirOptions = {},
): Readonly<CatalogEntry> {
  const entry = findCatalogEntry(name);
  if (!entry) throw new UnknownModelError(name, listInstalledModels(options));
  return entry;
}

/**
 * Path of the model file of catalog model `name` (it may not exist yet).
 * @throws {UnknownModelError} when `name` is not in the catalog
 */
export function modelFilePath(
  name: string,
  options: ModelsDirOptions = {},
): string {
  const entry = requireCatalogEntry(name, options);
  return join(options.dir ?? modelsDir(), entry.file);
}
