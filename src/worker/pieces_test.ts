import { assert, assertEquals } from "../testing/assert.ts";
import { testPrefix, testRedis } from "../testing/redis.ts";
import { longRecording } from "../testing/long_audio.ts";
import { decodeAudio } from "../audio/mod.ts";
import {
  connectRedis,
  type JobRecord,
  LONGEST_FIRST_TAIL,
  parseInfoMemory,
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
    piecesLimit: () => Promise.resolve(0),
    roomWaitMs: 0,
    transcribeClip: () => {
      throw new Error("no piece is transcribed in this test");
    },
    busy: () => {},
  };
  try {
    const rec = await longRecording(100);
    const audio = await decodeAudio(rec.wav);
    const newJob = async (
      id: string,
      wav = rec.wav,
      durationS = audio.durationS,
    ): Promise<JobRecord> => {
      await store.createJob(
        {
          job_id: id,
          owner: "alice",
          model_name: "m",
          language: "en",
          filename: "long.wav",
          file_hash: "h",
          file_size: wav.byteLength,
          audio_duration_s: durationS,
        },
        wav,
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

    await t.step(
      "a split stores pieces only as the storage budget has room, gives up its slot when none comes (a retry stores only the rest), and stops when its job is cancelled",
      async () => {
        // Ten minutes: 19 MB of pieces, against room for 3 MB (a few MB of
        // Redis's own buffers come and go; they only make the room smaller).
        const long = await longRecording(600);
        const longAudio = await decodeAudio(long.wav);
        const record = await newJob("j3", long.wav, longAudio.durationS);
        // Right after a large write Redis counts it twice (its query
        // buffer) for up to ~250 ms: the baseline is taken once it settles.
        const readings: number[] = [];
        for (let k = 0; k < 40; k++) {
          readings.push(parseInfoMemory(await redis.info("memory")).used);
          const last = readings.slice(-4);
          if (
            last.length === 4 && Math.max(...last) - Math.min(...last) < 65_536
          ) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const used = readings.at(-1)!;
        const paced: PieceContext = {
          ...ctx,
          piecesLimit: () => Promise.resolve(used + 3_000_000),
          roomWaitMs: 20_000,
        };
        let result: string | undefined;
        const splitting = splitJob(paced, record, "m", longAudio).then((r) =>
          result = r
        );
        let total = 0;
        for (let k = 0; k < 100 && !total; k++) {
          await new Promise((r) => setTimeout(r, 20));
          total = (await store.getJob("j3"))?.pieces_total ?? 0;
        }
        const stored = async () => {
          const have: number[] = [];
          for (let i = 0; i < total; i++) {
            if (await pieces.audio("j3", i)) have.push(i);
          }
          return have;
        };
        // Each round: wait until the split stalls (nothing new stored for
        // 300 ms), then drop what it stored, as workers do once they have
        // transcribed a piece.
        const rounds: number[] = [];
        for (let k = 0; k < 50 && result === undefined; k++) {
          let have = await stored();
          for (let still = 0; still < 6 && result === undefined;) {
            await new Promise((r) => setTimeout(r, 50));
            const now = await stored();
            still = now.length === have.length ? still + 1 : 0;
            have = now;
          }
          if (result !== undefined) break;
          assert(have.length < total, "the split stalled before the end");
          // What it stored before waiting is queued, so workers can take
          // it: otherwise nothing would ever make room.
          for (const i of have) {
            assert(
              await queue.pieces.getJob(pieceJobId("j3", i)),
              `stored piece ${i} is queued while the split waits`,
            );
          }
          rounds.push(have.length);
          for (const i of have) await pieces.dropAudio("j3", i);
        }
        await splitting;
        assertEquals(result, "split");
        assert(rounds.length >= 2, `paced in rounds: ${rounds.join(", ")}`);
        for (let i = 0; i < total; i++) {
          assert(await queue.pieces.getJob(pieceJobId("j3", i)), `piece ${i}`);
        }

        // No room within the wait: the split stops with what it stored
        // queued; tried again, it stores only the rest.
        const record5 = await newJob("j5");
        const first = await splitJob(
          { ...ctx, piecesLimit: () => Promise.resolve(1), roomWaitMs: 300 },
          record5,
          "m",
          audio,
        );
        assertEquals(first, "no-room");
        assertEquals(await pieces.withAudio("j5", [0, 1, 2]), new Set());
        // The same context, counting the pieces it stores.
        const puts: number[] = [];
        const counting: PieceContext = {
          ...ctx,
          pieces: Object.assign(Object.create(pieces), {
            putAudio: (...a: Parameters<PieceStore["putAudio"]>) => {
              puts.push(a[1]);
              return pieces.putAudio(...a);
            },
          }),
        };
        assertEquals(await splitJob(counting, record5, "m", audio), "split");
        const total5 = (await store.getJob("j5"))!.pieces_total!;
        assertEquals(puts.length, total5);
        await pieces.dropAudio("j5", puts[0]!);
        puts.length = 0;
        // A third try (e.g. after a crash) stores only the piece not there.
        assertEquals(await splitJob(counting, record5, "m", audio), "split");
        assertEquals(puts.length, 1);

        // Waiting for room, the split of a job cancelled meanwhile stops.
        const record4 = await newJob("j4");
        const gone = splitJob(
          {
            ...ctx,
            piecesLimit: () => Promise.resolve(1),
            roomWaitMs: 20_000,
          },
          record4,
          "m",
          audio,
        );
        await new Promise((r) => setTimeout(r, 200));
        await store.deleteJob(record4);
        assertEquals(await gone, "gone");
        assertEquals(await pieces.audio("j4", 0), null);
      },
    );
  } finally {
    await queue.close();
    redis.disconnect();
    await server.stop();
  }
});
