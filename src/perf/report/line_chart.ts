/**
 * A line chart as inline SVG for the report page: series against a shared x
 * axis, each axis linear or logarithmic, a legend, a tooltip per point
 * (`<title>`) on short series, and long series thinned to each stretch's
 * extremes so an hour-long run stays a light page.
 */
import { escapeXml as esc, niceNumber, tickLabel, tickStep } from "../_svg.ts";
import type { Point } from "../timeline/mod.ts";

/** Colours told apart by colour-blind readers (Paul Tol's "bright" and "muted"). */
export const PALETTE: readonly string[] = [
  "#4477aa",
  "#ee7733",
  "#228833",
  "#cc3311",
  "#aa3377",
  "#66ccee",
  "#ccbb44",
  "#777777",
  "#332288",
  "#009988",
];

/** One line of a chart. */
export interface ChartSeries {
  name: string;
  points: readonly Point[];
  /** @default the palette's colour at the series' position */
  color?: string;
  /** An SVG `stroke-dasharray`, e.g. `"5 3"`. */
  dash?: string;
}

/** What {@linkcode renderLineChart} draws. */
export interface LineChartOptions {
  /** Shown above the plot; also the chart's accessible name. */
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** A logarithmic x axis (points at x ≤ 0 are left out). @default false */
  xLog?: boolean;
  /** A logarithmic y axis (points at y ≤ 0 are left out). @default false */
  yLog?: boolean;
  /** Each series as a staircase, for a cumulative distribution. @default false */
  steps?: boolean;
  /** The y axis's lower end on a linear axis. @default min(0, lowest value) */
  yMin?: number;
  /** The y axis's upper end. @default the highest value, rounded up */
  yMax?: number;
  /** @default 580 */
  width?: number;
  /** @default 270 */
  height?: number;
  /** A series longer than this is thinned. @default 600 */
  maxPoints?: number;
}

const LEFT = 62;
const RIGHT = 16;
const TOP = 26;
const BOTTOM = 42;
const LEGEND_ROW = 15;
/**
 * Series up to this many points get a marker with a tooltip per point
 * (a staircase: up to the smaller number, so one sample still shows).
 */
const MARKED_POINTS = 40;
const MARKED_STEPS = 12;

interface Scale {
  at(v: number): number;
  ticks: { v: number; label: string }[];
}

function linearScale(
  lo: number,
  hi: number,
  from: number,
  to: number,
  count: number,
  roundHi: boolean,
): Scale {
  if (!(hi > lo)) hi = lo + 1;
  const step = tickStep(hi - lo, count);
  if (roundHi) hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) {
    ticks.push({ v, label: tickLabel(v, step) });
  }
  return { at: (v) => from + ((v - lo) / (hi - lo)) * (to - from), ticks };
}

/** The nearest 1, 2 or 5 × 10^k at or below (`down`) or above `v`. */
function snap125(v: number, down: boolean): number {
  const mag = 10 ** Math.floor(Math.log10(v));
  const steps = down ? [5, 2, 1] : [1, 2, 5, 10];
  for (const f of steps) {
    if (down ? f * mag <= v * (1 + 1e-9) : f * mag >= v * (1 - 1e-9)) {
      return f * mag;
    }
  }
  return mag;
}

function logScale(lo: number, hi: number, from: number, to: number): Scale {
  lo = snap125(lo, true);
  hi = snap125(Math.max(hi, lo * 2), false);
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const ticks: Scale["ticks"] = [];
  const decades = l1 - l0;
  for (let k = Math.floor(l0); k <= Math.ceil(l1); k++) {
    for (const f of decades > 4 ? [1] : decades > 2 ? [1, 3] : [1, 2, 5]) {
      const v = f * 10 ** k;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) {
        // 1-2-5 × 10^k: "300", "0.05" rather than "300.0", "0.050".
        ticks.push({ v, label: String(Number(v.toPrecision(1))) });
      }
    }
  }
  return {
    at: (v) => from + ((Math.log10(v) - l0) / (l1 - l0)) * (to - from),
    ticks,
  };
}

/**
 * At most `max` points: the lowest and highest of each of `max / 2` runs of
 * consecutive points, in order, so peaks survive.
 */
export function thin(points: readonly Point[], max: number): Point[] {
  if (points.length <= max) return [...points];
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = points.length / buckets;
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const run = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (run.length === 0) continue;
    let lo = run[0]!, hi = run[0]!;
    for (const p of run) {
      if (p[1] < lo[1]) lo = p;
      if (p[1] > hi[1]) hi = p;
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo[0] <= hi[0] ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/** Renders the chart as an `<svg class="chart">` element for an HTML page. */
export function renderLineChart(o: LineChartOptions): string {
  const W = o.width ?? 580;
  const H0 = o.height ?? 270;
  const usable = (p: Point) =>
    Number.isFinite(p[0]) && Number.isFinite(p[1]) &&
    (!o.xLog || p[0] > 0) && (!o.yLog || p[1] > 0);
  const series = o.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length]!,
    points: thin(s.points.filter(usable), o.maxPoints ?? 600),
  }));
  // Legend rows: entries laid left to right, wrapping at the width.
  const legend: { x: number; row: number; s: typeof series[number] }[] = [];
  let lx = LEFT, row = 0;
  for (const s of series) {
    const w = 30 + s.name.length * 6.2;
    if (lx + w > W - RIGHT && lx > LEFT) {
      lx = LEFT;
      row++;
    }
    legend.push({ x: lx, row, s });
    lx += w + 10;
  }
  const legendH = series.length ? (row + 1) * LEGEND_ROW : 0;
  const H = H0 + legendH;
  const top = TOP + legendH;
  const bottom = H - BOTTOM;
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const out: string[] = [
    `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${
      esc(o.title)
    }" data-points="${all.length}">`,
    `<text x="${LEFT}" y="16" class="chart-title">${esc(o.title)}</text>`,
    `<rect x="${LEFT}" y="${top}" width="${W - LEFT - RIGHT}" height="${
      bottom - top
    }" class="frame"/>`,
  ];
  for (const { x, row, s } of legend) {
    const y = TOP + row * LEGEND_ROW + 2;
    out.push(
      `<line x1="${x}" y1="${y}" x2="${
        x + 22
      }" y2="${y}" stroke="${s.color}" stroke-width="2.5"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ""
      }/><text x="${x + 26}" y="${y + 4}" class="legend">${esc(s.name)}</text>`,
    );
  }
  out.push(
    `<text x="${(LEFT + W - RIGHT) / 2}" y="${
      H - 6
    }" class="axis-label" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(14 ${
      (top + bottom) / 2
    }) rotate(-90)" class="axis-label" text-anchor="middle">${
      esc(o.yLabel)
    }</text>`,
  );
  if (all.length === 0) {
    out.push(
      `<text x="${(LEFT + W - RIGHT) / 2}" y="${
        (top + bottom) / 2
      }" class="no-data" text-anchor="middle">no data</text>`,
      "</svg>",
    );
    return out.join("");
  }
  const x = o.xLog
    ? logScale(Math.min(...xs), Math.max(...xs), LEFT, W - RIGHT)
    : linearScale(
      Math.min(0, ...xs),
      Math.max(...xs),
      LEFT,
      W - RIGHT,
      8,
      false,
    );
  const yHi = o.yMax ?? Math.max(...ys);
  const y = o.yLog ? logScale(Math.min(...ys), yHi, bottom, top) : linearScale(
    o.yMin ?? Math.min(0, ...ys),
    yHi,
    bottom,
    top,
    5,
    o.yMax === undefined,
  );
  const f = (v: number) => v.toFixed(1);
  for (const t of x.ticks) {
    out.push(
      `<line x1="${f(x.at(t.v))}" y1="${bottom}" x2="${
        f(x.at(t.v))
      }" y2="${top}" class="grid"/><text x="${f(x.at(t.v))}" y="${
        bottom + 14
      }" class="tick" text-anchor="middle">${t.label}</text>`,
    );
  }
  for (const t of y.ticks) {
    out.push(
      `<line x1="${LEFT}" y1="${f(y.at(t.v))}" x2="${W - RIGHT}" y2="${
        f(y.at(t.v))
      }" class="grid"/><text x="${LEFT - 5}" y="${
        f(y.at(t.v) + 3.5)
      }" class="tick" text-anchor="end">${t.label}</text>`,
    );
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    let d = "";
    s.points.forEach(([px, py], i) => {
      const X = f(x.at(px)), Y = f(y.at(py));
      d += i === 0 ? `M${X},${Y}` : o.steps ? `H${X}V${Y}` : `L${X},${Y}`;
    });
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ""
      }><title>${esc(s.name)}</title></path>`,
    );
    if (s.points.length <= (o.steps ? MARKED_STEPS : MARKED_POINTS)) {
      for (const [px, py] of s.points) {
        out.push(
          `<circle cx="${f(x.at(px))}" cy="${
            f(y.at(py))
          }" r="2.2" fill="${s.color}"><title>${
            esc(`${s.name}: ${niceNumber(py)} at ${niceNumber(px)}`)
          }</title></circle>`,
        );
      }
    }
  }
  out.push("</svg>");
  return out.join("");
}
