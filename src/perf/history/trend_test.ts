import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import { join } from "node:path";
import {
  appendHistory,
  entriesOfApi,
  type HistoryEntry,
  historyEntry,
  loadHistory,
} from "./history.ts";
import { loadSummary, parseSummary } from "../summary.ts";
import { loadRunMetadata } from "../run_metadata.ts";
import { renderTrend } from "./trend.ts";
import { legacySummaryFor, syntheticRun } from "../../verdict/_testing.ts";

function entry(i: number, verdict: HistoryEntry["verdict"]): HistoryEntry {
  return {
    run: `2026-11-${String(i).padStart(2, "0")}T00-00-00Z`,
    commit: `${i}`.repeat(40).slice(0, 40),
    time: `2026-11-${String(i).padStart(2, "0")}T00:00:00Z`,
    environment: { model: "tiny.en" },
    figures: {
      latency_p50_s: 1 + i / 100,
      latency_p95_s: 1.2 + i / 100,
      throughput_per_s: 2,
      success_rate: 1,
      iterations: 120,
      http_req_p95_ms: 8,
    },
    verdict,
  };
}

Deno.test("historyEntry takes key figures from the summary and metadata", () => {
  const summary = parseSummary(
    legacySummaryFor(syntheticRun(1, 1, 120)),
    "summary.json",
  );
  const e = historyEntry({
    run: "r",
    group: "g",
    summary,
    metadata: {
      duration_seconds: 60,
      model: "tiny.en",
      started_at: "2026-11-29T10:00:00Z",
      git_commit: "abc",
    } as never,
    verdict: "pass",
  });
  assertEquals(e.figures.iterations, 120);
  assertEquals(e.figures.throughput_per_s, 2);
  assertEquals(e.figures.success_rate, 1);
  assert(Math.abs(e.figures.latency_p50_s! - 1) < 0.05);
  assertEquals(e.commit, "abc");
  assertEquals(e.group, "g");
  assertEquals(e.environment.model, "tiny.en");
  assertEquals(e.time, "2026-11-29T10:00:00Z");
});

Deno.test("historyEntry of an openai run takes its request's duration as the latency", async () => {
  const file =
    new URL("../testdata/runs/openai_pass/summary.json", import.meta.url)
      .pathname;
  const summary = await loadSummary(file);
  const metadata = (await loadRunMetadata(file))!.metadata;
  const e = historyEntry({ run: "r", summary, metadata, verdict: "pass" });
  const ms = summary.metrics.get("openai_request_duration_ms")!.values;
  assertEquals(e.environment.api, "openai");
  assertEquals(
    e.figures.latency_p50_s,
    Number((ms.med! / 1000).toPrecision(6)),
  );
  assertEquals(
    e.figures.latency_p95_s,
    Number((ms["p(95)"]! / 1000).toPrecision(6)),
  );
  assert(e.figures.latency_p95_s! > 0.02 && e.figures.latency_p95_s! < 1);
  const iterations = summary.metrics.get("iterations")!.values.count!;
  assertEquals(e.figures.iterations, iterations);
  assertEquals(e.figures.success_rate, 1);
  assertEquals(
    e.figures.throughput_per_s,
    Number((iterations / metadata.duration_seconds!).toPrecision(4)),
  );
});

Deno.test("entriesOfApi keeps one protocol's runs; lines without api are native", () => {
  const old = entry(1, "pass");
  const native = { ...entry(2, "pass"), environment: { api: "native" } };
  const openai = { ...entry(3, "pass"), environment: { api: "openai" } };
  const all = [old, openai, native];
  assertEquals(entriesOfApi(all, "native"), [old, native]);
  assertEquals(entriesOfApi(all, "openai"), [openai]);
});

Deno.test("history.jsonl appends lines and survives a bad one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await appendHistory(dir, entry(1, "pass"));
    await Deno.writeTextFile(join(dir, "history.jsonl"), "not json\n", {
      append: true,
    });
    await appendHistory(dir, entry(2, "regression"));
    const { entries, skipped } = await loadHistory(join(dir, "history.jsonl"));
    assertEquals(entries.map((e) => e.verdict), ["pass", "regression"]);
    assertEquals(skipped, [2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderTrend draws the three panels and marks regressions", async (t) => {
  const entries = [
    entry(1, "pass"),
    entry(2, "pass"),
    entry(3, "regression"),
    entry(4, "not judged"),
    {
      ...entry(5, "failed"),
      figures: { ...entry(5, "failed").figures, latency_p50_s: null },
    },
  ];
  const svg = renderTrend(entries);
  await t.step("a well-formed SVG with one panel per figure", () => {
    assertMatch(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assertMatch(svg, /<\/svg>\n$/);
    assertEquals(svg.match(/class="panel"/g)?.length, 3);
    for (const title of ["end-to-end latency", "throughput", "success rate"]) {
      assert(svg.includes(title), title);
    }
    assertMatch(svg, /5 runs/);
  });
  await t.step("exactly the regression runs are marked", () => {
    assertEquals(svg.match(/<line class="regression"/g)?.length, 1);
    // one marker per series point of run 3: p50, p95, throughput, success rate
    assertEquals(svg.match(/class="regression-marker"/g)?.length, 4);
    assertMatch(svg, /2026-11-03T00-00-00Z: regression/);
  });
  await t.step(
    "a missing value breaks the line instead of drawing zero",
    () => {
      const p50 = svg.split("\n").find((l) =>
        l.startsWith('<path d="M') && l.includes("#4477aa")
      )!;
      assertEquals(p50.match(/[ML]/g)?.length, 4);
    },
  );
  await t.step("an empty history still renders", () => {
    assertMatch(renderTrend([]), /no runs in the history yet/);
  });
});
