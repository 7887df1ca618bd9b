/**
 * Raw per-sample data of a run: k6's JSON-lines output (`--out json=…gz`)
 * reduced to the values of each metric, so statistics don't depend on k6's
 * pre-aggregated summary.
 */
import { z } from "zod";
import { ConfigError } from "../errors/mod.ts";

/** Metrics whose samples the verdict uses. */
export const VERDICT_METRICS = [
  "transcription_latency_seconds",
  "http_req_duration",
  "server_processing_ms",
  "server_queue_wait_ms",
  "upload_duration_ms",
  "transcription_success_rate",
] as const;

/** Values of each metric in one run, in arrival order. */
export type RunSamples = Map<string, number[]>;

const Point = z.object({
  type: z.literal("Point"),
  metric: z.string(),
  data: z.object({ value: z.number() }),
});

/**
 * Calls `take` with each line of a k6 JSON-lines file (plain or `.gz`).
 * @throws {ConfigError} naming the file when it can't be read or decoded
 * (a ConfigError thrown by `take` passes through).
 */
export async function forEachK6Line(
  path: string,
  take: (line: string, lineNo: number) => void,
): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    throw new ConfigError(
      `${path}: cannot read samples (${(error as Error).message})`,
    );
  }
  let stream: ReadableStream<Uint8Array> = file.readable;
  if (path.endsWith(".gz")) {
    stream = stream.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<
        Uint8Array,
        Uint8Array
      >,
    );
  }
  const decoder = new TextDecoder();
  let pending = "";
  let lineNo = 0;
  try {
    for await (const chunk of stream) {
      const text = pending + decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) take(line, ++lineNo);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `${path}: cannot decode samples (${(error as Error).message})`,
    );
  }
  if (pending.trim()) take(pending, ++lineNo);
}

/**
 * Reads k6 JSON lines (plain or `.gz`) into per-metric value arrays, keeping
 * only `metrics` (default {@linkcode VERDICT_METRICS}).
 * @throws {ConfigError} naming the file when it can't be read or parsed.
 */
export async function readK6Samples(
  path: string,
  metrics: readonly string[] = VERDICT_METRICS,
): Promise<RunSamples> {
  const wanted = new Set(metrics);
  const out: RunSamples = new Map(metrics.map((m) => [m, []]));
  await forEachK6Line(path, (line, lineNo) => {
    if (!line.includes('"type":"Point"')) return;
    let parsed;
    try {
      parsed = Point.safeParse(JSON.parse(line));
    } catch {
      throw new ConfigError(`${path}: line ${lineNo} is not valid JSON`);
    }
    if (parsed.success && wanted.has(parsed.data.metric)) {
      out.get(parsed.data.metric)!.push(parsed.data.data.value);
    }
  });
  return out;
}

/** One k6 sample with its time: ms since the epoch, value, tags. */
export interface TimedSample {
  timeMs: number;
  value: number;
  tags: Record<string, string>;
}

interface TimedLine {
  type?: unknown;
  data?: { time?: unknown; value?: unknown; tags?: unknown };
}

/**
 * Reads k6 JSON lines (plain or `.gz`) into per-metric samples with their
 * times and tags, keeping only `metrics` — for figures over time (a spike's
 * recovery, a soak's drift, the report's charts).
 * @throws {ConfigError} naming the file when it can't be read or parsed.
 */
export async function readTimedK6Samples(
  path: string,
  metrics: readonly string[],
): Promise<Map<string, TimedSample[]>> {
  const out = new Map<string, TimedSample[]>(metrics.map((m) => [m, []]));
  // k6 writes `{"metric":"<name>","type":"Point",…}`: the name is read off
  // the line, so only the wanted ones are parsed.
  const prefix = '{"metric":"';
  await forEachK6Line(path, (line, lineNo) => {
    if (!line.startsWith(prefix)) return;
    const list = out.get(
      line.slice(prefix.length, line.indexOf('"', prefix.length)),
    );
    if (!list) return;
    let p: TimedLine;
    try {
      p = JSON.parse(line);
    } catch {
      throw new ConfigError(`${path}: line ${lineNo} is not valid JSON`);
    }
    if (p.type !== "Point" || typeof p.data?.value !== "number") return;
    const timeMs = typeof p.data.time === "string"
      ? Date.parse(p.data.time)
      : NaN;
    if (!Number.isFinite(timeMs)) return;
    const tags: Record<string, string> = {};
    if (p.data.tags && typeof p.data.tags === "object") {
      for (const [k, v] of Object.entries(p.data.tags)) {
        if (typeof v === "string") tags[k] = v;
      }
    }
    list.push({ timeMs, value: p.data.value, tags });
  });
  return out;
}
