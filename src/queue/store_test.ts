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
        await store.putChunk(sid, "alice", 1, new Uint8Array([4, 5]), 60_000),
        {
          kind: "stored",
          uploaded: 1,
        },
      );
      assertEquals(await store.putChunk(sid, "alice", 0, a, 60_000), {
        kind: "stored",
        uploaded: 2,
      });
      assertEquals(await store.putChunk(sid, "alice", 0, a, 60_000), {
        kind: "identical",
        uploaded: 2,
      });
      assertEquals(
        await store.putChunk(
          sid,
          "alice",
          0,
          new Uint8Array([9, 9, 9]),
          60_000,
        ),
        {
          kind: "conflict",
        },
      );
      assertEquals(await store.putChunk("nope", "alice", 0, a, 60_000), {
        kind: "missing",
      });
      assertEquals(await store.chunkIndexes(sid), [0, 1]);
      const whole = await store.assemble(sid, 2);
      assert("bytes" in whole);
      assertEquals([...whole.bytes], [1, 2, 3, 4, 5]);
      assertEquals(await store.assemble(sid, 3), { missing: [2] });
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
      assertEquals(await store.createJob(job, new Uint8Array([1]), 60), {
        kind: "created",
      });
      assertEquals(await store.createJob(job, new Uint8Array([1]), 60), {
        kind: "exists",
      });
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

Deno.test("Store quotas: open session bytes count back on expiry; jobs and audio in flight free on finish or delete", async (t) => {
  const server = await testRedis();
  const redis = connectRedis(server.url);
  try {
    const store = new Store(redis, testPrefix("quota"));
    const session = async (owner: string, ttlS: number) => {
      const id = crypto.randomUUID();
      await store.createSession({
        session_id: id,
        owner,
        filename: "a.wav",
        file_size: 3000,
        chunk_size: 1000,
        total_chunks: 3,
        model_name: "tiny.en",
        language: "en",
        created_at: "x",
        expires_at: "y",
        job_id: crypto.randomUUID(),
        finalized: false,
        file_hash: "",
      }, ttlS);
      return id;
    };
    const kb = new Uint8Array(1000).fill(7);

    await t.step(
      "session bytes: refused past the quota, counted back on expiry",
      async () => {
        const a = await session("carol", 1);
        const b = await session("carol", 60);
        assertEquals(
          (await store.putChunk(a, "carol", 0, kb, 1000, 2500)).kind,
          "stored",
        );
        assertEquals(
          (await store.putChunk(b, "carol", 0, kb, 60_000, 2500)).kind,
          "stored",
        );
        // An identical re-send is not new bytes.
        assertEquals(
          (await store.putChunk(b, "carol", 0, kb, 60_000, 2500)).kind,
          "identical",
        );
        assertEquals(
          await store.putChunk(b, "carol", 1, kb, 60_000, 2500),
          { kind: "over_quota", held: 2000 },
        );
        assertEquals(await store.sessionBytes("carol"), 2000);
        // Another identity is not affected.
        const d = await session("dave", 60);
        assertEquals(
          (await store.putChunk(d, "dave", 0, kb, 60_000, 2500)).kind,
          "stored",
        );
        // Session a expires: its bytes no longer count.
        await new Promise((r) => setTimeout(r, 1300));
        assertEquals(await store.sessionBytes("carol"), 1000);
        assertEquals(
          (await store.putChunk(b, "carol", 1, kb, 60_000, 2500)).kind,
          "stored",
        );
        assert((await store.secondsUntilASessionExpires("carol", 60)) <= 60);
      },
    );

    await t.step("jobs and audio in flight", async () => {
      const job = (id: string, audio_duration_s: number) => ({
        job_id: id,
        owner: "erin",
        model_name: "tiny.en",
        language: "en",
        filename: "a.wav",
        file_hash: "h",
        file_size: 1,
        audio_duration_s,
      });
      const q = { jobs: 2, audioS: 100 };
      const audio = new Uint8Array([1]);
      assertEquals(
        (await store.createJob(job("j1", 60), audio, 60, q)).kind,
        "created",
      );
      assertEquals(
        await store.createJob(job("j2", 50), audio, 60, q),
        { kind: "over_audio", audioS: 60 },
      );
      assertEquals(
        await store.getJob("j2"),
        null,
        "nothing stored when refused",
      );
      assertEquals(await store.getAudio("j2"), null);
      assertEquals(
        (await store.createJob(job("j2", 30), audio, 60, q)).kind,
        "created",
      );
      assertEquals(
        await store.createJob(job("j3", 1), audio, 60, q),
        { kind: "over_jobs", jobs: 2 },
      );
      assertEquals(await store.activeUsage("erin"), { jobs: 2, audioS: 90 });
      // Finishing (either way) and deleting give the quota back.
      await store.startJob("j1", "w");
      await store.failJob("j1", { code: "time_limit_exceeded", message: "x" });
      assertEquals(await store.activeUsage("erin"), { jobs: 1, audioS: 30 });
      assertEquals(
        (await store.createJob(job("j3", 1), audio, 60, q)).kind,
        "created",
      );
      await store.deleteJob((await store.getJob("j2"))!);
      assertEquals(await store.activeUsage("erin"), { jobs: 1, audioS: 1 });
      // A job record that expired unfinished stops counting.
      await redis.del(store.keys.job("j3"));
      assertEquals(
        (await store.createJob(job("j4", 99), audio, 60, q)).kind,
        "created",
      );
      assertEquals(await store.activeUsage("erin"), { jobs: 1, audioS: 99 });
      // Failures are counted by code.
      assertEquals(
        await redis.hget(store.keys.stats, "failed:time_limit_exceeded"),
        "1",
      );
    });
  } finally {
    redis.disconnect();
    await server.stop();
  }
});
