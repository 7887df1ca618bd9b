/**
 * The samples of a few metrics from a run's `samples.json.gz` with their
 * time and workload class — what the report's distributions and
 * over-time charts are drawn from (the verdict's reader keeps values only).
 */
import { readTimedK6Samples } from "../../verdict/mod.ts";

/** One sample: when k6 took it, its value, its class tag when it has one. */
export interface TimedValue {
  /** Epoch milliseconds. */
  at: number;
  value: number;
  class?: string;
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
  const read = await readTimedK6Samples(path, metrics);
  return new Map(
    [...read].map(([metric, list]) => [
      metric,
      list.map((s) => ({
        at: s.timeMs,
        value: s.value,
        ...(s.tags.class !== undefined ? { class: s.tags.class } : {}),
      })),
    ]),
  );
}
