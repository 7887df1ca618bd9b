/**
 * Reading the service's `/metrics` (Prometheus text format) into the few
 * figures a run's timeline keeps.
 */

/** One series: metric name, labels, value. */
export interface MetricSeries {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The series of a Prometheus text exposition; comments and lines that
 * aren't `name{labels} value` are skipped, values that aren't numbers too.
 */
export function parseMetricsText(text: string): MetricSeries[] {
  const out: MetricSeries[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE_RE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL_RE)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
    }
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** What the timeline keeps of one `/metrics` scrape. */
export interface ServiceFigures {
  /** Jobs waiting for a worker (whole jobs). */
  queued: number;
  /** Pieces of long recordings waiting for a worker. */
  pieces_queued: number;
  /** Jobs running. */
  processing: number;
  /** Jobs completed, failed (totals since the service's Redis started). */
  completed: number;
  failed: number;
  /** Requests refused, by error code (totals since the API started). */
  refusals: Record<string, number>;
  /** Responses with a 5xx status (total since the API started). */
  http_5xx: number;
  /** Bytes Redis holds, when the API reports it. */
  storage_used_bytes?: number;
  /** Jobs running on live workers. */
  workers_busy: number;
}

/** The {@linkcode ServiceFigures} of a scrape's series. */
export function serviceFigures(
  series: readonly MetricSeries[],
): ServiceFigures {
  const pick = (name: string, labels: Record<string, string> = {}) =>
    series.filter((s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    ).reduce((sum, s) => sum + s.value, 0);
  const refusals: Record<string, number> = {};
  for (const s of series) {
    if (s.name !== "whisper_refusals_total") continue;
    const code = s.labels.code ?? "unknown";
    refusals[code] = (refusals[code] ?? 0) + s.value;
  }
  const storage = series.find((s) =>
    s.name === "whisper_storage_bytes" && s.labels.kind === "used"
  );
  return {
    queued: pick("whisper_jobs", { status: "queued" }),
    pieces_queued: pick("whisper_pieces_queued"),
    processing: pick("whisper_jobs", { status: "processing" }),
    completed: pick("whisper_jobs", { status: "completed" }),
    failed: pick("whisper_jobs", { status: "failed" }),
    refusals,
    http_5xx: series.filter((s) =>
      s.name === "http_requests_total" && /^5\d\d$/.test(s.labels.status ?? "")
    ).reduce((sum, s) => sum + s.value, 0),
    ...(storage ? { storage_used_bytes: storage.value } : {}),
    workers_busy: pick("whisper_workers_busy"),
  };
}
