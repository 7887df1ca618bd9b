import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { OverloadedError } from "../errors/mod.ts";
import {
  Admission,
  connectRedis,
  DEFAULT_JOB_SECONDS,
  PieceStore,
  publishHeartbeat,
  Store,
  TranscribeQueue,
} from "./mod.ts";
import { testPrefix, testRedis } from "../testing/redis.ts";

/** A ready live worker with `concurrency` slots, as its heartbeat says. */
async function readyWorker(
  redis: Parameters<typeof publishHeartbeat>[0],
  prefix: string,
  concurrency: number,
): Promise<void> {
  await publishHeartbeat(redis, prefix, {
    worker_id: "w1",
    pid: 1,
    ready: true,
    reason: null,
    models: ["m"],
    busy: 0,
    concurrency,
    threads: 1,
    at: Date.now(),
  }, 60_000);
}

/** A whole 1 s job created and finished the way a worker does. */
async function finishShortJob(
  store: Store,
  id: string,
  processingMs: number,
): Promise<void> {
  await store.createJob(
    {
      job_id: id,
      owner: "bob",
      model_name: "m",
      language: "en",
      filename: "a.wav",
      file_hash: "h",
      file_size: 1,
      audio_duration_s: 1,
    },
    new Uint8Array([1]),
    60,
  );
  await store.completeJob(id, {
    transcript: "",
    segments: [],
    processing_ms: processingMs,
    audio_duration_s: 1,
    model_name: "m",
  }, { recordProcessing: true });
}

Deno.test("Admission judges short jobs by their own backlog and long recordings by audio seconds", async (t) => {
  const server = await testRedis();
  const redis = connectRedis(server.url, { forBullmq: true });
  const prefix = testPrefix("admission");
  const store = new Store(redis, prefix);
  const pieces = new PieceStore(redis, prefix);
  const queue = new TranscribeQueue(redis, prefix);
  try {
    // One ready worker with one slot.
    await readyWorker(redis, prefix, 1);
    const admission = new Admission(store, queue, prefix, {
      maxBacklog: 3,
      pieceThresholdS: 30,
      longBudgetS: 100,
      pieces,
      refreshMs: 0,
    });

    await t.step(
      "long recordings raise neither the short backlog nor its mean",
      async () => {
        // Slow pieces (RTF 0.5) and 40 queued pieces of someone's recordings.
        for (let i = 0; i < 5; i++) await store.recordPiece(15, 30);
        // Five whole jobs of 0.1 s each, finished the way a worker does.
        for (let i = 0; i < 5; i++) {
          await finishShortJob(store, `short-${i}`, 100);
        }
        const spans = Array.from({ length: 40 }, (_, i) => ({
          start_s: i * 30,
          end_s: (i + 1) * 30,
        }));
        await queue.enqueuePieces(
          "big",
          "alice",
          "m",
          spans,
          spans.map((_, i) => i + 1),
        );
        assertEquals((await queue.depth()).pieces, 40);
        await admission.check(1); // a 1 s clip passes
        await admission.check(null);
        const l = await admission.limit();
        assertEquals(l.meanJobS, 0.1);
      },
    );

    await t.step("short jobs are refused past their own backlog", async () => {
      for (let i = 0; i < 3; i++) await queue.enqueue(`s${i}`, "m");
      const e = await assertRejects(() => admission.check(1));
      assert(e instanceof OverloadedError);
      assert(e.message.includes("queue holds 3 jobs"), e.message);
    });

    await t.step(
      "long recordings are admitted by queued audio seconds",
      async () => {
        // limit = 1 slot × 100 s / 0.5 = 200 audio seconds
        assertEquals((await admission.longLimit()).limitS, 200);
        await admission.check(1500); // an empty long queue takes one recording
        await pieces.trackLong("r1", 150);
        await admission.check(50);
        const e = await assertRejects(() => admission.check(60));
        assert(e instanceof OverloadedError);
        const err = e;
        assert(err.message.includes("150 s of audio"), err.message);
        assert(err.retryAfterS! >= 1 && err.retryAfterS! <= 600);
        // A short clip still passes the long limit (it is judged as short).
        await queue.queue.drain();
        await admission.check(5);
      },
    );
  } finally {
    await queue.close();
    redis.disconnect();
    await server.stop();
  }
});

Deno.test("Admission keeps a derived limit for refreshMs, but not one from the assumed mean", async () => {
  const server = await testRedis();
  const redis = connectRedis(server.url, { forBullmq: true });
  const prefix = testPrefix("admission-prior");
  const store = new Store(redis, prefix);
  const queue = new TranscribeQueue(redis, prefix);
  try {
    await readyWorker(redis, prefix, 2);
    const admission = new Admission(store, queue, prefix, {
      pollBudgetS: 10,
      refreshMs: 60_000,
    });
    // No job finished yet: 2 slots × 10 s / the assumed 1 s per job.
    const prior = await admission.limit();
    assertEquals([prior.meanJobS, prior.limit], [DEFAULT_JOB_SECONDS, 20]);
    // The first job finishes in 0.1 s: the very next check knows it.
    await finishShortJob(store, "a", 100);
    const measured = await admission.limit();
    assertEquals([measured.meanJobS, measured.limit], [0.1, 200]);
    // A measured limit is kept for refreshMs: a slow job changes nothing yet.
    await finishShortJob(store, "b", 1900);
    assertEquals((await admission.limit()).limit, 200);
  } finally {
    await queue.close();
    redis.disconnect();
    await server.stop();
  }
});
