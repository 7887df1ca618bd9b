// Small path helpers over node:path, so the rest of the code reads like std.
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Joins path segments. */
export const join: (...parts: string[]) => string = path.join;
/** Converts a file URL to a path. */
export function fromFileUrl(url: URL | string): string {
  return fileURLToPath(url);
}
