import assert from "node:assert/strict";
import { ffmpegConcurrency, FfmpegTurns } from "./ffmpeg_turns.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A decode that runs until `release()`, noting in `log` when it starts. */
function gated(log: string[], name: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return {
    decode: async () => {
      log.push(name);
      await gate;
      return name;
    },
    release,
  };
}

Deno.test("FfmpegTurns.take: an identity's turns one after the other, each until disposed", async () => {
  const turns = new FfmpegTurns(1);
  const order: string[] = [];
  const first = await turns.take("a");
  const second = turns.take("a").then((t) => (order.push("a2"), t));
  const other = turns.take("b").then((t) => (order.push("b1"), t));
  await tick();
  assert.deepEqual(order, ["b1"], "b doesn't wait for a");
  first[Symbol.dispose]();
  first[Symbol.dispose](); // twice is a no-op
  (await second)[Symbol.dispose]();
  (await other)[Symbol.dispose]();
  assert.deepEqual(order, ["b1", "a2"]);
});

Deno.test("FfmpegTurns.take: a check that refuses ends the turn and is counted", async () => {
  const turns = new FfmpegTurns(1);
  await assert.rejects(
    turns.take("a", () => Promise.reject(new Error("quota full"))),
    /quota full/,
  );
  const next = await turns.take("a"); // not blocked by the refused one
  next[Symbol.dispose]();
  assert.equal(turns.counts.refused, 1);
  assert.equal(turns.counts.decoded, 0);
});

Deno.test("FfmpegTurns.decode: at most `concurrency` at once, the rest in order", async () => {
  const turns = new FfmpegTurns(2);
  const log: string[] = [];
  const jobs = ["d1", "d2", "d3", "d4"].map((n) => gated(log, n));
  const runs = jobs.map((j) => turns.decode(j.decode));
  await tick();
  assert.deepEqual(log, ["d1", "d2"]);
  assert.deepEqual(turns.counts, {
    running: 2,
    waiting: 2,
    decoded: 2,
    refused: 0,
  });
  jobs[1]!.release();
  await tick();
  assert.deepEqual(log, ["d1", "d2", "d3"]);
  jobs[0]!.release();
  jobs[2]!.release();
  jobs[3]!.release();
  assert.deepEqual(await Promise.all(runs), ["d1", "d2", "d3", "d4"]);
  assert.deepEqual(turns.counts, {
    running: 0,
    waiting: 0,
    decoded: 4,
    refused: 0,
  });
  // An error passes on and frees the place.
  await assert.rejects(
    turns.decode(() => Promise.reject(new Error("ffmpeg failed"))),
    /ffmpeg failed/,
  );
  assert.equal(turns.counts.running, 0);
});

Deno.test("ffmpegConcurrency: configured, else half the cores, at least 1", () => {
  assert.equal(ffmpegConcurrency(3, 2), 3);
  assert.equal(ffmpegConcurrency(0, 2), 1);
  assert.equal(ffmpegConcurrency(0, 1), 1);
  assert.equal(ffmpegConcurrency(0, 16), 8);
  assert.throws(() => new FfmpegTurns(0), RangeError);
});
