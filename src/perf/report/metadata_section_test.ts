import { assertEquals, assertMatch } from "../../testing/assert.ts";
import { tableRows } from "./_testing.ts";
import { metadataSection } from "./metadata_section.ts";

Deno.test("metadataSection shows the outcome, the groups and the other fields", () => {
  const s = metadataSection({
    started_at: "2026-12-06T14:50:20.000Z",
    finished_at: "2026-12-06T14:50:42.500Z",
    duration_seconds: 20,
    api: "native",
    model: "tiny.en-q8_0",
    cpu_count: 2,
    k6_exit_code: 99,
    interrupted: false,
    memory_mib: { api: { rss_mib: 130.3, peak_mib: 130.8 } },
    fault_injection: { processing_delay_ms: 40 },
    git_commit: "5eda1ff0b9",
    custom_note: "nightly",
  }, {
    verdict: "regression",
    reason: "regression against the baseline",
    code: 1,
  });
  const rows = tableRows(s.html);
  const value = (field: string) => rows.find((r) => r[0] === field)?.[1];
  assertEquals(value("verdict"), "regression");
  assertEquals(value("deno task perf exit code"), "1");
  assertEquals(value("k6 exit code"), "99 (thresholds failed)");
  assertEquals(value("interrupted"), "false");
  assertEquals(value("wall time of the k6 run"), "22.5 s");
  assertEquals(value("fault_injection"), '{"processing_delay_ms":40}');
  assertEquals(value("custom_note"), "nightly");
  assertEquals(rows.find((r) => r[0] === "api" && r.length === 3), [
    "api",
    "130.3",
    "130.8",
  ]);
  for (
    const h of [
      "outcome",
      "run",
      "options",
      "machine and versions",
      "memory when k6 finished",
      "other fields",
    ]
  ) {
    assertMatch(s.html, new RegExp(`<h3>${h}</h3>`));
  }
});

Deno.test("metadataSection says when the archive has no metadata", () => {
  assertMatch(metadataSection(undefined, undefined).html, /no metadata\.json/);
});
