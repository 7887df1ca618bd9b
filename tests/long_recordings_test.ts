/**
 * Long recordings through the real stack: a recording longer than the piece
 * threshold is split at pauses into pieces that the workers share; progress
 * is visible (and wakes long polls); the stitched transcript matches the
 * text; a cancel stops the pieces not yet started; an hour of compressed
 * audio fits the default limits; a worker SIGKILLed
 * mid-piece loses only that piece's progress; another identity's short
 * clips are not starved while long recordings are transcribed.
 */
import { assert, assertEquals } from "../src/testing/assert.ts";
import { type Stack, startStack } from "../src/stack/mod.ts";
import { normalizeWords, wordErrorRate } from "../src/accuracy/mod.ts";
import { encodeWav, parseWav } from "../src/audio/mod.ts";
import { PIECES_QUEUE_NAME } from "../src/queue/mod.ts";
import { sample, waitForJob } from "./_client.ts";
import {
  percentile,
  pollFor,
  postJob,
  RedisView,
  removeLogs,
  round,
  workerName,
  writeReport,
} from "./chaos_helpers.ts";
import { longRecording } from "../src/testing/long_audio.ts";
import { transcribeThroughStack } from "../src/bench/mod.ts";
import { flacTone } from "./_audio.ts";
import { parseEnv, WorkerConfigSchema } from "../src/config/mod.ts";

/** The workers' longest piece (their default, as the stack starts them). */
const PIECE_MAX_S = parseEnv(WorkerConfigSchema, {}).PIECE_MAX_S;

// deno-lint-ignore no-explicit-any
type Job = any;

async function getJob(stack: Stack, id: string, user: string, waitS = 0) {
  const r = await fetch(`${stack.baseUrl}/jobs/${id}?wait=${waitS}`, {
    headers: { "x-user-id": user },
  });
  const body = await r.json();
  return { status: r.status, body: body as Job };
}

async function submit(stack: Stack, wav: Uint8Array, user: string) {
  const r = await postJob(stack.baseUrl, wav, user);
  if (r.status !== 202) {
    throw new Error(`POST /jobs: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return (r.body as { job_id: string }).job_id;
}

/** Checks the pieces of a completed job: each index once, contiguous, ≤ 30 s. */
function checkPieces(job: Job): void {
  assertEquals(job.status, "completed", JSON.stringify(job.error));
  const pieces = job.pieces as {
    index: number;
    start_s: number;
    end_s: number;
  }[];
  assert(pieces.length >= 2, `expected several pieces, got ${pieces.length}`);
  assertEquals(job.progress, {
    pieces_done: pieces.length,
    pieces_total: pieces.length,
  });
  assertEquals(pieces.map((p) => p.index), pieces.map((_, i) => i));
  assertEquals(pieces[0]!.start_s, 0);
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    assert(
      p.end_s - p.start_s <= PIECE_MAX_S + 1e-6,
      `piece ${i} is over ${PIECE_MAX_S} s`,
    );
    if (i > 0) assertEquals(p.start_s, pieces[i - 1]!.end_s);
  }
  assert(
    Math.abs(pieces.at(-1)!.end_s - job.audio_duration_s) < 0.01,
    "the pieces cover the recording",
  );
  const segs = job.segments as { start: number; end: number }[];
  for (let i = 1; i < segs.length; i++) {
    assert(segs[i]!.start >= segs[i - 1]!.end, `segment ${i} goes back`);
  }
}

Deno.test("long recordings: pieces, progress, stitching, cancel and fairness on a real stack", async (t) => {
  const stack = await startStack({ workers: 3 });
  const view = await RedisView.open(stack.redisUrl);
  let passed = false;
  const ok: boolean[] = [];
  const figures: Record<string, unknown> = {};
  try {
    /** DELETEs a split job, then waits until nothing of it is queued or stored. */
    const cancelAndCheckGone = async (id: string, user: string) => {
      const del = await fetch(`${stack.baseUrl}/jobs/${id}`, {
        method: "DELETE",
        headers: { "x-user-id": user },
      });
      const body = await del.json();
      assertEquals(del.status, 200, JSON.stringify(body));
      assertEquals(body.status, "cancelled");
      assert(body.pieces_cancelled >= 1, JSON.stringify(body));
      assertEquals((await getJob(stack, id, user)).status, 404);
      // Nothing of it stays queued or stored once the running pieces end.
      const prefix = view.keys.pieceAudio(id, 0).replace(/0$/, "");
      await pollFor(
        "the cancelled job's pieces to be gone",
        async () => {
          const audio = await view.redis.keys(`${prefix}*`);
          const pending = await view.redis.get(
            view.keys.userPendingPieces(user),
          );
          const waiting = await view.redis.zcard(
            `${view.keys.bullPrefix}:${PIECES_QUEUE_NAME}:prioritized`,
          );
          return audio.length === 0 && (pending === null || pending === "0") &&
              waiting === 0
            ? true
            : undefined;
        },
        30_000,
        100,
      );
      assertEquals(await view.redis.exists(view.keys.pieces(id)), 0);
      return body;
    };

    const rec = await longRecording(100);

    ok.push(
      await t.step(
        "a 100 s recording is split, shows progress and is stitched in order",
        async () => {
          const id = await submit(stack, rec.wav, "long-a");
          const seen: number[] = [];
          let job: Job;
          for (let polls = 0; polls < 200; polls++) {
            const t0 = Date.now();
            const before = seen.at(-1) ?? -1;
            ({ body: job } = await getJob(stack, id, "long-a", 20));
            if (job.progress) seen.push(job.progress.pieces_done);
            if (job.status === "completed" || job.status === "failed") break;
            // A long poll of a split job returns on progress, well before its wait.
            if (
              job.progress && before >= 0 && job.progress.pieces_done > before
            ) {
              assert(Date.now() - t0 < 19_000, "long poll woke on progress");
            }
          }
          checkPieces(job);
          assert(
            seen.some((d) => d > 0 && d < job.progress.pieces_total),
            `progress seen between 0 and done: ${seen.join(",")}`,
          );
          // Every cut falls in one of the recording's pauses.
          for (const p of job.pieces.slice(1)) {
            assert(
              rec.pauses.some((g) =>
                p.start_s >= g.start_s - 0.02 && p.start_s <= g.end_s + 0.02
              ),
              `cut at ${p.start_s} s is not in a pause`,
            );
          }
          const wer = wordErrorRate([
            { reference: rec.text, hypothesis: job.transcript },
          ]);
          assert(wer < 25, `WER ${wer} % against the reference`);
          // Each piece says when it started, within the job's lifetime; the
          // longer half of the pieces started before the shorter half.
          const created = Date.parse(job.created_at);
          const completed = Date.parse(job.completed_at);
          for (const p of job.pieces) {
            assert(
              p.started_at_ms >= created && p.started_at_ms <= completed,
              `piece ${p.index} started at ${p.started_at_ms}`,
            );
          }
          const byStart = [...job.pieces].sort((a: Job, b: Job) =>
            a.started_at_ms - b.started_at_ms
          );
          const meanLength = (ps: Job[]) =>
            ps.reduce((s: number, p: Job) => s + p.end_s - p.start_s, 0) /
            ps.length;
          const half = Math.floor(byStart.length / 2);
          assert(
            meanLength(byStart.slice(0, half)) >=
              meanLength(byStart.slice(-half)),
            `longest first: ${
              byStart.map((p: Job) => (p.end_s - p.start_s).toFixed(1))
            }`,
          );
          const used = new Set(job.pieces.map((p: Job) => p.worker_id));
          assert(used.size >= 2, `pieces were shared: ${[...used].join(",")}`);
          Object.assign(figures, {
            recording_s: round(rec.durationS),
            pieces: job.pieces.length,
            workers_used: used.size,
            progress_seen: seen,
            wer_percent: round(wer),
          });
        },
      ),
    );

    ok.push(
      await t.step(
        "a client polling a 200 s recording has its first words long before the end",
        async () => {
          const long = await longRecording(200);
          const r = await transcribeThroughStack(
            stack.baseUrl,
            long.wav,
            "first-text.wav",
            120_000,
          );
          assertEquals(r.job.status, "completed");
          const first = r.first_text_s;
          assert(
            first !== null && first < r.wall_s / 2,
            `first text after ${first} s of ${r.wall_s} s`,
          );
          // The text first shown is the start of the final transcript.
          assert(r.job.transcript.length > 0);
          figures.first_text = {
            recording_s: round(long.durationS),
            first_text_s: round(first, 2),
            done_s: round(r.wall_s, 2),
          };
        },
      ),
    );

    ok.push(
      await t.step(
        "a meeting's gap — 45 s of silence, 20 s of low noise — gives no text, and the speech after it is whole",
        async () => {
          const talk = await longRecording(30);
          const speech = parseWav(talk.wav).samples[0]!;
          let seed = 11;
          const noise = new Float32Array(16_000 * 20).map(() => {
            seed = (seed * 1103515245 + 12345) % 2147483648;
            return 0.003 * (seed / 1073741824 - 1); // −50 dBFS peak
          });
          const parts = [speech, new Float32Array(16_000 * 45), noise, speech];
          const all = new Float32Array(
            parts.reduce((n, p) => n + p.length, 0),
          );
          parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
          const resumeS = talk.durationS + 45 + 20;
          const gapStartS = talk.clips.at(-1)!.end_s;
          const id = await submit(
            stack,
            encodeWav(all, { sampleRate: 16_000 }),
            "long-m",
          );
          const job = await waitForJob(stack.baseUrl, id, "long-m", 240_000);
          checkPieces(job);
          const segs = job.segments as Job[];
          for (const s of segs) {
            assert(!/[[(♪]/.test(s.text), `a note: ${JSON.stringify(s)}`);
          }
          // Nothing in the gap (whisper wrote "[BLANK_AUDIO]" and
          // "[ Silence ]" segments there).
          const inGap = segs.filter((s) =>
            s.end > gapStartS + 0.5 && s.start < resumeS - 0.5
          );
          assertEquals(inGap, []);
          // The speech after the gap starts where it does, with its first
          // sentence (a piece of 8.8 s of noise and then speech lost it and
          // put the next sentence at the piece's start).
          const after = segs.filter((s) => s.start >= resumeS - 0.5);
          assert(after.length > 0, "no segment after the gap");
          assert(
            after[0].start <= resumeS + talk.clips[0]!.end_s,
            `first segment after the gap at ${after[0].start} s`,
          );
          const afterText = after.map((s: Job) => s.text).join(" ");
          const wer = wordErrorRate([
            { reference: talk.text, hypothesis: afterText },
          ]);
          assert(wer < 25, `WER ${wer} % after the gap: ${afterText}`);
          const firstWords = normalizeWords(talk.clips[0]!.text);
          assertEquals(
            normalizeWords(afterText).slice(0, firstWords.length),
            firstWords,
          );
          figures.meeting = {
            recording_s: round(all.length / 16_000),
            gap_s: round(resumeS - gapStartS),
            pieces: job.pieces.length,
            segments_in_gap: inGap.length,
            wer_after_gap_percent: round(wer),
          };
        },
      ),
    );

    ok.push(
      await t.step("DELETE cancels the pieces not yet started", async () => {
        const long = await longRecording(240);
        const id = await submit(stack, long.wav, "long-c");
        const job = await pollFor(
          "the recording to be split",
          async () => {
            const { body } = await getJob(stack, id, "long-c", 2);
            return body.progress ? body : undefined;
          },
          60_000,
          50,
        );
        const body = await cancelAndCheckGone(id, "long-c");
        figures.cancel = {
          pieces_total: body.pieces_total,
          pieces_cancelled: body.pieces_cancelled,
        };
        assertEquals(body.pieces_total, job.progress.pieces_total);
      }),
    );

    ok.push(
      await t.step(
        "an hour of compressed audio fits the default limits: a worker decodes and splits it",
        async () => {
          const flac = await flacTone(3600);
          const id = await submit(stack, flac, "long-h");
          const job = await pollFor(
            "the hour to be split",
            async () => {
              const { body } = await getJob(stack, id, "long-h", 2);
              if (body.status === "failed") {
                throw new Error(`failed: ${JSON.stringify(body.error)}`);
              }
              return body.progress ? body : undefined;
            },
            60_000,
            50,
          );
          assertEquals(Math.round(job.audio_duration_s), 3600);
          // A tone has no pauses: cut at the longest piece.
          assert(
            job.progress.pieces_total >= 3600 / PIECE_MAX_S,
            `${job.progress.pieces_total} pieces`,
          );
          const body = await cancelAndCheckGone(id, "long-h");
          figures.hour = {
            flac_bytes: flac.length,
            pieces_total: body.pieces_total,
            pieces_cancelled: body.pieces_cancelled,
          };
        },
      ),
    );

    ok.push(
      await t.step(
        "another identity's 1 s clips keep flowing while long recordings are transcribed",
        async () => {
          const { wav } = await sample();
          // ~25 s of work for three workers on two cores: longer than the 12 s
          // of clips.
          const big = await longRecording(300);
          const longIds = [
            await submit(stack, big.wav, "long-f"),
            await submit(stack, big.wav, "long-f"),
          ];
          await pollFor(
            "the recordings to be split",
            async () => {
              const js = await Promise.all(
                longIds.map((id) => getJob(stack, id, "long-f")),
              );
              return js.every((j) => j.body.progress) ? true : undefined;
            },
            30_000,
            50,
          );
          const shorts: Promise<{ e2e: number; job: Job }>[] = [];
          const t0 = Date.now();
          for (let i = 0; i < 12; i++) {
            const due = t0 + i * 1000;
            if (due > Date.now()) {
              await new Promise((r) => setTimeout(r, due - Date.now()));
            }
            shorts.push((async () => {
              const start = Date.now();
              const id = await submit(stack, wav, "short-f");
              const job = await waitForJob(
                stack.baseUrl,
                id,
                "short-f",
                30_000,
              );
              return { e2e: Date.now() - start, job };
            })());
          }
          const done = await Promise.all(shorts);
          const lastShort = Date.now();
          for (const d of done) assertEquals(d.job.status, "completed");
          const e2e = done.map((d) => d.e2e);
          const processing = done.map((d) => d.job.processing_ms as number);
          // Were the long recordings still being transcribed all along?
          const longs = await Promise.all(
            longIds.map((id) =>
              waitForJob(stack.baseUrl, id, "long-f", 180_000)
            ),
          );
          for (const j of longs) checkPieces(j);
          const longEnd = Math.max(
            ...longs.map((j) => Date.parse(j.completed_at)),
          );
          assert(longEnd > lastShort - 2000, "the clips ran beside the pieces");
          console.log(
            `fairness: 1 s clips e2e p95 ${
              percentile(e2e, 95)
            } ms, processing p95 ${percentile(processing, 95)} ms, while 2 × ${
              Math.round(big.durationS)
            } s recordings ran`,
          );
          assert(
            percentile(processing, 95) <= 1000,
            `processing ${processing}`,
          );
          assert(percentile(e2e, 95) <= 3000, `end to end ${e2e}`);
          figures.fairness = {
            long_recordings: 2,
            long_recording_s: round(big.durationS),
            clips: done.length,
            clip_processing_p95_ms: round(percentile(processing, 95)),
            clip_e2e_p95_ms: round(percentile(e2e, 95)),
          };
        },
      ),
    );
    // A failed step doesn't throw: the report says passed only if all did.
    passed = ok.every(Boolean);
  } finally {
    view.close();
    await stack.stop();
    await removeLogs(stack, passed ? undefined : "failed");
  }
  const f = figures as Record<string, Job>;
  await writeReport({
    suite: "long_recordings",
    summary:
      `${f.recording_s} s recording in ${f.pieces} pieces on ${f.workers_used} workers, ` +
      `progress seen ${
        (f.progress_seen ?? []).join("→")
      }, WER ${f.wer_percent} %, every cut in a pause; ` +
      `a meeting's ${f.meeting?.gap_s} s gap of silence and noise: ${f.meeting?.segments_in_gap} segments in it, WER ${f.meeting?.wer_after_gap_percent} % after it; ` +
      `a client polling a ${f.first_text?.recording_s} s recording had its first words after ${f.first_text?.first_text_s} s of ${f.first_text?.done_s} s; ` +
      `DELETE mid-way cancelled ${f.cancel?.pieces_cancelled} of ${f.cancel?.pieces_total} pieces, nothing left queued or stored; ` +
      `an hour of FLAC accepted with the default limits and split into ${f.hour?.pieces_total} pieces; ` +
      `1 s clips of another identity beside 2 × ${f.fairness?.long_recording_s} s recordings: ` +
      `processing p95 ${f.fairness?.clip_processing_p95_ms} ms, end to end p95 ${f.fairness?.clip_e2e_p95_ms} ms`,
    figures,
  }, passed ? undefined : "failed");
});

Deno.test("long recordings: a worker SIGKILLed mid-piece loses only that piece's progress", async () => {
  const stack = await startStack({
    workers: 2,
    workerEnv: {
      // Pieces last long enough to be caught mid-flight; a dead worker's
      // piece is taken again after its lock runs out.
      FAULT_INJECTION: "test-only",
      FAULT_PROCESSING_DELAY_MS: "1500",
      LOCK_MS: "3000",
      STALLED_INTERVAL_MS: "1000",
    },
  });
  const view = await RedisView.open(stack.redisUrl);
  let passed = false;
  try {
    const rec = await longRecording(100);
    const id = await submit(stack, rec.wav, "long-k");
    // The worker that delivered the latest piece, once it has taken its
    // next one: a heartbeat written after that delivery saying "busy" (a
    // piece lasts over 2 s here, a heartbeat comes every second). A beat from
    // before the delivery could still say "busy" while the worker sat
    // between pieces, and killing it then redid nothing.
    const delivered = await pollFor(
      "a piece to be done",
      async () => {
        const { body } = await getJob(stack, id, "long-k", 2);
        if (!(body.progress?.pieces_done >= 1)) return undefined;
        const last = (body.pieces as Job[]).reduce((a: Job, b: Job) =>
          a.started_at_ms + a.processing_ms >= b.started_at_ms + b.processing_ms
            ? a
            : b
        );
        return {
          worker: last.worker_id as string,
          at: last.started_at_ms + last.processing_ms,
        };
      },
      90_000,
      50,
    );
    const victim = await pollFor(
      `${delivered.worker} to take its next piece (heartbeat busy)`,
      async () => {
        const raw = await view.redis.get(view.keys.worker(delivered.worker));
        const beat = JSON.parse(raw ?? "{}");
        return beat.busy > 0 && beat.at > delivered.at + 100
          ? beat.worker_id as string
          : undefined;
      },
      5_000,
      20,
    );
    const proc = stack.processes().find((p) => p.name === workerName(victim));
    assert(proc, `process of ${victim}`);
    proc.kill("SIGKILL");
    const job = await waitForJob(stack.baseUrl, id, "long-k", 180_000);
    checkPieces(job);
    // One stored result per piece, however many attempts it took.
    assertEquals(
      await view.redis.hlen(view.keys.pieces(id)),
      job.progress.pieces_total,
    );
    assert(
      job.pieces.some((p: Job) => p.attempts >= 2),
      `the killed worker's piece was retried: ${JSON.stringify(job.pieces)}`,
    );
    assert(stack.restarts() >= 1, "the stack restarted the killed worker");
    const wer = wordErrorRate([
      { reference: rec.text, hypothesis: job.transcript },
    ]);
    assert(wer < 25, `WER ${wer} %`);
    const redone = job.pieces.filter((p: Job) => p.attempts >= 2);
    await writeReport({
      suite: "long_recordings_kill",
      summary:
        `worker SIGKILLed mid-piece: the ${job.progress.pieces_total}-piece recording completed, ` +
        `piece(s) ${
          redone.map((p: Job) => p.index).join(", ")
        } redone by another worker, ` +
        `each piece stored once, WER ${
          round(wer)
        } %, ${stack.restarts()} restart`,
      figures: {
        pieces: job.progress.pieces_total,
        redone_pieces: redone.map((p: Job) => p.index),
        restarts: stack.restarts(),
        wer_percent: round(wer),
      },
    });
    passed = true;
  } finally {
    view.close();
    await stack.stop();
    await removeLogs(stack, passed ? undefined : "failed");
  }
});
