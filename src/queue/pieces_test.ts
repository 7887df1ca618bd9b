import { assert, assertEquals } from "../testing/assert.ts";
import {
  connectRedis,
  LONGEST_FIRST_TAIL,
  parseInfoMemory,
  piecePriorities,
  PieceStore,
  Store,
} from "./mod.ts";
import type { PieceResult } from "./records.ts";
import { testPrefix, testRedis } from "../testing/redis.ts";

const spans = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => ({ start_s: i * 25, end_s: (i + 1) * 25 }),
  );

function result(index: number, worker = "w1"): PieceResult {
  return {
    index,
    start_s: index * 25,
    end_s: (index + 1) * 25,
    text: `piece ${index}`,
    segments: [{
      start: index * 25,
      end: index * 25 + 3,
      text: `piece ${index}`,
    }],
    worker_id: worker,
    processing_ms: 1000,
    attempts: 1,
  };
}

Deno.test("PieceStore plans once, stores each piece once and orders identities fairly", async (t) => {
  const server = await testRedis();
  const redis = connectRedis(server.url);
  try {
    const prefix = testPrefix("pieces");
    const store = new Store(redis, prefix);
    const pieces = new PieceStore(redis, prefix);
    const newJob = async (id: string, owner: string, audioS: number) => {
      await store.createJob(
        {
          job_id: id,
          owner,
          model_name: "m",
          language: "en",
          filename: "a.wav",
          file_hash: "h",
          file_size: 1,
          audio_duration_s: audioS,
        },
        new Uint8Array([1]),
        600,
      );
      await pieces.trackLong(id, audioS);
    };
    await newJob("a1", "alice", 100);
    await newJob("a2", "alice", 100);
    await newJob("b1", "bob", 50);

    await t.step("queued long audio counts every long job", async () => {
      assertEquals(await pieces.queuedLongAudioS(), 250);
    });

    await t.step(
      "a plan is made once; a retried split gets it back",
      async () => {
        const p = await pieces.plan("a1", "alice", spans(4), 600);
        assert(p);
        assertEquals(p.created, true);
        assertEquals(p.priorities, [1, 2, 3, 4]);
        const again = await pieces.plan("a1", "alice", spans(3), 600);
        assert(again);
        assertEquals(again.created, false);
        assertEquals(again.total, 4);
        assertEquals(again.spans, spans(4));
        assertEquals(again.priorities, [1, 2, 3, 4]);
        assertEquals(await pieces.pendingOf("alice"), 4);
      },
    );

    await t.step(
      "an identity's next job queues behind its own pieces, another identity's goes first",
      async () => {
        const a2 = await pieces.plan("a2", "alice", spans(4), 600);
        assertEquals(a2?.priorities, [5, 6, 7, 8]);
        const b1 = await pieces.plan("b1", "bob", spans(2), 600);
        assertEquals(b1?.priorities, [1, 2]);
      },
    );

    await t.step("a piece is stored and counted once", async () => {
      const first = await pieces.complete("a1", "alice", result(0), 600);
      assertEquals(first, { stored: true, done: 1, total: 4 });
      const twice = await pieces.complete("a1", "alice", result(0, "w2"), 600);
      assertEquals(twice, { stored: false, done: 1, total: 4 });
      assertEquals((await pieces.results("a1"))[0]?.worker_id, "w1");
      assertEquals(await pieces.isStored("a1", 0), true);
      assertEquals(await pieces.isStored("a1", 1), false);
      assertEquals(await pieces.pendingOf("alice"), 7);
      assertEquals(await pieces.queuedLongAudioS(), 225);
    });

    await t.step(
      "a piece's audio is dropped when its result is stored",
      async () => {
        await pieces.putAudio("a1", 1, new Uint8Array([7, 8]), 600);
        assertEquals(await pieces.audio("a1", 1), new Uint8Array([7, 8]));
        await pieces.complete("a1", "alice", result(1), 600);
        assertEquals(await pieces.audio("a1", 1), null);
      },
    );

    await t.step(
      "abandoning gives the unfinished pieces back, once",
      async () => {
        await pieces.putAudio("a1", 3, new Uint8Array([1]), 600);
        assertEquals(await pieces.abandon("a1", "alice", 4), 2);
        assertEquals(await pieces.abandon("a1", "alice", 4), 0);
        assertEquals(await pieces.pendingOf("alice"), 4);
        assertEquals(await pieces.audio("a1", 3), null);
        assertEquals(await pieces.queuedLongAudioS(), 150);
      },
    );

    await t.step(
      "a final job takes no more pieces and leaves the long queue",
      async () => {
        await store.failJob("b1", { code: "x", message: "y" });
        assertEquals(await pieces.complete("b1", "bob", result(0), 600), null);
        assertEquals(await pieces.plan("b1", "bob", spans(2), 600), null);
        assertEquals(await pieces.queuedLongAudioS(), 100);
      },
    );
  } finally {
    redis.disconnect();
    await server.stop();
  }
});

Deno.test("piecePriorities: recording order, the last pieces longest first (equal ones in order)", () => {
  const s = (...lengths: number[]) => {
    let t = 0;
    return lengths.map((l) => ({ start_s: t, end_s: t += l }));
  };
  // Up to LONGEST_FIRST_TAIL pieces: all longest first.
  assertEquals(LONGEST_FIRST_TAIL, 8);
  assertEquals(piecePriorities(s(15, 20, 10, 20, 18), 0), [4, 1, 5, 2, 3]);
  assertEquals(piecePriorities(s(20, 20, 20), 6), [7, 8, 9]);
  assertEquals(piecePriorities([], 3), []);
  // More: the first in recording order (whatever their length), then the
  // last eight longest first.
  assertEquals(
    piecePriorities(s(5, 20, 12, 19, 11, 20, 14, 18, 10, 16, 9, 20), 100),
    [101, 102, 103, 104, 110, 105, 109, 107, 111, 108, 112, 106],
  );
});

Deno.test("PieceStore.putAudio stores a piece only while Redis's used memory stays under the limit, and says which are stored", async () => {
  const server = await testRedis();
  const redis = connectRedis(server.url);
  try {
    const pieces = new PieceStore(redis, testPrefix("put"));
    const wav = new Uint8Array(200_000).fill(7);
    const used = parseInfoMemory(await redis.info("memory")).used;
    assertEquals(await pieces.putAudio("j", 0, wav, 60, used + 50_000), false);
    assertEquals(await pieces.audio("j", 0), null);
    assertEquals(
      await pieces.putAudio("j", 0, wav, 60, used + 5_000_000),
      true,
    );
    assertEquals((await pieces.audio("j", 0))?.byteLength, 200_000);
    // No limit.
    assertEquals(await pieces.putAudio("j", 2, wav, 60), true);
    assertEquals(await pieces.withAudio("j", [0, 1, 2]), new Set([0, 2]));
    assertEquals(await pieces.withAudio("j", []), new Set());
  } finally {
    redis.disconnect();
    await server.stop();
  }
});
