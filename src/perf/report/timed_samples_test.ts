import { join } from "node:path";
import {
  assertEquals,
  assertMatch,
  rejectsWith,
} from "../../testing/assert.ts";
import { ConfigError } from "../../errors/mod.ts";
import { readTimedSamples } from "./timed_samples.ts";

const LINES = [
  `{"type":"Metric","data":{"name":"server_processing_ms","type":"trend"},"metric":"server_processing_ms"}`,
  `{"metric":"server_processing_ms","type":"Point","data":{"time":"2026-12-06T10:00:01.5Z","value":210,"tags":{"class":"1s","scenario":"workload_mix"}}}`,
  `{"metric":"http_req_duration","type":"Point","data":{"time":"2026-12-06T10:00:01Z","value":3.2,"tags":{}}}`,
  `{"metric":"transcription_latency_seconds","type":"Point","data":{"time":"2026-12-06T10:00:02Z","value":1.02,"tags":{"scenario":"submit_and_poll"}}}`,
  `{"metric":"server_processing_ms","type":"Point","data":{"time":"not a time","value":5,"tags":{}}}`,
];

async function withFile(
  text: string,
  gzip: boolean,
  body: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "timed-samples-" });
  try {
    const path = join(dir, gzip ? "samples.json.gz" : "samples.json");
    let bytes = new TextEncoder().encode(text);
    if (gzip) {
      bytes = new Uint8Array(
        await new Response(
          new Blob([bytes]).stream().pipeThrough(
            new CompressionStream("gzip"),
          ),
        ).arrayBuffer(),
      );
    }
    await Deno.writeFile(path, bytes);
    await body(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readTimedSamples keeps the wanted metrics with time and class", async (t) => {
  for (const gzip of [false, true]) {
    await t.step(gzip ? "gzip" : "plain", async () => {
      await withFile(LINES.join("\n") + "\n", gzip, async (path) => {
        const got = await readTimedSamples(path, [
          "server_processing_ms",
          "transcription_latency_seconds",
          "server_queue_wait_ms",
        ]);
        assertEquals(got.get("server_processing_ms"), [
          {
            at: Date.parse("2026-12-06T10:00:01.5Z"),
            value: 210,
            class: "1s",
          },
        ]);
        assertEquals(got.get("transcription_latency_seconds"), [
          { at: Date.parse("2026-12-06T10:00:02Z"), value: 1.02 },
        ]);
        assertEquals(got.get("server_queue_wait_ms"), []);
        assertEquals(got.has("http_req_duration"), false);
      });
    });
  }
});

Deno.test("readTimedSamples names the file and line of a torn wanted line", async () => {
  await withFile(
    `${LINES[1]}\n{"metric":"server_processing_ms","type":"Po\n`,
    false,
    async (path) => {
      const e = await rejectsWith(
        () => readTimedSamples(path, ["server_processing_ms"]),
        ConfigError,
      );
      assertMatch(e.message, /samples\.json: line 2 is not valid JSON/);
    },
  );
});
