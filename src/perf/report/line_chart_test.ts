import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import type { Point } from "../timeline/mod.ts";
import { renderLineChart, thin } from "./line_chart.ts";

/** The `d` of each series' path, in order. */
function paths(svg: string): string[] {
  return [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!);
}

/** The label of every tick, in order. */
function ticks(svg: string): string[] {
  return [...svg.matchAll(/class="tick"[^>]*>([^<]+)</g)].map((m) => m[1]!);
}

Deno.test("renderLineChart maps values onto the axes and labels them", () => {
  const svg = renderLineChart({
    title: "queue <depth>",
    xLabel: "seconds",
    yLabel: "jobs",
    width: 600,
    height: 300,
    series: [{ name: "a & b", points: [[0, 0], [10, 5], [20, 10]] }],
  });
  assertMatch(svg, /^<svg class="chart" width="600" height="315"/);
  assertMatch(
    svg,
    /aria-label="queue &lt;depth&gt;"|aria-label="queue &lt;depth>"/,
  );
  assert(svg.includes(">a &amp; b</text>"), "legend escaped");
  // x from 62 to 584 (600 − 16); y from 273 (315 − 42) up to 41 (26 + 15).
  assertEquals(paths(svg), ["M62.0,273.0L323.0,157.0L584.0,41.0"]);
  assertEquals(ticks(svg), [
    "0",
    "5",
    "10",
    "15",
    "20",
    "0",
    "2",
    "4",
    "6",
    "8",
    "10",
  ]);
  // Three points: each has a marker with its values.
  assertEquals(svg.match(/<circle /g)?.length, 3);
  assert(svg.includes("<title>a &amp; b: 5.00 at 10.0</title>"));
});

Deno.test("renderLineChart draws staircases and log axes", async (t) => {
  await t.step("steps go across, then up", () => {
    const svg = renderLineChart({
      title: "cdf",
      xLabel: "s",
      yLabel: "share",
      steps: true,
      yMin: 0,
      yMax: 1,
      width: 600,
      height: 300,
      series: [{ name: "x", points: [[0, 0.5], [10, 1]] }],
    });
    assertEquals(paths(svg), ["M62.0,157.0H584.0V41.0"]);
  });
  await t.step(
    "a log axis spans whole 1-2-5 steps and leaves out zeros",
    () => {
      const svg = renderLineChart({
        title: "log",
        xLabel: "ms",
        yLabel: "share",
        xLog: true,
        series: [{ name: "x", points: [[0, 0.1], [3, 0.2], [400, 1]] }],
      });
      // 3 → 2 below, 400 → 500 above; over more than two decades the
      // ticks are at 1 and 3 × 10^k.
      assertEquals(ticks(svg).slice(0, 5), ["3", "10", "30", "100", "300"]);
      assertEquals(
        svg.match(/<circle /g)?.length,
        2,
        "the point at 0 is left out",
      );
    },
  );
});

Deno.test("renderLineChart says when there is nothing to draw", () => {
  const svg = renderLineChart({
    title: "empty",
    xLabel: "x",
    yLabel: "y",
    series: [{ name: "none", points: [[1, NaN]] }],
  });
  assertMatch(svg, /class="no-data"[^>]*>no data</);
  assertEquals(paths(svg), []);
});

Deno.test("thin keeps each stretch's lowest and highest point, in order", () => {
  const points: Point[] = Array.from({ length: 1000 }, (_, i) => [i, i % 7]);
  points[500] = [500, 99];
  const out = thin(points, 100);
  assert(out.length <= 100, `${out.length} points`);
  assert(out.some((p) => p[1] === 99), "the spike survives");
  assertEquals(
    out.map((p) => p[0]),
    [...out.map((p) => p[0])].sort((a, b) => a - b),
  );
  assertEquals(thin(points.slice(0, 5), 100), points.slice(0, 5));
});
