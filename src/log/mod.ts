/**
 * Structured logging: one JSON object per line on stdout, with time, level
 * and component, so component logs can be read by people and by tools.
 *
 * @module
 */

/** Log levels in increasing severity. */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A function that writes one structured log line. */
export type Logger = (
  entry: { level?: Level; msg: string } & Record<string, unknown>,
) => void;

/** Builds a logger for `component` that drops entries below `min`. */
export function createLogger(component: string, min: Level = "info"): Logger {
  return (entry) => {
    const level = entry.level ?? "info";
    if (ORDER[level] < ORDER[min]) return;
    console.log(
      JSON.stringify({
        t: new Date().toISOString(),
        component,
        ...entry,
        level,
      }),
    );
  };
}
