/** Renders a {@linkcode Comparison}: terminal table, markdown, and an HTML page with SVG plots. */
import type { Comparison, MetricComparison } from "./compare.ts";

function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return String(v);
  if (unit === "ratio") return `${(v * 100).toFixed(2)} %`;
  const digits = Math.abs(v) >= 100
    ? 0
    : Math.abs(v) >= 10
    ? 1
    : Math.abs(v) >= 1
    ? 2
    : 3;
  return `${v.toFixed(digits)} ${unit}`;
}

function pct(r: number): string {
  return `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(1)} %`;
}

function row(r: MetricComparison): string[] {
  return [
    r.spec.key,
    fmt(r.a, r.spec.unit),
    fmt(r.b, r.spec.unit),
    pct(r.ratio),
    `[${pct(r.lo)}, ${pct(r.hi)}]`,
    r.verdict,
    r.regression ? `REGRESSION (> ${pct(r.spec.tolerance)})` : "ok",
  ];
}

const HEAD = ["metric", "A", "B", "change", "interval", "verdict", "status"];

/** How the interval was drawn, in words. */
function method(c: Comparison): string {
  return c.paired
    ? "bootstrap over pairs of runs (run i of A with run i of B), then iterations"
    : "bootstrap over iterations and runs";
}

/** A plain-text table. */
export function renderTable(c: Comparison): string {
  const rows = [HEAD, ...c.rows.map(row)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return [
    `A: ${c.a.label} (${c.a.runs} run${c.a.runs === 1 ? "" : "s"})`,
    `B: ${c.b.label} (${c.b.runs} run${c.b.runs === 1 ? "" : "s"})`,
    `change = B/A − 1; interval: ${Math.round(c.confidence * 100)} % ${
      method(c)
    }`,
    ...lines,
    `verdict: ${c.regression ? "REGRESSION" : "no regression"}`,
  ].join("\n");
}

/** A markdown table for GitHub step summaries. */
export function renderMarkdown(c: Comparison): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `### Perf comparison: ${
      c.regression ? "❌ regression" : "✅ no regression"
    }`,
    "",
    `A: \`${c.a.label}\` (${c.a.runs} runs) · B: \`${c.b.label}\` (${c.b.runs} runs) · ${
      Math.round(c.confidence * 100)
    } % intervals: ${method(c)}`,
    "",
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map(() => " --- ").join("|")}|`,
    ...c.rows.map((r) => `| ${row(r).map(esc).join(" | ")} |`),
    "",
  ].join("\n");
}

function histogramSvg(a: number[], b: number[], unit: string): string {
  const all = [...a, ...b].filter(Number.isFinite).sort((x, y) => x - y);
  if (all.length === 0) return "<p>no samples</p>";
  // Clip to the 99.5th percentile so one outlier doesn't flatten the plot.
  const lo = all[0]!;
  const hi = all[Math.floor((all.length - 1) * 0.995)]!;
  const bins = 40;
  const width = (hi - lo) / bins || 1;
  const count = (xs: number[]) => {
    const h = new Array(bins).fill(0);
    for (const x of xs) {
      h[Math.min(bins - 1, Math.max(0, Math.floor((x - lo) / width)))]++;
    }
    return h.map((n) => n / (xs.length || 1));
  };
  const ha = count(a);
  const hb = count(b);
  const max = Math.max(...ha, ...hb) || 1;
  const W = 520, H = 160, P = 30;
  const bar = (h: number[], color: string, dx: number) =>
    h.map((v, i) => {
      const x = P + (i * (W - 2 * P)) / bins + dx;
      const bh = (v / max) * (H - 2 * P);
      return `<rect x="${x.toFixed(1)}" y="${(H - P - bh).toFixed(1)}" width="${
        ((W - 2 * P) / bins / 2).toFixed(1)
      }" height="${bh.toFixed(1)}" fill="${color}"/>`;
    }).join("");
  const half = (W - 2 * P) / bins / 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img">
<rect width="${W}" height="${H}" fill="white"/>${bar(ha, "#4477aa", 0)}${
    bar(hb, "#ee7733", half)
  }
<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="black"/>
<text x="${P}" y="${H - 8}" font-size="11">${fmt(lo, unit)}</text>
<text x="${W - P}" y="${H - 8}" font-size="11" text-anchor="end">${
    fmt(hi, unit)
  }</text>
<text x="${P}" y="14" font-size="11" fill="#4477aa">A (n=${a.length})</text>
<text x="${
    P + 90
  }" y="14" font-size="11" fill="#ee7733">B (n=${b.length})</text>
</svg>`;
}

function intervalSvg(r: MetricComparison): string {
  const W = 520, H = 46, P = 30;
  const lo = Math.min(r.lo, 1 / r.spec.tolerance, 0.8);
  const hi = Math.max(r.hi, r.spec.tolerance, 1.25);
  const x = (v: number) => P + ((v - lo) / (hi - lo)) * (W - 2 * P);
  const color = r.regression
    ? "#cc3311"
    : r.verdict === "faster"
    ? "#009988"
    : "#555555";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img">
<rect width="${W}" height="${H}" fill="white"/>
<line x1="${x(1)}" y1="4" x2="${x(1)}" y2="${
    H - 14
  }" stroke="#999" stroke-dasharray="3"/>
<line x1="${x(r.spec.tolerance)}" y1="4" x2="${x(r.spec.tolerance)}" y2="${
    H - 14
  }" stroke="#cc3311" stroke-dasharray="2"/>
<line x1="${x(r.lo)}" y1="18" x2="${
    x(r.hi)
  }" y2="18" stroke="${color}" stroke-width="4"/>
<circle cx="${x(r.ratio)}" cy="18" r="4" fill="${color}"/>
<text x="${x(1)}" y="${
    H - 2
  }" font-size="10" text-anchor="middle">no change</text>
<text x="${x(r.spec.tolerance)}" y="${
    H - 2
  }" font-size="10" text-anchor="middle" fill="#cc3311">tolerance</text>
</svg>`;
}

/** A self-contained HTML page: table, per-metric distributions and intervals. */
export function renderHtml(c: Comparison): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const sections = c.rows.map((r) =>
    `<section><h3>${esc(r.spec.key)} — ${esc(r.verdict)}${
      r.regression ? " (regression)" : ""
    }</h3>
${
      histogramSvg(
        c.samples.a.get(r.spec.metric) ?? [],
        c.samples.b.get(r.spec.metric) ?? [],
        r.spec.unit,
      )
    }
${intervalSvg(r)}
<p>A ${esc(fmt(r.a, r.spec.unit))} → B ${esc(fmt(r.b, r.spec.unit))}: change ${
      pct(r.ratio)
    }, ${Math.round(c.confidence * 100)} % interval [${pct(r.lo)}, ${
      pct(r.hi)
    }], tolerance ${pct(r.spec.tolerance)}.</p></section>`
  ).join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Perf comparison</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style>
</head><body><h1>Perf comparison: ${
    c.regression ? "regression" : "no regression"
  }</h1>
<p>A: ${esc(c.a.label)} (${c.a.runs} runs) · B: ${
    esc(c.b.label)
  } (${c.b.runs} runs)</p>
<table><tr>${HEAD.map((h) => `<th>${h}</th>`).join("")}</tr>
${
    c.rows.map((r) =>
      `<tr>${row(r).map((x) => `<td>${esc(x)}</td>`).join("")}</tr>`
    ).join("\n")
  }</table>
<p>The interval is a ${Math.round(c.confidence * 100)} % interval of B/A: ${
    method(c)
  }. A metric is
"slower" or "faster" only when the whole interval lies on one side of no change, and a regression only when it lies beyond the tolerance.</p>
${sections}</body></html>\n`;
}
