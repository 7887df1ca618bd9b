/** Reading an optional JSON file of a run's archive against its schema. */
import type { z } from "zod";
import { ConfigError } from "../errors/mod.ts";

/**
 * The file at `path` parsed with `schema`; undefined when there is no file.
 * @throws {ConfigError} naming the file when it can't be read, is not JSON,
 * or breaks the schema (naming the field).
 */
export async function readJsonFile<S extends z.ZodType>(
  path: string,
  schema: S,
): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError(`${path}: cannot read (${error})`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: is not valid JSON (${error})`, {
      cause: error,
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `${path}: ${issue.path.map(String).join(".")} ${issue.message}`,
    );
  }
  return parsed.data;
}
