import { assertEquals } from "../../testing/assert.ts";
import { parseMetricsText, serviceFigures } from "./metrics_text.ts";

const TEXT = `# HELP http_requests_total HTTP requests by route and status
# TYPE http_requests_total counter
http_requests_total{method="POST",route="/jobs",status="201"} 40
http_requests_total{method="POST",route="/jobs",status="503"} 2
http_requests_total{method="GET",route="/jobs/:id",status="500"} 1
http_requests_total{method="GET",route="/jobs/:id",status="429"} 7
whisper_refusals_total{code="overloaded"} 5
whisper_refusals_total{code="quota_exceeded"} 2
whisper_jobs{status="queued"} 3
whisper_jobs{status="processing"} 2
whisper_jobs{status="completed"} 38
whisper_jobs{status="failed"} 1
whisper_pieces_queued 4
whisper_storage_bytes{kind="used"} 1048576
whisper_storage_bytes{kind="budget"} 9999999
whisper_workers_busy 2
weird{label="a \\"quoted\\" value"} 1
not a metric line
whisper_bad NaN
`;

Deno.test("parseMetricsText reads names, labels (escapes too) and values", () => {
  const series = parseMetricsText(TEXT);
  assertEquals(series[0], {
    name: "http_requests_total",
    labels: { method: "POST", route: "/jobs", status: "201" },
    value: 40,
  });
  assertEquals(
    series.find((s) => s.name === "weird")?.labels.label,
    'a "quoted" value',
  );
  // Comments, the broken line and the NaN are skipped.
  assertEquals(series.length, 15);
});

Deno.test("serviceFigures keeps the queue, the totals and the refusals", () => {
  assertEquals(serviceFigures(parseMetricsText(TEXT)), {
    queued: 3,
    pieces_queued: 4,
    processing: 2,
    completed: 38,
    failed: 1,
    refusals: { overloaded: 5, quota_exceeded: 2 },
    http_5xx: 3,
    storage_used_bytes: 1048576,
    workers_busy: 2,
  });
  const none = serviceFigures([]);
  assertEquals(none.queued, 0);
  assertEquals("storage_used_bytes" in none, false);
});
