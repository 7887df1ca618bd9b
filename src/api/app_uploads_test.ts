/**
 * API app tests of getting audio in: the chunked upload protocol (initialize,
 * chunks, finalize) followed through the job's lifecycle (read, long poll,
 * delete), and the model a job runs on (MODEL_ALIASES, on POST /jobs and on
 * finalize, and their parsing).
 */
import { assert, assertEquals, assertMatch } from "../testing/assert.ts";
import { ApiConfigSchema, parseEnv } from "../config/mod.ts";
import { chunk, expectError, json, WAV, withApp } from "./_app_testing.ts";

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
