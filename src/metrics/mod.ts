/**
 * A small Prometheus text-format registry: counters, gauges and histograms
 * with labels, enough for `GET /metrics`.
 *
 * @module
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const parts = Object.keys(labels).sort().map((k) =>
    `${k}="${
      String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(
        /\n/g,
        "\\n",
      )
    }"`
  );
  return parts.join(",");
}

function braces(key: string): string {
  return key ? `{${key}}` : "";
}

/** A monotonically increasing counter with labels. */
export class Counter {
  #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}

  /** Adds `by` (default 1) to the series with `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }

  /** Prometheus text for this metric. */
  render(): string {
    const lines = [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
    ];
    for (const [k, v] of this.#values) {
      lines.push(`${this.name}${braces(k)} ${v}`);
    }
    return lines.join("\n");
  }
}

/** Default latency buckets, in seconds. */
export const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** Bucket counts of one histogram series. */
export interface HistogramSeries {
  buckets: number[];
  sum: number;
  count: number;
}

/** A histogram with labels and fixed buckets. */
export class Histogram {
  #series = new Map<string, HistogramSeries>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[] = LATENCY_BUCKETS,
  ) {}

  /** Records `value` in the series with `labels`. */
  observe(value: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.#series.get(k);
    if (!s) {
      this.#series.set(
        k,
        s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 },
      );
    }
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) s.buckets[i]!++;
    }
    s.sum += value;
    s.count++;
  }

  /** Prometheus text for this metric. */
  render(): string {
    const lines = [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
    ];
    for (const [k, s] of this.#series) {
      lines.push(renderSeries(this.name, this.bounds, s, k));
    }
    return lines.join("\n");
  }
}

/** Prometheus lines of one histogram series (cumulative bucket counts). */
export function renderSeries(
  name: string,
  bounds: readonly number[],
  s: HistogramSeries,
  key = "",
): string {
  const sep = key ? "," : "";
  const lines = bounds.map((b, i) =>
    `${name}_bucket{${key}${sep}le="${b}"} ${s.buckets[i] ?? 0}`
  );
  lines.push(`${name}_bucket{${key}${sep}le="+Inf"} ${s.count}`);
  lines.push(`${name}_sum${braces(key)} ${s.sum}`);
  lines.push(`${name}_count${braces(key)} ${s.count}`);
  return lines.join("\n");
}

/** Prometheus text for a gauge with per-label values. */
export function renderGauge(
  name: string,
  help: string,
  values: { labels?: Labels; value: number }[],
): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const v of values) {
    lines.push(`${name}${braces(labelKey(v.labels ?? {}))} ${v.value}`);
  }
  return lines.join("\n");
}
