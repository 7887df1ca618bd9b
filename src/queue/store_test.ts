import { assert, assertEquals } from "../testing/assert.ts";
import { connectRedis, Store } from "./mod.ts";
import { testPrefix, testRedis } from "../testing/redis.ts";

Deno.test("Store keeps chunks, jobs and results exactly once", async (t) => {
  const server = await testRedis();
  const redis = connectRedis(server.url);
  try {
    const store = new Store(redis, testPrefix("store"));
    const sid = crypto.randomUUID();
    await store.createSession({
      session_id: sid,
      owner: "alice",
      filename: "a.wav",
      file_size: 5,
      chunk_size: 3,
      total_chunks: 2,
      model_name: "tiny.en",
      language: "en",
      created_at: "x",
      expires_at: "y",
      job_id: "job-1",
      finalized: false,
      file_hash: "",
    }, 60);

    await t.step("chunks are idempotent and conflicts detected", async () => {
      const a = new Uint8Array([1, 2, 3]);
      assertEquals(
        await store.putChunk(sid, 1, new Uint8Array([4, 5]), 60_000),
        {
          kind: "stored",
          uploaded: 1,
        },
      );
      assertEquals(await store.putChunk(sid, 0, a, 60_000), {
        kind: "stored",
        uploaded: 2,
      });
      assertEquals(await store.putChunk(sid, 0, a, 60_000), {
        kind: "identical",
        uploaded: 2,
      });
      assertEquals(
        await store.putChunk(sid, 0, new Uint8Array([9, 9, 9]), 60_000),
        {
          kind: "conflict",
        },
      );
      assertEquals(await store.putChunk("nope", 0, a, 60_000), {
        kind: "missing",
      });
      assertEquals(await store.chunkIndexes(sid), [0, 1]);
      assertEquals([...(await store.assemble(sid, 2))!], [1, 2, 3, 4, 5]);
      assertEquals(await store.assemble(sid, 3), null);
    });

    await t.step("a job is created once and finished once", async () => {
      const job = {
        job_id: "job-1",
        owner: "alice",
        model_name: "tiny.en",
        language: "en",
        filename: "a.wav",
        file_hash: "h",
        file_size: 5,
        audio_duration_s: 1,
      };
      assert(await store.createJob(job, new Uint8Array([1]), 60));
      assert(!(await store.createJob(job, new Uint8Array([1]), 60)));
      assertEquals((await store.getJob("job-1"))?.status, "queued");
      assertEquals(await store.startJob("job-1", "w1"), "queued");
      assertEquals((await store.getJob("job-1"))?.status, "processing");
      const result = {
        transcript: "hello",
        segments: [{ start: 0, end: 1, text: "hello" }],
        processing_ms: 12.34,
        audio_duration_s: 1,
        model_name: "tiny.en",
      };
      assert(await store.completeJob("job-1", result));
      assert(
        !(await store.completeJob("job-1", { ...result, transcript: "again" })),
      );
      const rec = await store.getJob("job-1");
      assertEquals(rec?.status, "completed");
      assertEquals(rec?.transcript, "hello");
      assertEquals(rec?.segments, [{ start: 0, end: 1, text: "hello" }]);
      assertEquals(
        await store.getAudio("job-1"),
        null,
        "audio dropped once done",
      );
      assertEquals(await store.finishedCounts(), { completed: 1, failed: 0 });
      const page = await store.listJobs("alice", 10);
      assertEquals(page.jobs.map((j) => j.job_id), ["job-1"]);
      assertEquals((await store.listJobs("bob", 10)).jobs, []);
    });
  } finally {
    redis.disconnect();
    await server.stop();
  }
});
