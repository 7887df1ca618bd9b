import {
  assert,
  assertAlmostEquals,
  assertEquals,
} from "../../testing/assert.ts";
import {
  coresOf,
  increase,
  memoryGrowth,
  type Point,
  ratePerSecond,
  rssOf,
  theilSen,
} from "./series.ts";
import type { TimelineSample } from "./sampler.ts";

function sample(
  t: number,
  procs: Record<string, [number, number]>,
): TimelineSample {
  return {
    t,
    processes: Object.fromEntries(
      Object.entries(procs).map(([n, [cpu_s, rss_mib]]) => [n, {
        cpu_s,
        rss_mib,
      }]),
    ),
  };
}

Deno.test("coresOf: CPU seconds per second between samples; a restart starts over", () => {
  const s = [
    sample(0, { api: [10, 50] }),
    sample(2, { api: [11, 50] }),
    sample(3, { api: [11.5, 50] }),
    sample(4, { api: [0.2, 40] }), // restarted
    sample(5, { api: [0.6, 40] }),
  ];
  const cores = coresOf(s, "api");
  assertEquals(cores.map((p) => p[0]), [2, 3, 5]);
  assertEquals(cores.slice(0, 2).map((p) => p[1]), [0.5, 0.5]);
  assertAlmostEquals(cores[2]![1], 0.4, 1e-9);
  assertEquals(rssOf(s, "api").map((p) => p[1]), [50, 50, 50, 40, 40]);
  assertEquals(coresOf(s, "gone"), []);
});

Deno.test("ratePerSecond of a running total", () => {
  assertEquals(ratePerSecond([[0, 0], [2, 6], [3, 6], [4, 1]]), [[2, 3], [
    3,
    0,
  ]]);
});

Deno.test("theilSen ignores outliers a least-squares line would follow", () => {
  const pts: Point[] = Array.from({ length: 60 }, (_, i) => [i, 100 + 0.5 * i]);
  pts[30] = [30, 400]; // a spike
  pts[31] = [31, 0];
  assertAlmostEquals(theilSen(pts), 0.5, 1e-9);
  assert(Number.isNaN(theilSen([[1, 1]])));
});

Deno.test("memoryGrowth: the warm-up is left out; a leak shows as MiB per hour", () => {
  const samples: TimelineSample[] = [];
  for (let t = 0; t <= 600; t += 5) {
    // The worker fills up in the first minute then leaks 1 MiB per minute;
    // the API fills up and stays flat with a sawtooth.
    const worker = t < 60 ? 100 + t : 160 + (t - 60) / 60;
    const api = t < 60 ? 50 + t / 2 : 80 + (t % 20 === 0 ? 3 : 0);
    samples.push(sample(t, { "worker-1": [t, worker], api: [t, api] }));
  }
  const g = Object.fromEntries(memoryGrowth(samples).map((x) => [x.name, x]));
  assertAlmostEquals(g["worker-1"]!.mibPerHour, 60, 1e-6);
  assertAlmostEquals(g.api!.mibPerHour, 0, 1e-6);
  assertEquals(g["worker-1"]!.seconds, 480);
  assertEquals(memoryGrowth([]), []);
});

Deno.test("increase sums a running total's growth; a restart starts over", () => {
  assertEquals(increase([]), 0);
  assertEquals(increase([[0, 5], [1, 9], [2, 12]]), 7);
  // Restarted at t=2 (down to 2), then 2 → 6.
  assertEquals(increase([[0, 5], [1, 9], [2, 2], [3, 6]]), 4 + 2 + 4);
});
