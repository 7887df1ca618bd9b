import { assert, assertEquals } from "../testing/assert.ts";
import { testPrefix, testRedis } from "../testing/redis.ts";
import { longRecording } from "../testing/long_audio.ts";
import { decodeAudio } from "../audio/mod.ts";
import {
  connectRedis,
  type JobRecord,
  LONGEST_FIRST_TAIL,
  pieceJobId,
  PieceStore,
  Store,
  TranscribeQueue,
} from "../queue/mod.ts";
import { type PieceContext, processPiece, splitJob } from "./pieces.ts";

Deno.test("splitJob queues every piece with its audio, longest first, and a piece of a cancelled job drops its audio", async (t) => {
  const server = await testRedis();
  const redis = connectRedis(server.url, { forBullmq: true });
  const prefix = testPrefix("split");
  const store = new Store(redis, prefix);
  const pieces = new PieceStore(redis, prefix);
  const queue = new TranscribeQueue(redis, prefix);
  const ctx: PieceContext = {
    workerId: "w-test",
    store,
    pieces,
    queue,
    log: () => {},
    pieceMaxS: 20,
    ttlS: 600,
    decode: decodeAudio,
    transcribeClip: () => {
      throw new Error("no piece is transcribed in this test");
    },
    busy: () => {},
  };
  try {
    const rec = await longRecording(100);
    const audio = await decodeAudio(rec.wav);
    const newJob = async (id: string): Promise<JobRecord> => {
      await store.createJob(
        {
          job_id: id,
          owner: "alice",
          model_name: "m",
          language: "en",
          filename: "long.wav",
          file_hash: "h",
          file_size: rec.wav.byteLength,
          audio_duration_s: audio.durationS,
        },
        rec.wav,
        600,
      );
      return (await store.getJob(id))!;
    };

    await t.step("every planned piece is queued with its audio", async () => {
      const record = await newJob("j1");
      assertEquals(await splitJob(ctx, record, "m", audio), "split");
      const total = (await store.getJob("j1"))!.pieces_total!;
      assert(
        total >= 5 && total <= LONGEST_FIRST_TAIL,
        `a 100 s recording in ${total} pieces`,
      );
      const queued: { length: number; priority: number }[] = [];
      for (let i = 0; i < total; i++) {
        const job = await queue.pieces.getJob(pieceJobId("j1", i));
        assertEquals(job?.data.piece?.index, i);
        assert((await pieces.audio("j1", i))?.byteLength, `piece ${i} audio`);
        const p = job!.data.piece!;
        queued.push({ length: p.end_s - p.start_s, priority: job!.priority });
      }
      // The workers take them longest first (a job of at most
      // LONGEST_FIRST_TAIL pieces; longer ones start in recording order).
      const byPriority = queued.sort((a, b) => a.priority - b.priority);
      assertEquals(
        byPriority.map((q) => q.priority),
        queued.map((_, i) => i + 1),
      );
      for (let i = 1; i < byPriority.length; i++) {
        assert(byPriority[i]!.length <= byPriority[i - 1]!.length);
      }
      // A retried split queues nothing twice.
      assertEquals(await splitJob(ctx, record, "m", audio), "split");
      assertEquals(
        (await queue.pieces.getJobCounts("prioritized")).prioritized,
        total,
      );
    });

    await t.step(
      "a piece queued after its job was cancelled drops its audio",
      async () => {
        const record = await newJob("j2");
        await splitJob(ctx, record, "m", audio);
        const total = (await store.getJob("j2"))!.pieces_total!;
        await queue.cancelPieces("j2", total);
        await pieces.abandon("j2", "alice", total);
        await store.deleteJob(record);
        // The split's last batch, still in flight when the job was deleted.
        await pieces.putAudio("j2", 0, new Uint8Array([1, 2]), 600);
        await queue.enqueuePieces(
          "j2",
          "alice",
          "m",
          [{ start_s: 0, end_s: 1 }],
          [1],
        );
        const job = (await queue.pieces.getJob(pieceJobId("j2", 0)))!;
        assertEquals(
          await processPiece(ctx, job, job.data.piece!, 0),
          "gone",
        );
        assertEquals(await pieces.audio("j2", 0), null);
      },
    );
  } finally {
    await queue.close();
    redis.disconnect();
    await server.stop();
  }
});
