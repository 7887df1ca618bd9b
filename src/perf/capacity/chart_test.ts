import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import { renderCapacityChart } from "./chart.ts";
import { CapacityReportSchema, summarize } from "./report.ts";
import { capacityReport, capacityStep } from "./_testing.ts";

/** Checks that every tag is closed in order; returns the element names. */
function elements(svg: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  const body = svg.replace(/<title>[^<]*<\/title>/g, "");
  for (const m of body.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (closing) {
      assertEquals(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      names.push(name!);
      if (!selfClosing) stack.push(name!);
    }
  }
  assertEquals(stack, [], "unclosed elements");
  return names;
}

function steps() {
  return [
    capacityStep(1, 4, true, 0.3),
    capacityStep(2, 6, true, 0.4),
    capacityStep(3, 9, true, 0.9),
    capacityStep(4, 13.5, false, 25),
    capacityStep(5, 11.5, false, 2.4),
    capacityStep(6, 10.5, true, 1.6),
    capacityStep(7, 11, false, 2.1),
  ];
}

Deno.test("renderCapacityChart draws latency, CPU, the limit and the capacity", () => {
  const s = steps();
  const report = CapacityReportSchema.parse(
    capacityReport(s, summarize(s, 13, "resolution reached")),
  );
  const svg = renderCapacityChart(report);
  assertMatch(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert(svg.trimEnd().endsWith("</svg>"));
  assert(!svg.includes("NaN") && !svg.includes("undefined"));
  const names = elements(svg);
  assertEquals(names.filter((n) => n === "svg").length, 1);
  for (
    const series of [
      "latency-p50",
      "latency-p95",
      "latency-p99",
      "cpu-service",
      "cpu-k6",
      "cpu-machine",
    ]
  ) {
    assertMatch(svg, new RegExp(`class="series ${series}" d="M[^"]+"`));
  }
  // One line point per step, in rate order.
  const p95 = /class="series latency-p95" d="([^"]+)"/.exec(svg)![1]!;
  const xs = [...p95.matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]));
  assertEquals(xs.length, s.length);
  assertEquals(xs, [...xs].sort((a, b) => a - b));
  // The threshold is horizontal; the capacity line sits at 10.5 jobs/s,
  // between the 9 and 11 jobs/s points.
  const th =
    /class="threshold" x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)"/
      .exec(svg)!;
  assertEquals(th[1], th[2]);
  assertMatch(svg, /p95 limit 2 s/);
  const cap = /class="capacity" x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"/.exec(
    svg,
  )!;
  assertEquals(cap[1], cap[2]);
  const x = Number(cap[1]);
  assert(x > xs[2]! && x < xs[4]!, `capacity at x=${x}, points ${xs}`);
  assertMatch(svg, /capacity 10\.5 jobs\/s/);
  assertMatch(svg, /Capacity: 10\.5 jobs\/s/);
  // 25 s at 13.5 jobs/s is off the scale: a marker with the real value.
  assertMatch(
    svg,
    /class="off-scale"[^>]*><title>13\.5 jobs\/s: p95 25\.0 s \(fail\), off the scale/,
  );
  // Steps tried, pass and fail.
  assertEquals((svg.match(/class="step pass"/g) ?? []).length, 4);
  assertEquals((svg.match(/class="step fail"/g) ?? []).length, 3);
});

Deno.test("renderCapacityChart says so when no rate passed", async (t) => {
  await t.step("failing steps", () => {
    const s = [capacityStep(1, 4, false, 5), capacityStep(2, 2, false, null)];
    const svg = renderCapacityChart(
      CapacityReportSchema.parse(
        capacityReport(s, summarize(s, null, "resolution reached")),
      ),
    );
    elements(svg);
    assertMatch(svg, /class="no-capacity"/);
    assert(!svg.includes('class="capacity"'));
    assert(!svg.includes("NaN"));
  });
  await t.step("no steps at all (interrupted)", () => {
    const svg = renderCapacityChart(
      capacityReport([], summarize([], null, "interrupted")),
    );
    elements(svg);
    assertMatch(svg, /no rate met the criteria/);
    assert(!svg.includes("NaN"));
  });
});

Deno.test("renderCapacityChart names the protocol the steps drove", () => {
  const steps = [capacityStep(1, 4, true)];
  const report = capacityReport(
    steps,
    summarize(steps, 8, "resolution reached"),
  );
  assertMatch(renderCapacityChart(report), /tiny\.en, long polling on; /);
  report.setup = { ...report.setup, api: "openai", long_poll: false };
  assertMatch(
    renderCapacityChart(report),
    /tiny\.en, one request per job \(--api openai\); /,
  );
});
