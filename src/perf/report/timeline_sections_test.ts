import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import type { TimelineSample } from "../timeline/mod.ts";
import { tableRows } from "./_testing.ts";
import { processSection, serviceSection } from "./timeline_sections.ts";

/** A service that completes 2 jobs a second and starts refusing at t=2. */
function timeline(): TimelineSample[] {
  return [0, 1, 2, 3, 4].map((t) => ({
    t,
    processes: {
      api: { cpu_s: 0.5 * t, rss_mib: 100 + t },
      "worker-1": { cpu_s: 0.25 * t, rss_mib: 200 + 2 * t },
    },
    service: {
      queued: t,
      pieces_queued: t === 4 ? 6 : 0,
      processing: 1,
      completed: 2 * t,
      failed: t >= 3 ? 1 : 0,
      refusals: (t >= 2 ? { queue_full: t - 1 } : {}) as Record<string, number>,
      http_5xx: 0,
      storage_used_bytes: 2 ** 20 * t,
      workers_busy: 1,
    },
  }));
}

Deno.test("serviceSection totals completions and refusals and draws the queue", () => {
  const s = serviceSection(timeline());
  assertEquals(s.id, "service");
  assertEquals(tableRows(s.html).slice(0, 8), [
    ["over the run", "count"],
    ["completed", "8"],
    ["failed", "1"],
    ["refused: queue_full", "3"],
    ["HTTP 5xx", "0"],
    ["most jobs queued at once", "4"],
    ["most pieces queued at once", "6"],
  ]);
  for (
    const title of [
      "queue depth",
      "completions, failures and refusals per second",
      "storage used",
    ]
  ) {
    assert(s.html.includes(`aria-label="${title}"`), title);
  }
  assert(s.html.includes(">refused queue_full/s<"), "a series per code");
});

Deno.test("processSection gives each process's CPU in cores and its memory", () => {
  const s = processSection(timeline());
  assertEquals(tableRows(s.html), [
    [
      "process",
      "CPU mean (cores)",
      "CPU peak (cores)",
      "RSS first (MiB)",
      "RSS last (MiB)",
      "RSS peak (MiB)",
      "RSS last − first (MiB)",
    ],
    ["api", "0.50", "0.50", "100.0", "104.0", "104.0", "4.0"],
    ["worker-1", "0.25", "0.25", "200.0", "208.0", "208.0", "8.0"],
  ]);
  assert(s.html.includes(">all of them<"), "the total line");
});

Deno.test("timeline sections say when there is no timeline", () => {
  assertMatch(serviceSection([]).html, /no timeline in this archive/);
  assertMatch(processSection([]).html, /no timeline in this archive/);
  const unscraped = timeline().map(({ t, processes }) => ({ t, processes }));
  assertMatch(
    serviceSection(unscraped).html,
    /the timeline has no \/metrics figures/,
  );
});
