/**
 * The samples of a few metrics from a run's `samples.json.gz` with their
 * time and workload class — what the report's distributions and
 * over-time charts are drawn from (the verdict's reader keeps values only).
 */
import { forEachK6Line } from "../../verdict/mod.ts";
import { ConfigError } from "../../errors/mod.ts";

/** One sample: when k6 took it, its value, its class tag when it has one. */
export interface TimedValue {
  /** Epoch milliseconds. */
  at: number;
  value: number;
  class?: string;
}

interface PointLine {
  metric?: unknown;
  type?: unknown;
  data?: { time?: unknown; value?: unknown; tags?: { class?: unknown } };
}

/**
 * Reads the samples of `metrics` (plain or `.gz` k6 JSON lines), in file
 * order; a metric without samples maps to an empty list.
 * @throws {ConfigError} naming the file when it can't be read or a wanted
 * line isn't JSON.
 */
export async function readTimedSamples(
  path: string,
  metrics: readonly string[],
): Promise<Map<string, TimedValue[]>> {
  const out = new Map<string, TimedValue[]>(metrics.map((m) => [m, []]));
  // k6 writes `{"metric":"<name>","type":"Point",…}`: the name is read off
  // the line so only the wanted ones are parsed.
  const prefix = '{"metric":"';
  await forEachK6Line(path, (line, lineNo) => {
    if (!line.startsWith(prefix)) return;
    const name = line.slice(prefix.length, line.indexOf('"', prefix.length));
    const list = out.get(name);
    if (!list) return;
    let p: PointLine;
    try {
      p = JSON.parse(line);
    } catch {
      throw new ConfigError(`${path}: line ${lineNo} is not valid JSON`);
    }
    if (p.type !== "Point" || typeof p.data?.value !== "number") return;
    const at = typeof p.data.time === "string" ? Date.parse(p.data.time) : NaN;
    if (!Number.isFinite(at)) return;
    const cls = p.data.tags?.class;
    list.push({
      at,
      value: p.data.value,
      ...(typeof cls === "string" ? { class: cls } : {}),
    });
  });
  return out;
}
