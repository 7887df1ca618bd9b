/**
 * `capacity.svg`: the steps of a capacity search against the offered rate —
 * end-to-end latency p50/p95/p99 on the left axis (seconds) with the p95
 * limit, CPU use (service, k6, whole machine) on the right axis (cores), and
 * the capacity found marked.
 */
import {
  type CapacityReport,
  type CapacityStep,
  describeEngine,
  protocolOf,
} from "./report.ts";
import { escapeXml as esc, niceNumber, tickLabel, tickStep } from "../_svg.ts";

const W = 900;
const H = 500;
const LEFT = 70;
const RIGHT = 70;
const TOP = 96;
const BOTTOM = 56;

const LATENCY_SERIES = [
  { key: "p50", color: "#4477aa" },
  { key: "p95", color: "#ee7733" },
  { key: "p99", color: "#cc3311" },
] as const;

const CPU_SERIES: {
  key: "service" | "k6" | "machine";
  label: string;
  color: string;
  dash: string;
}[] = [
  { key: "service", label: "CPU service", color: "#228833", dash: "6 4" },
  { key: "k6", label: "CPU k6", color: "#aa3377", dash: "6 4" },
  { key: "machine", label: "CPU machine", color: "#777777", dash: "2 3" },
];

/**
 * Renders the report's steps as a self-contained SVG document.
 */
export function renderCapacityChart(report: CapacityReport): string {
  const steps = [...report.steps].sort((a, b) => a.rate_per_s - b.rate_per_s);
  const limit = report.criteria.max_latency_p95_s;
  const capacity = report.result.capacity_per_s;
  const cpus = report.machine.cpus;
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const bottom = TOP + plotH;

  const maxRate = Math.max(1, ...steps.map((s) => s.rate_per_s));
  const xMax = maxRate * 1.08;
  const x = (r: number) => LEFT + (r / xMax) * plotW;
  const worst = Math.max(
    0,
    ...steps.flatMap((s) =>
      [s.latency_s.p50, s.latency_s.p95, s.latency_s.p99].filter((
        v,
      ): v is number => v !== null)
    ),
  );
  // Overloaded steps can take tens of seconds: clip them, keep the limit
  // readable.
  const yMax = Math.min(limit * 4, Math.max(limit * 1.25, worst * 1.1));
  const yL = (v: number) => bottom - (Math.min(v, yMax) / yMax) * plotH;
  const cpuMax = Math.max(
    cpus,
    ...steps.map((s) => s.cpu_cores.machine),
  );
  const yR = (v: number) => bottom - (v / cpuMax) * plotH;
  const f = (v: number) => v.toFixed(1);

  const title = capacity === null
    ? "Capacity: no rate met the criteria"
    : `Capacity: ${capacity} jobs/s${
      report.result.stop_reason === "max rate passed" ? " or more" : ""
    }`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" role="img">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${LEFT}" y="24" font-size="15" font-weight="bold">${
      esc(title)
    }</text>`,
    `<text x="${LEFT}" y="42" font-size="11" fill="#444">${
      esc(
        `criteria: success ≥ ${
          (report.criteria.min_success_rate * 100).toFixed(1)
        } % (dropped iterations count), end-to-end p95 ≤ ${limit} s, throughput ≥ ${
          (report.criteria.min_throughput_ratio * 100).toFixed(1)
        } % of the rate`,
      )
    }</text>`,
    `<text x="${LEFT}" y="57" font-size="11" fill="#444">${
      esc(
        `${report.setup.workers} workers, ${report.setup.model}, ${
          protocolOf(report.setup)
        }; ${cpus} CPUs shared with k6; ${report.steps.length} steps of ${report.setup.step_duration_s} s${
          report.engine.jobs_per_s === null
            ? ""
            : `; engine alone ${describeEngine(report.engine)}`
        }`,
      )
    }</text>`,
    `<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="#bbb"/>`,
  ];

  // Axes: rate (bottom), latency (left), cores (right).
  const xs = tickStep(xMax, 8);
  for (let t = 0; t <= xMax + 1e-9; t += xs) {
    out.push(
      `<line x1="${f(x(t))}" y1="${bottom}" x2="${f(x(t))}" y2="${
        bottom + 4
      }" stroke="#888"/>`,
      `<text x="${f(x(t))}" y="${
        bottom + 16
      }" font-size="10" text-anchor="middle">${tickLabel(t, xs)}</text>`,
    );
  }
  out.push(
    `<text x="${LEFT + plotW / 2}" y="${
      H - 14
    }" font-size="12" text-anchor="middle">offered rate (jobs/s)</text>`,
  );
  const ys = tickStep(yMax, 6);
  for (let t = 0; t <= yMax + 1e-9; t += ys) {
    out.push(
      `<line x1="${LEFT - 4}" y1="${f(yL(t))}" x2="${LEFT}" y2="${
        f(yL(t))
      }" stroke="#888"/>`,
      `<text x="${LEFT - 6}" y="${
        f(yL(t) + 4)
      }" font-size="10" text-anchor="end">${tickLabel(t, ys)}</text>`,
    );
  }
  out.push(
    `<text transform="translate(18 ${
      TOP + plotH / 2
    }) rotate(-90)" font-size="12" text-anchor="middle">end-to-end latency (s)</text>`,
  );
  const rs = tickStep(cpuMax, 4);
  for (let t = 0; t <= cpuMax + 1e-9; t += rs) {
    out.push(
      `<line x1="${LEFT + plotW}" y1="${f(yR(t))}" x2="${
        LEFT + plotW + 4
      }" y2="${f(yR(t))}" stroke="#888"/>`,
      `<text x="${LEFT + plotW + 6}" y="${f(yR(t) + 4)}" font-size="10">${
        tickLabel(t, rs)
      }</text>`,
    );
  }
  out.push(
    `<text transform="translate(${W - 16} ${
      TOP + plotH / 2
    }) rotate(90)" font-size="12" text-anchor="middle">CPU (cores of ${cpus})</text>`,
  );

  // The p95 limit.
  out.push(
    `<line class="threshold" x1="${LEFT}" y1="${f(yL(limit))}" x2="${
      LEFT + plotW
    }" y2="${
      f(yL(limit))
    }" stroke="#cc3311" stroke-width="1.2" stroke-dasharray="8 4"><title>p95 limit ${limit} s</title></line>`,
    `<text x="${LEFT + 6}" y="${
      f(yL(limit) - 5)
    }" font-size="10" fill="#cc3311">p95 limit ${limit} s</text>`,
  );

  // CPU lines (behind the latency).
  for (const c of CPU_SERIES) {
    const pts = steps.map((s) => [x(s.rate_per_s), yR(s.cpu_cores[c.key])]);
    if (pts.length > 0) {
      out.push(
        `<path class="series cpu-${c.key}" d="${
          pts.map(([px, py], i) => `${i ? "L" : "M"}${f(px!)},${f(py!)}`).join(
            "",
          )
        }" fill="none" stroke="${c.color}" stroke-width="1.5" stroke-dasharray="${c.dash}"/>`,
      );
    }
    for (const s of steps) {
      out.push(
        `<rect x="${f(x(s.rate_per_s) - 2)}" y="${
          f(yR(s.cpu_cores[c.key]) - 2)
        }" width="4" height="4" fill="${c.color}"><title>${
          esc(
            `${s.rate_per_s} jobs/s: ${c.label} ${
              s.cpu_cores[c.key].toFixed(2)
            } cores`,
          )
        }</title></rect>`,
      );
    }
  }

  // Latency lines; failing steps get hollow points, clipped ones a triangle.
  for (const l of LATENCY_SERIES) {
    const pts = steps.filter((s) => s.latency_s[l.key] !== null);
    if (pts.length > 0) {
      out.push(
        `<path class="series latency-${l.key}" d="${
          pts.map((s, i) =>
            `${i ? "L" : "M"}${f(x(s.rate_per_s))},${
              f(yL(s.latency_s[l.key]!))
            }`
          ).join("")
        }" fill="none" stroke="${l.color}" stroke-width="2"/>`,
      );
    }
    for (const s of pts) out.push(latencyPoint(s, l.key, l.color, x, yL, yMax));
  }

  // Rates tried, as a rug under the plot.
  for (const s of steps) {
    out.push(
      `<line class="step ${s.pass ? "pass" : "fail"}" x1="${
        f(x(s.rate_per_s))
      }" y1="${bottom - 6}" x2="${f(x(s.rate_per_s))}" y2="${bottom}" stroke="${
        s.pass ? "#228833" : "#cc3311"
      }" stroke-width="2"><title>${
        esc(
          `step ${s.index}: ${s.rate_per_s} jobs/s, ${
            s.throughput_per_s === null ? "—" : s.throughput_per_s.toFixed(2)
          } done/s, ${s.pass ? "pass" : `fail (${s.reasons.join("; ")})`}`,
        )
      }</title></line>`,
    );
  }

  // The capacity.
  if (capacity !== null) {
    const cx = f(x(capacity));
    out.push(
      `<line class="capacity" x1="${cx}" y1="${TOP}" x2="${cx}" y2="${bottom}" stroke="#117733" stroke-width="2"><title>capacity ${capacity} jobs/s</title></line>`,
      `<text class="capacity-label" x="${f(x(capacity) - 5)}" y="${
        f(TOP + plotH * 0.4)
      }" font-size="11" text-anchor="end" fill="#117733" stroke="white" stroke-width="3" paint-order="stroke">capacity ${capacity} jobs/s</text>`,
    );
  } else {
    out.push(
      `<text class="no-capacity" x="${LEFT + plotW / 2}" y="${
        TOP + plotH / 2
      }" font-size="13" text-anchor="middle" fill="#cc3311">no rate met the criteria</text>`,
    );
  }

  // Legend.
  let lx = LEFT;
  for (const l of LATENCY_SERIES) {
    out.push(
      `<line x1="${lx}" y1="78" x2="${
        lx + 18
      }" y2="78" stroke="${l.color}" stroke-width="2"/>`,
      `<text x="${lx + 22}" y="82" font-size="11">latency ${l.key}</text>`,
    );
    lx += 95;
  }
  for (const c of CPU_SERIES) {
    out.push(
      `<line x1="${lx}" y1="78" x2="${
        lx + 18
      }" y2="78" stroke="${c.color}" stroke-width="1.5" stroke-dasharray="${c.dash}"/>`,
      `<text x="${lx + 22}" y="82" font-size="11">${esc(c.label)}</text>`,
    );
    lx += 110;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function latencyPoint(
  s: CapacityStep,
  key: "p50" | "p95" | "p99",
  color: string,
  x: (r: number) => number,
  y: (v: number) => number,
  yMax: number,
): string {
  const v = s.latency_s[key]!;
  const px = x(s.rate_per_s);
  const py = y(v);
  const tip = esc(
    `${s.rate_per_s} jobs/s: ${key} ${niceNumber(v)} s (${
      s.pass ? "pass" : "fail"
    })${v > yMax ? ", off the scale" : ""}`,
  );
  if (v > yMax) {
    return `<path class="off-scale" d="M${px.toFixed(1)},${
      (py - 5).toFixed(1)
    }L${(px + 5).toFixed(1)},${(py + 4).toFixed(1)}L${(px - 5).toFixed(1)},${
      (py + 4).toFixed(1)
    }Z" fill="${color}"><title>${tip}</title></path>`;
  }
  return `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${
    s.pass ? color : "white"
  }" stroke="${color}" stroke-width="1.5"><title>${tip}</title></circle>`;
}
