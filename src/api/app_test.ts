/**
 * API app tests of what applies across routes: the JSON error shape for bad
 * input; limits on ids, headers, JSON bodies and long polls per identity;
 * identity and the auth modes; the health and metrics probes.
 *
 * The chunked upload protocol and model choice are in `app_uploads_test.ts`,
 * the OpenAI-compatible `/v1` routes in `app_v1_test.ts`; shared fixtures in
 * `_app_testing.ts`.
 */
import { assert, assertEquals, assertMatch } from "../testing/assert.ts";
import { hashKey } from "./identity.ts";
import { expectError, json, RESULT, WAV, withApp } from "./_app_testing.ts";

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

Deno.test("app: a long poll whose client is already gone doesn't wait", async () => {
  await withApp({}, async (app) => {
    const form = new FormData();
    form.append("file", new Blob([WAV as BlobPart]), "a.wav");
    const headers = { "x-user-id": "polly" };
    const created = await app.request("/jobs", {
      method: "POST",
      headers,
      body: form,
    });
    const id = (await created.json()).job_id;
    const gone = new AbortController();
    gone.abort();
    const t0 = performance.now();
    const res = await app.request(`/jobs/${id}?wait=20`, {
      headers,
      signal: gone.signal,
    });
    // Not the 20 s wait: the signal had aborted before the wait began.
    assert(performance.now() - t0 < 5000, `${performance.now() - t0} ms`);
    assertEquals((await res.json()).status, "queued");
  });
});
