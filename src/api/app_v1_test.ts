/**
 * API app tests of the OpenAI-compatible `/v1` routes: POST
 * /v1/audio/transcriptions waits for its job and answers in the format asked
 * (the same job read natively as srt, vtt and text), times out with a 504,
 * drops the job of a client that left, maps job failures, and speaks OpenAI's
 * error shape.
 */
import { assert, assertEquals, assertMatch } from "../testing/assert.ts";
import type { Store } from "../queue/mod.ts";
import { hashKey } from "./identity.ts";
import { RESULT, v1Form, withApp } from "./_app_testing.ts";

/** Waits until `owner` has a job, and returns its id. */
async function firstJob(store: Store, owner: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const page = await store.listJobs(owner, 1);
    if (page.jobs[0]) return page.jobs[0].job_id;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no job for ${owner}`);
}

Deno.test("app: /v1 answers when the job completes, in the format asked, with the job's options stored", async () => {
  await withApp({ DEFAULT_MODEL: "tiny.en-q8_0" }, async (app, store) => {
    const pending = app.request(
      "/v1/audio/transcriptions",
      v1Form({
        model: "whisper-1",
        response_format: "verbose_json",
        "timestamp_granularities[]": "word",
        prompt: "Door commands.",
        temperature: "0.3",
      }),
    );
    const id = await firstJob(store, "alice");
    const job = await store.getJob(id);
    assertEquals(job?.options, {
      prompt: "Door commands.",
      temperature: 0.3,
      detail: "word",
    });
    assertEquals(job?.model_name, "tiny.en-q8_0");
    await store.startJob(id, "w1");
    await store.completeJob(id, RESULT);
    const res = await pending;
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("x-model"), "tiny.en-q8_0");
    assertEquals(res.headers.get("x-job-id"), id);
    assertEquals(res.headers.get("x-processing-ms"), "80");
    const body = await res.json();
    assertEquals(body.task, "transcribe");
    assertEquals(body.language, "english");
    assertEquals(body.duration, 1);
    assertEquals(body.text, "Open the door.");
    assertEquals(body.words, [
      { word: "Open", start: 0.1, end: 0.3 },
      { word: "the", start: 0.3, end: 0.5 },
      { word: "door", start: 0.5, end: 0.9 },
    ]);
    assertEquals(body.segments, undefined);
    assertEquals(body.usage, { type: "duration", seconds: 1 });

    // The same job as subtitles and text through the native route.
    const srt = await app.request(`/jobs/${id}?format=srt`, {
      headers: { authorization: "Bearer alice" },
    });
    assertEquals(
      srt.headers.get("content-type"),
      "application/x-subrip; charset=utf-8",
    );
    assertEquals(
      await srt.text(),
      "1\n00:00:00,000 --> 00:00:01,000\nOpen the door.\n",
    );
    const vtt = await app.request(`/jobs/${id}?format=vtt`, {
      headers: { "x-user-id": "alice" },
    });
    assertMatch(
      await vtt.text(),
      /^WEBVTT\n\n00:00:00\.000 --> 00:00:01\.000\nOpen the door\.\n$/,
    );
    const text = await app.request(`/jobs/${id}?format=text`, {
      headers: { "x-user-id": "alice" },
    });
    assertEquals(await text.text(), "Open the door.\n");
  });
});

Deno.test("app: /v1 past TRANSCRIPTION_TIMEOUT_S is a 504 naming the job, which carries on", async () => {
  await withApp({ TRANSCRIPTION_TIMEOUT_S: "1" }, async (app, store) => {
    const t0 = performance.now();
    const res = await app.request("/v1/audio/transcriptions", v1Form());
    const waited = performance.now() - t0;
    assertEquals(res.status, 504);
    const body = await res.json();
    assertEquals(body.error.code, "transcription_timeout");
    assertEquals(body.error.type, "server_error");
    const id = res.headers.get("x-job-id")!;
    assertMatch(body.error.message, new RegExp(`job ${id}`));
    assert(waited >= 950 && waited < 5000, `waited ${waited} ms`);
    assertEquals((await store.getJob(id))?.status, "queued");
    // Native subtitles of an unfinished job: 409, not an empty file.
    const srt = await app.request(`/jobs/${id}?format=srt`, {
      headers: { "x-user-id": "alice" },
    });
    assertEquals(srt.status, 409);
    assertEquals((await srt.json()).error.code, "transcript_not_ready");
  });
});

Deno.test("app: a /v1 client that goes away takes its queued job with it", async () => {
  await withApp({}, async (app, store) => {
    const stop = new AbortController();
    const pending = Promise.resolve(
      app.request("/v1/audio/transcriptions", v1Form({}, "gone", stop.signal)),
    ).catch((e: unknown) => e);
    const id = await firstJob(store, "gone");
    stop.abort();
    await pending;
    for (let i = 0; i < 100 && (await store.getJob(id)) !== null; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(await store.getJob(id), null);
  });
});

Deno.test("app: a /v1 client gone before its job is queued takes it with it at once", async () => {
  await withApp({ TRANSCRIPTION_TIMEOUT_S: "30" }, async (app, store) => {
    const gone = new AbortController();
    gone.abort();
    const t0 = performance.now();
    await app.request(
      "/v1/audio/transcriptions",
      v1Form({}, "early", gone.signal),
    );
    // Not the 30 s wait: the signal had aborted before the wait began.
    assert(performance.now() - t0 < 5000, `${performance.now() - t0} ms`);
    assertEquals((await store.listJobs("early", 10)).jobs, []);
  });
});

Deno.test("app: a /v1 job that fails on bad audio is a 400 naming the file; on our side a 500", async () => {
  await withApp({}, async (app, store) => {
    for (
      const [code, status, type] of [
        ["audio_decode_failed", 400, "invalid_request_error"],
        ["engine_failed", 500, "server_error"],
      ] as const
    ) {
      const user = `fail-${status}`;
      const pending = app.request("/v1/audio/transcriptions", v1Form({}, user));
      const id = await firstJob(store, user);
      await store.startJob(id, "w1");
      await store.failJob(id, { code, message: "it broke" });
      const res = await pending;
      assertEquals(res.status, status);
      const body = await res.json();
      assertEquals(body.error.code, code);
      assertEquals(body.error.type, type);
      assertEquals(body.error.param, status === 400 ? "file" : null);
      assertEquals(body.detail, undefined);
    }
  });
});

Deno.test("app: /v1 errors are OpenAI-shaped; native ones keep ours", async () => {
  await withApp(
    { AUTH_MODE: "api_key", API_KEYS: `k=${hashKey("secret")}` },
    async (app) => {
      const v1 = await app.request("/v1/models");
      assertEquals(v1.status, 401);
      assertEquals(await v1.json(), {
        error: {
          message: "missing Authorization: Bearer <api key>",
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      });
      const native = await app.request("/jobs");
      assertEquals(native.status, 401);
      const body = await native.json();
      assertEquals(body.error.code, "unauthorized");
      assertEquals(body.detail, body.error.message);
      const ok = await app.request("/v1/models/whisper-1", {
        headers: { authorization: "Bearer secret" },
      });
      assertEquals(ok.status, 200);
      assertEquals((await ok.json()).id, "whisper-1");
    },
  );
});
