import { assert, assertEquals, assertMatch } from "../testing/assert.ts";
import { ApiConfigSchema, parseEnv } from "../config/mod.ts";
import {
  connectRedis,
  JobEvents,
  Store,
  TranscribeQueue,
  waitConnected,
} from "../queue/mod.ts";
import { encodeWav, probeAudio } from "../audio/mod.ts";
import { testPrefix, testRedis } from "../testing/redis.ts";
import { createApp } from "./app.ts";
import { hashKey } from "./identity.ts";

const WAV = encodeWav(
  new Float32Array(16000).map((_, i) => Math.sin(i / 10) * 0.3),
  {
    sampleRate: 16000,
  },
);

async function withApp(
  env: Record<string, string>,
  fn: (app: ReturnType<typeof createApp>, store: Store) => Promise<void>,
) {
  const server = await testRedis();
  const redis = connectRedis(server.url);
  const bull = connectRedis(server.url, { forBullmq: true });
  const sub = connectRedis(server.url, { forBullmq: true });
  await waitConnected(redis);
  const prefix = testPrefix("app");
  const config = parseEnv(ApiConfigSchema, {
    REDIS_PREFIX: prefix,
    CHUNK_SIZE: "4096",
    ...env,
  });
  const store = new Store(redis, prefix);
  const queue = new TranscribeQueue(bull, prefix);
  const events = new JobEvents(sub, store.keys.jobEvents);
  await events.ready();
  const app = createApp({
    config,
    store,
    queue,
    events,
    installedModels: () => Promise.resolve(["tiny.en", "tiny.en-q8_0"]),
    checkAudio: async (bytes) => {
      const p = await probeAudio(bytes);
      return { durationS: p.durationS, format: p.format };
    },
  });
  try {
    await fn(app, store);
  } finally {
    await events.close();
    await queue.close();
    redis.disconnect();
    bull.disconnect();
    sub.disconnect();
    await server.stop();
  }
}

function json(body: unknown, user = "alice"): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", "x-user-id": user },
    body: JSON.stringify(body),
  };
}

function chunk(
  bytes: Uint8Array,
  user = "alice",
  field = "chunk_data",
): RequestInit {
  const form = new FormData();
  form.append(field, new Blob([bytes as BlobPart]), "chunk");
  return { method: "POST", headers: { "x-user-id": user }, body: form };
}

async function expectError(res: Response, status: number, code: string) {
  const body = await res.json();
  assertEquals(res.status, status, JSON.stringify(body));
  assertEquals(body.error.code, code);
  assertEquals(typeof body.error.message, "string");
  assertEquals(body.detail, body.error.message);
}

Deno.test("api chunked upload, finalize and job lifecycle", async (t) => {
  await withApp({}, async (app, store) => {
    const init = await app.request(
      "/uploads/initialize",
      json({ filename: "a.wav", file_size: WAV.length }),
    );
    assertEquals(init.status, 200);
    const s = await init.json();
    assertEquals(s.chunk_size, 4096);
    assertEquals(s.total_chunks, Math.ceil(WAV.length / 4096));
    assertMatch(s.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const parts = Array.from(
      { length: s.total_chunks },
      (_, i) => WAV.slice(i * 4096, (i + 1) * 4096),
    );

    await t.step(
      "chunks in any order; identical resend is idempotent; conflicts 409",
      async () => {
        const last = s.total_chunks - 1;
        const r1 = await app.request(
          `/uploads/${s.session_id}/chunks/${last}`,
          chunk(parts[last]!),
        );
        assertEquals(r1.status, 200);
        assertEquals(await r1.json(), {
          chunk_number: last,
          status: "uploaded",
          uploaded_chunks: 1,
          total_chunks: s.total_chunks,
          progress_percent: Math.round(10000 / s.total_chunks) / 100,
        });
        const again = await app.request(
          `/uploads/${s.session_id}/chunks/${last}`,
          chunk(parts[last]!),
        );
        assertEquals(again.status, 200);
        assertEquals((await again.json()).uploaded_chunks, 1);
        const other = parts[last]!.slice().reverse();
        await expectError(
          await app.request(
            `/uploads/${s.session_id}/chunks/${last}`,
            chunk(other),
          ),
          409,
          "chunk_conflict",
        );
      },
    );

    await t.step("finalize with missing chunks names them", async () => {
      const res = await app.request(`/uploads/${s.session_id}/finalize`, {
        method: "POST",
        headers: { "x-user-id": "alice" },
      });
      const body = await res.json();
      assertEquals(res.status, 409);
      assertEquals(body.error.code, "missing_chunks");
      assertEquals(
        body.error.missing_chunks,
        Array.from({ length: s.total_chunks - 1 }, (_, i) => i),
      );
      const status = await (await app.request(`/uploads/${s.session_id}`, {
        headers: { "x-user-id": "alice" },
      })).json();
      assertEquals(status.missing_chunks, body.error.missing_chunks);
      assertEquals(status.present_chunks, [s.total_chunks - 1]);
    });

    await t.step("bad chunk requests", async () => {
      const base = `/uploads/${s.session_id}/chunks`;
      await expectError(
        await app.request(`${base}/${s.total_chunks}`, chunk(parts[0]!)),
        400,
        "chunk_out_of_range",
      );
      await expectError(
        await app.request(`${base}/-1`, chunk(parts[0]!)),
        400,
        "invalid_chunk_number",
      );
      await expectError(
        await app.request(`${base}/1.5`, chunk(parts[0]!)),
        400,
        "invalid_chunk_number",
      );
      await expectError(
        await app.request(`${base}/0`, chunk(parts[0]!.slice(1))),
        400,
        "chunk_size_mismatch",
      );
      await expectError(
        await app.request(`${base}/0`, chunk(parts[0]!, "alice", "wrong")),
        422,
        "missing_field",
      );
      await expectError(
        await app.request(`${base}/0`, chunk(parts[0]!, "bob")),
        404,
        "session_not_found",
      );
      await expectError(
        await app.request(`/uploads/nope/chunks/0`, chunk(parts[0]!)),
        404,
        "session_not_found",
      );
    });

    let jobId = "";
    await t.step(
      "finalize creates one job, again returns the same",
      async () => {
        for (let i = 0; i < s.total_chunks - 1; i++) {
          assertEquals(
            (await app.request(
              `/uploads/${s.session_id}/chunks/${i}`,
              chunk(parts[i]!),
            )).status,
            200,
          );
        }
        const [a, b] = await Promise.all([
          app.request(`/uploads/${s.session_id}/finalize`, {
            method: "POST",
            headers: { "x-user-id": "alice" },
          }),
          app.request(`/uploads/${s.session_id}/finalize`, {
            method: "POST",
            headers: { "x-user-id": "alice" },
          }),
        ]);
        const ba = await a.json();
        const bb = await b.json();
        assertEquals(a.status, 200);
        assertEquals(b.status, 200);
        assertEquals(ba.job_id, bb.job_id);
        const digest = new Uint8Array(
          await crypto.subtle.digest("SHA-256", WAV as BufferSource),
        );
        const hex = [...digest].map((x) => x.toString(16).padStart(2, "0"))
          .join("");
        assertEquals(ba, {
          status: "completed",
          job_id: ba.job_id,
          file_hash: hex,
          missing_chunks: null,
        });
        const third =
          await (await app.request(`/uploads/${s.session_id}/finalize`, {
            method: "POST",
            headers: { "x-user-id": "alice" },
          })).json();
        assertEquals(third.job_id, ba.job_id);
        jobId = ba.job_id;
        const page = await (await app.request("/jobs", {
          headers: { "x-user-id": "alice" },
        })).json();
        assertEquals(page.jobs.map((j: { job_id: string }) => j.job_id), [
          jobId,
        ]);
      },
    );

    await t.step(
      "job is readable by owner and anonymously, not by another identity",
      async () => {
        const own = await app.request(`/jobs/${jobId}`, {
          headers: { "x-user-id": "alice" },
        });
        const body = await own.json();
        assertEquals(body.status, "queued");
        assertEquals(body.model_name, "tiny.en-q8_0");
        assertEquals(body.transcript, null);
        assertEquals(body.audio_duration_s, 1);
        assertEquals((await app.request(`/jobs/${jobId}`)).status, 200);
        await expectError(
          await app.request(`/jobs/${jobId}`, {
            headers: { "x-user-id": "bob" },
          }),
          404,
          "job_not_found",
        );
        await expectError(
          await app.request(`/jobs/${jobId}`, {
            method: "DELETE",
            headers: { "x-user-id": "bob" },
          }),
          404,
          "job_not_found",
        );
      },
    );

    await t.step("long poll wakes when the job finishes", async () => {
      const t0 = performance.now();
      const poll = app.request(`/jobs/${jobId}?wait=10`, {
        headers: { "x-user-id": "alice" },
      });
      await new Promise((r) => setTimeout(r, 200));
      assertEquals(await store.startJob(jobId, "test"), "queued");
      await store.completeJob(jobId, {
        transcript: "hello world",
        segments: [{ start: 0, end: 1, text: "hello world" }],
        processing_ms: 5,
        audio_duration_s: 1,
        model_name: "tiny.en",
      });
      const body = await (await poll).json();
      assertEquals(body.status, "completed");
      assertEquals(body.transcript, "hello world");
      assert(
        performance.now() - t0 < 5000,
        "woken by the event, not the timeout",
      );
      await expectError(
        await app.request(`/jobs/${jobId}?wait=31`),
        400,
        "invalid_wait",
      );
      await expectError(
        await app.request(`/jobs/${jobId}?wait=abc`),
        400,
        "invalid_wait",
      );
    });

    await t.step("delete a finished job", async () => {
      const del = await app.request(`/jobs/${jobId}`, {
        method: "DELETE",
        headers: { "x-user-id": "alice" },
      });
      assertEquals(await del.json(), { job_id: jobId, status: "deleted" });
      await expectError(
        await app.request(`/jobs/${jobId}`, {
          headers: { "x-user-id": "alice" },
        }),
        404,
        "job_not_found",
      );
    });
  });
});

Deno.test("api rejects bad input with the JSON error shape", async () => {
  await withApp({ MAX_UPLOAD_BYTES: "1000000" }, async (app) => {
    const cases: [string, RequestInit, number, string][] = [
      [
        "/uploads/initialize",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{",
        },
        400,
        "invalid_json",
      ],
      [
        "/uploads/initialize",
        { method: "POST", body: "x" },
        400,
        "invalid_content_type",
      ],
      [
        "/uploads/initialize",
        json({ filename: "", file_size: 10 }),
        422,
        "invalid_body",
      ],
      [
        "/uploads/initialize",
        json({ filename: "a".repeat(256), file_size: 10 }),
        422,
        "invalid_body",
      ],
      [
        "/uploads/initialize",
        json({ filename: "a.wav", file_size: -1 }),
        422,
        "invalid_body",
      ],
      [
        "/uploads/initialize",
        json({ filename: "a.wav", file_size: 1.5 }),
        422,
        "invalid_body",
      ],
      [
        "/uploads/initialize",
        json({ filename: "a.wav", file_size: "10" }),
        422,
        "invalid_body",
      ],
      [
        "/uploads/initialize",
        json({ filename: "a.wav", file_size: 2_000_000 }),
        413,
        "file_too_large",
      ],
      [
        "/uploads/initialize",
        json({ filename: "a.wav", file_size: 10, model_name: "large" }),
        422,
        "model_not_installed",
      ],
      [
        "/uploads/initialize",
        json({ filename: "a.wav", file_size: 10, language: "fr" }),
        422,
        "unsupported_language",
      ],
      [
        "/uploads/initialize",
        json({
          filename: "a.wav",
          file_size: 10,
          model_name: "tiny.en-q8_0",
          language: "de",
        }),
        422,
        "unsupported_language",
      ],
      [
        "/uploads/initialize",
        {
          ...json({ filename: "a", file_size: 1 }),
          headers: {
            "content-type": "application/json",
            "x-user-id": "bad id!",
          },
        },
        400,
        "invalid_user_id",
      ],
      ["/jobs/unknown", { method: "GET" }, 404, "job_not_found"],
      ["/nowhere", { method: "GET" }, 404, "route_not_found"],
      ["/jobs?limit=0", { method: "GET" }, 400, "invalid_query"],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await app.request(path, init);
      const body = await res.json();
      assertEquals([path, res.status, body.error?.code], [path, status, code]);
    }
    const notAudio = new FormData();
    notAudio.append(
      "file",
      new Blob([new TextEncoder().encode("just some text, not audio")]),
      "a.wav",
    );
    const res = await app.request("/jobs", { method: "POST", body: notAudio });
    await expectError(res, 415, "unsupported_audio_format");
    const missing = new FormData();
    missing.append("model_name", "tiny.en");
    await expectError(
      await app.request("/jobs", { method: "POST", body: missing }),
      422,
      "missing_field",
    );
    const ok = new FormData();
    ok.append("file", new Blob([WAV as BlobPart]), "../../etc/passwd");
    const created = await app.request("/jobs", { method: "POST", body: ok });
    assertEquals(created.status, 202);
    const job = await created.json();
    assertEquals(job.status, "queued");
    assertEquals(
      job.filename,
      "../../etc/passwd",
      "kept as metadata only, never a path",
    );
  });
});

Deno.test("api key mode: 401 without a known key, identity from the key", async () => {
  const key = "secret-key-123";
  await withApp(
    { AUTH_MODE: "api_key", API_KEYS: `alice=${hashKey(key)}` },
    async (app) => {
      await expectError(await app.request("/jobs"), 401, "unauthorized");
      await expectError(
        await app.request("/jobs", {
          headers: { authorization: "Bearer nope" },
        }),
        401,
        "unauthorized",
      );
      const res = await app.request("/jobs", {
        headers: { authorization: `Bearer ${key}` },
      });
      assertEquals(res.status, 200);
      assertEquals(await res.json(), { jobs: [], next_cursor: null });
    },
  );
});

Deno.test("api metrics expose request counts and queue figures", async () => {
  await withApp({}, async (app) => {
    await app.request("/health");
    const text = await (await app.request("/metrics")).text();
    assertMatch(
      text,
      /http_requests_total\{method="GET",route="\/health",status="200"\} 1/,
    );
    assertMatch(text, /whisper_queue_depth 0/);
    assertMatch(text, /whisper_job_processing_seconds_count 0/);
    const ready = await app.request("/health/ready");
    assertEquals(ready.status, 503, "no worker heartbeat yet");
    const body = await ready.json();
    assertEquals(body.checks.redis.ok, true);
    assertEquals(body.checks.workers.ok, false);
  });
});

Deno.test("api refuses crafted ids, oversized heads and JSON bodies with 4xx", async (t) => {
  await withApp({}, async (app) => {
    const init = await app.request(
      "/uploads/initialize",
      json({ filename: "a.wav", file_size: WAV.length }),
    );
    const { session_id } = await init.json();
    const alice = { headers: { "x-user-id": "alice" } };
    await t.step("ids that address other Redis keys are unknown", async () => {
      for (const suffix of [":seen", ":chunks"]) {
        await expectError(
          await app.request(`/uploads/${session_id}${suffix}`, alice),
          404,
          "session_not_found",
        );
        await expectError(
          await app.request(`/uploads/${session_id}${suffix}/finalize`, {
            ...alice,
            method: "POST",
          }),
          404,
          "session_not_found",
        );
      }
      const res = await app.request(`/jobs/${"x".repeat(5000)}`, alice);
      const body = await res.json();
      assertEquals(res.status, 404);
      assert(body.error.message.length < 200, "the id is echoed in full");
    });
    await t.step("headers over 16 KiB are 431", async () => {
      await expectError(
        await app.request("/jobs", {
          headers: { "x-user-id": "alice", "x-pad": "p".repeat(17 * 1024) },
        }),
        431,
        "headers_too_large",
      );
    });
    await t.step("JSON bodies over 64 KiB are 413", async () => {
      await expectError(
        await app.request(
          "/uploads/initialize",
          json({ filename: "a.wav", file_size: 1, pad: "x".repeat(70_000) }),
        ),
        413,
        "body_too_large",
      );
    });
  });
});

Deno.test("api probes need no identity in api_key and required modes", async () => {
  for (
    const env of [
      { AUTH_MODE: "api_key", API_KEYS: `alice=${hashKey("k")}` },
      { AUTH_MODE: "required" },
    ] as Record<string, string>[]
  ) {
    await withApp(env, async (app) => {
      assertEquals((await app.request("/health")).status, 200);
      const metrics = await app.request("/metrics");
      assertEquals(metrics.status, 200);
      await metrics.body?.cancel();
      const ready = await app.request("/health/ready");
      assertEquals(ready.status, 503, "no worker, but not 401");
      await ready.body?.cancel();
      await expectError(await app.request("/jobs"), 401, "unauthorized");
    });
  }
});

/** A transcription request for `/v1/audio/transcriptions`. */
function v1Form(
  fields: Record<string, string> = {},
  user = "alice",
  signal?: AbortSignal,
): RequestInit {
  const form = new FormData();
  form.append("file", new Blob([WAV as BlobPart]), "a.wav");
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return {
    method: "POST",
    headers: { authorization: `Bearer ${user}` },
    body: form,
    signal,
  };
}

/** Waits until `owner` has a job, and returns its id. */
async function firstJob(store: Store, owner: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const page = await store.listJobs(owner, 1);
    if (page.jobs[0]) return page.jobs[0].job_id;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no job for ${owner}`);
}

const RESULT = {
  transcript: "Open the door.",
  segments: [{
    start: 0,
    end: 1,
    text: "Open the door.",
    tokens: [4946, 262, 3420, 13],
    avg_logprob: -0.49,
    words: [
      { word: "Open", start: 0.1, end: 0.3 },
      { word: "the", start: 0.3, end: 0.5 },
      { word: "door.", start: 0.5, end: 0.9 },
    ],
  }],
  processing_ms: 80,
  audio_duration_s: 1,
  model_name: "tiny.en-q8_0",
};

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

Deno.test("app: outside api_key mode a bearer token names the identity", async () => {
  await withApp({ AUTH_MODE: "required" }, async (app, store) => {
    const res = await app.request("/jobs", {
      method: "POST",
      headers: { authorization: "Bearer carol" },
      body: (() => {
        const f = new FormData();
        f.append("file", new Blob([WAV as BlobPart]), "a.wav");
        return f;
      })(),
    });
    assertEquals(res.status, 202);
    assertEquals((await store.listJobs("carol", 5)).jobs.length, 1);
    // A long secret-looking token becomes a hashed name, never echoed.
    const secret = "sk-" + "x".repeat(200);
    await app.request("/jobs", {
      method: "POST",
      headers: { authorization: `Bearer ${secret}` },
      body: (() => {
        const f = new FormData();
        f.append("file", new Blob([WAV as BlobPart]), "a.wav");
        return f;
      })(),
    });
    const hashed = `key-${hashKey(secret).slice(0, 16)}`;
    assertEquals((await store.listJobs(hashed, 5)).jobs.length, 1);
    const none = await app.request("/jobs");
    assertEquals(none.status, 401);
  });
});

Deno.test("app: a long poll past the per-identity cap is answered at once with the job as it is", async () => {
  await withApp({ LONG_POLL_MAX_PER_IDENTITY: "1" }, async (app, store) => {
    const form = new FormData();
    form.append("file", new Blob([WAV as BlobPart]), "a.wav");
    const created = await app.request("/jobs", {
      method: "POST",
      headers: { "x-user-id": "polly" },
      body: form,
    });
    const id = (await created.json()).job_id;
    const headers = { "x-user-id": "polly" };
    const first = app.request(`/jobs/${id}?wait=10`, { headers });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const second = await app.request(`/jobs/${id}?wait=10`, { headers });
    assert(performance.now() - t0 < 1000, "the capped poll did not wait");
    assertEquals(second.status, 200);
    assertEquals(second.headers.get("x-long-poll"), "capped");
    assertEquals(second.headers.get("retry-after"), "1");
    assertEquals((await second.json()).status, "queued");
    // Another identity still gets its own slot.
    const other = app.request(`/jobs/${id}?wait=1`, {
      headers: { "x-user-id": "someone-else" },
    });
    await store.startJob(id, "w1");
    await store.completeJob(id, RESULT);
    const done = await first;
    assertEquals((await done.json()).status, "completed");
    assertEquals((await other).status, 404, "not its job");
    const metrics = await (await app.request("/metrics")).text();
    assertMatch(metrics, /whisper_long_polls_capped 1/);
  });
});

Deno.test("app: MODEL_ALIASES map old names to installed models, and the job says both", async () => {
  await withApp(
    {
      MODEL_ALIASES: "tiny=tiny.en-q8_0, small=small.en",
      DEFAULT_MODEL: "tiny.en",
    },
    async (app, store) => {
      const form = (model: string) => {
        const f = new FormData();
        f.append("file", new Blob([WAV as BlobPart]), "a.wav");
        f.append("model_name", model);
        return f;
      };
      const headers = { "x-user-id": "old-client" };
      const ok = await app.request("/jobs", {
        method: "POST",
        headers,
        body: form("tiny"),
      });
      assertEquals(ok.status, 202);
      const view = await ok.json();
      assertEquals(view.model_name, "tiny.en-q8_0");
      assertEquals(view.requested_model, "tiny");
      assertEquals((await store.getJob(view.job_id))?.requested_model, "tiny");
      // The model asked for by its own name: nothing to record.
      const direct = await (await app.request("/jobs", {
        method: "POST",
        headers,
        body: form("tiny.en"),
      })).json();
      assertEquals(direct.requested_model, null);
      // An alias of a model that is not installed, and an unknown name: 422.
      const missing = await app.request("/jobs", {
        method: "POST",
        headers,
        body: form("small"),
      });
      assertEquals(missing.status, 422);
      assertMatch(
        (await missing.json()).error.message,
        /"small.en" \(what the alias "small" names\) is not installed/,
      );
      const unknown = await app.request("/jobs", {
        method: "POST",
        headers,
        body: form("base"),
      });
      assertEquals(unknown.status, 422);
      assertEquals((await unknown.json()).error.code, "model_not_installed");
      // The chunked protocol records it too.
      const init = await app.request(
        "/uploads/initialize",
        json(
          { filename: "a.wav", file_size: WAV.length, model_name: "tiny" },
          "old-client",
        ),
      );
      const sid = (await init.json()).session_id;
      for (let n = 0; n * 4096 < WAV.length; n++) {
        await app.request(
          `/uploads/${sid}/chunks/${n}`,
          chunk(WAV.slice(n * 4096, (n + 1) * 4096), "old-client"),
        );
      }
      const fin = await (await app.request(`/uploads/${sid}/finalize`, {
        method: "POST",
        headers,
      })).json();
      const job = await store.getJob(fin.job_id);
      assertEquals([job?.model_name, job?.requested_model], [
        "tiny.en-q8_0",
        "tiny",
      ]);
    },
  );
});

Deno.test("config: a malformed MODEL_ALIASES entry stops the API, naming it", () => {
  for (const bad of ["tiny", "tiny=", "=tiny.en", "a=a", "a b=c"]) {
    let message = "";
    try {
      parseEnv(ApiConfigSchema, { MODEL_ALIASES: bad });
    } catch (e) {
      message = (e as Error).message;
    }
    assertMatch(message, /MODEL_ALIASES/);
  }
  assertEquals(
    parseEnv(ApiConfigSchema, { MODEL_ALIASES: "tiny=tiny.en-q8_0" })
      .MODEL_ALIASES,
    { tiny: "tiny.en-q8_0" },
  );
});
