/**
 * API app tests of streamed transcriptions (`POST /v1/audio/transcriptions`
 * with `stream=true`): the events of a job that completes, fails or runs
 * past the time limit, the formats a stream may ask for, and a client that
 * leaves. Pieces arriving one by one are tested through the SDKs on a real
 * stack (tests/openai_sdk_test.ts, tests/openai_python_test.ts).
 */
import { assert, assertEquals, assertMatch } from "../testing/assert.ts";
import { RESULT, v1Form, withApp } from "./_app_testing.ts";
import { parseSse } from "./openai/stream.ts";

/** A streamed transcription request: {@linkcode v1Form} with `stream=true`. */
function streamForm(
  fields: Record<string, string>,
  user: string,
  signal?: AbortSignal,
): RequestInit {
  return v1Form({ stream: "true", ...fields }, user, signal);
}

Deno.test("app: a streamed /v1 transcription sends its text as a delta, then done with usage", async () => {
  await withApp({}, async (app, store) => {
    const res = await app.request(
      "/v1/audio/transcriptions",
      streamForm({ response_format: "text" }, "alice"),
    );
    // The answer starts at once, before any worker took the job.
    assertEquals(res.status, 200);
    assertEquals(
      res.headers.get("content-type"),
      "text/event-stream; charset=utf-8",
    );
    assertEquals(res.headers.get("cache-control"), "no-cache");
    const id = res.headers.get("x-job-id")!;
    assertEquals((await store.getJob(id))?.status, "queued");
    await store.startJob(id, "w1");
    await store.completeJob(id, RESULT);
    const events = parseSse(await res.text());
    assertEquals(events, [
      { type: "transcript.text.delta", delta: "Open the door." },
      {
        type: "transcript.text.done",
        text: "Open the door.",
        usage: { type: "duration", seconds: 1 },
      },
    ]);
  });
});

Deno.test("app: a streamed /v1 job that fails, or outlasts the time limit, ends with an OpenAI error event", async () => {
  await withApp({ TRANSCRIPTION_TIMEOUT_S: "1" }, async (app, store) => {
    const res = await app.request(
      "/v1/audio/transcriptions",
      streamForm({}, "bob"),
    );
    assertEquals(res.status, 200);
    const id = res.headers.get("x-job-id")!;
    await store.startJob(id, "w1");
    await store.failJob(id, { code: "audio_decode_failed", message: "bad" });
    assertEquals(parseSse(await res.text()), [{
      error: {
        message: "file: bad",
        type: "invalid_request_error",
        param: "file",
        code: "audio_decode_failed",
      },
    }]);

    const t0 = performance.now();
    const late = await app.request(
      "/v1/audio/transcriptions",
      streamForm({}, "carol"),
    );
    const events = parseSse(await late.text());
    const waited = performance.now() - t0;
    assert(waited >= 950 && waited < 5000, `waited ${waited} ms`);
    assertEquals(events.length, 1);
    const error = (events[0] as { error: Record<string, string> }).error;
    assertEquals(error.code, "transcription_timeout");
    assertEquals(error.type, "server_error");
    const lateId = late.headers.get("x-job-id")!;
    assertMatch(error.message!, new RegExp(`carries on as job ${lateId}`));
    assertEquals((await store.getJob(lateId))?.status, "queued");
  });
});

Deno.test("app: stream=true takes json or text only; a bad stream value is a 400 naming it", async () => {
  await withApp({}, async (app, store) => {
    for (
      const [fields, pattern] of [
        [
          { response_format: "srt" },
          /response_format must be json or text, not srt/,
        ],
        [{ response_format: "verbose_json" }, /not verbose_json/],
      ] as const
    ) {
      const res = await app.request(
        "/v1/audio/transcriptions",
        streamForm(fields, "dave"),
      );
      assertEquals(res.status, 400);
      const body = await res.json();
      assertEquals(body.error.param, "stream");
      assertEquals(body.error.code, "invalid_field");
      assertMatch(body.error.message, pattern);
    }
    const res = await app.request(
      "/v1/audio/transcriptions",
      v1Form({ stream: "yes" }, "dave"),
    );
    assertEquals(res.status, 400);
    const body = await res.json();
    assertEquals(body.error.param, "stream");
    assertMatch(body.error.message, /^stream: must be true or false/);
    assertEquals((await store.listJobs("dave", 10)).jobs, []);
  });
});

Deno.test("app: a streaming client that leaves takes its queued job with it", async () => {
  await withApp({ TRANSCRIPTION_TIMEOUT_S: "30" }, async (app, store) => {
    const stop = new AbortController();
    const res = await app.request(
      "/v1/audio/transcriptions",
      streamForm({}, "erin", stop.signal),
    );
    const id = res.headers.get("x-job-id")!;
    assertEquals((await store.getJob(id))?.status, "queued");
    await res.body!.cancel();
    for (let i = 0; i < 200 && (await store.getJob(id)) !== null; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(await store.getJob(id), null);
  });
});
