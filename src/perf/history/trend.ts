/**
 * The trend chart of `history.jsonl`: end-to-end latency p50/p95, throughput
 * and success rate across runs as one SVG, with the runs the verdict called
 * regressions marked in red.
 */
import type { HistoryEntry } from "./history.ts";
import { escapeXml as esc, niceNumber } from "../_svg.ts";

/** One panel: series drawn against the run index. */
interface Panel {
  title: string;
  unit: string;
  series: { name: string; color: string; values: (number | null)[] }[];
  /** Forced y range bounds (the data may widen it). */
  floor?: number;
  ceil?: number;
}

const W = 900;
const PANEL_H = 170;
const LEFT = 70;
const RIGHT = 20;
const TOP = 40;
const GAP = 30;

/**
 * Renders the history as a self-contained SVG document.
 * @param entries the history, oldest first
 */
export function renderTrend(entries: readonly HistoryEntry[]): string {
  const n = entries.length;
  const panels: Panel[] = [
    {
      title: "end-to-end latency",
      unit: "s",
      floor: 0,
      series: [
        {
          name: "p50",
          color: "#4477aa",
          values: entries.map((e) => e.figures.latency_p50_s ?? null),
        },
        {
          name: "p95",
          color: "#ee7733",
          values: entries.map((e) => e.figures.latency_p95_s ?? null),
        },
      ],
    },
    {
      title: "throughput",
      unit: "jobs/s",
      floor: 0,
      series: [{
        name: "successful jobs/s",
        color: "#228833",
        values: entries.map((e) => e.figures.throughput_per_s ?? null),
      }],
    },
    {
      title: "success rate",
      unit: "",
      ceil: 1,
      floor: 0.9,
      series: [{
        name: "success rate",
        color: "#aa3377",
        values: entries.map((e) => e.figures.success_rate ?? null),
      }],
    },
  ];
  const plotW = W - LEFT - RIGHT;
  const x = (i: number) => LEFT + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const H = TOP + panels.length * (PANEL_H + GAP) + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" role="img">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">Performance trend: ${n} run${
      n === 1 ? "" : "s"
    }</text>`,
    `<text x="${
      W - RIGHT
    }" y="22" font-size="11" text-anchor="end" fill="#cc3311">▲ regression (verdict)</text>`,
  ];
  if (n === 0) {
    out.push(
      `<text x="${LEFT}" y="${
        TOP + 30
      }" font-size="13">no runs in the history yet</text>`,
      "</svg>",
    );
    return out.join("\n") + "\n";
  }
  const top0 = TOP;
  const bottom = TOP + panels.length * (PANEL_H + GAP) - GAP;
  // Regression bands across every panel.
  entries.forEach((e, i) => {
    if (e.verdict !== "regression") return;
    out.push(
      `<line class="regression" x1="${x(i).toFixed(1)}" y1="${top0}" x2="${
        x(i).toFixed(1)
      }" y2="${bottom}" stroke="#cc3311" stroke-width="2" stroke-dasharray="4 3" opacity="0.6"><title>${
        esc(`${e.run}: regression${e.reason ? ` (${e.reason})` : ""}`)
      }</title></line>`,
    );
  });
  panels.forEach((p, pi) => {
    const y0 = TOP + pi * (PANEL_H + GAP);
    const all = p.series.flatMap((s) => s.values).filter((v): v is number =>
      v !== null && Number.isFinite(v)
    );
    let lo = Math.min(p.floor ?? Infinity, ...all);
    let hi = Math.max(p.ceil ?? -Infinity, ...all);
    if (!Number.isFinite(lo)) lo = 0;
    if (!Number.isFinite(hi) || hi <= lo) hi = lo + 1;
    if (p.ceil === undefined) hi += (hi - lo) * 0.08;
    const y = (v: number) => y0 + PANEL_H - ((v - lo) / (hi - lo)) * PANEL_H;
    out.push(
      `<g class="panel"><text x="${LEFT}" y="${
        y0 - 6
      }" font-size="12" font-weight="bold">${esc(p.title)}${
        p.unit ? ` (${esc(p.unit)})` : ""
      }</text>`,
      `<rect x="${LEFT}" y="${y0}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#bbb"/>`,
    );
    for (const t of [lo, (lo + hi) / 2, hi]) {
      out.push(
        `<line x1="${LEFT - 4}" y1="${y(t).toFixed(1)}" x2="${LEFT}" y2="${
          y(t).toFixed(1)
        }" stroke="#888"/>`,
        `<text x="${LEFT - 6}" y="${
          (y(t) + 4).toFixed(1)
        }" font-size="10" text-anchor="end">${niceNumber(t)}</text>`,
      );
    }
    p.series.forEach((s, si) => {
      let d = "";
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) {
          pen = false;
          return;
        }
        d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      if (d) {
        out.push(
          `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`,
        );
      }
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) return;
        const e = entries[i]!;
        const tip = esc(
          `${e.run}${
            e.commit ? ` @ ${e.commit.slice(0, 8)}` : ""
          } ${e.time}: ${s.name} ${niceNumber(v)}${
            p.unit ? ` ${p.unit}` : ""
          } — ${e.verdict}`,
        );
        if (e.verdict === "regression") {
          const cx = x(i), cy = y(v);
          out.push(
            `<path class="regression-marker" d="M${cx.toFixed(1)},${
              (cy - 6).toFixed(1)
            }L${(cx + 5).toFixed(1)},${(cy + 4).toFixed(1)}L${
              (cx - 5).toFixed(1)
            },${
              (cy + 4).toFixed(1)
            }Z" fill="#cc3311"><title>${tip}</title></path>`,
          );
        } else {
          out.push(
            `<circle cx="${x(i).toFixed(1)}" cy="${
              y(v).toFixed(1)
            }" r="2.6" fill="${
              e.verdict === "failed" ? "#999" : s.color
            }"><title>${tip}</title></circle>`,
          );
        }
      });
      out.push(
        `<text x="${LEFT + 8 + si * 140}" y="${
          y0 + 14
        }" font-size="11" fill="${s.color}">— ${esc(s.name)}</text>`,
      );
    });
    out.push("</g>");
  });
  // Run labels: at most ~12, by short commit or index.
  const step = Math.max(1, Math.ceil(n / 12));
  for (let i = 0; i < n; i += step) {
    const e = entries[i]!;
    out.push(
      `<text x="${x(i).toFixed(1)}" y="${
        bottom + 16
      }" font-size="9" text-anchor="middle">${
        esc(e.commit ? e.commit.slice(0, 7) : `#${i + 1}`)
      }</text>`,
    );
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
