/** Command-line flags: `node:util` parseArgs with our error for bad input. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../errors/mod.ts";

/**
 * Parses flags like `parseArgs(config)`.
 * @throws {ConfigError} (exit 2) naming the bad flag, followed by `usage`
 * when given.
 */
export function parseFlags<const C extends ParseArgsConfig>(
  config: C,
  usage?: string,
): ReturnType<typeof parseArgs<C>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const message = (error as Error).message;
    throw new ConfigError(usage ? `${message}; ${usage}` : message);
  }
}

/**
 * One message for the issues of a schema of flags: `FLAG: message (got
 * VALUE)` for each, joined by `; ` (`flagOf` names a field's flag).
 */
export function flagIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  flagOf: (key: string) => string,
  raw: Readonly<Record<string, unknown>>,
): string {
  return issues.map((i) => {
    const key = String(i.path[0]);
    return `${flagOf(key)}: ${i.message} (got ${JSON.stringify(raw[key])})`;
  }).join("; ");
}
