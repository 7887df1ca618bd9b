/**
 * Storage: no client that plays by the protocol can fill Redis. Against
 * real stacks whose Redis runs with a small `maxmemory`:
 * - a storage hog — several identities uploading more than the budget and
 *   never finalizing — is refused at the budget (429 `storage_full`, with
 *   Retry-After), Redis stays within its maxmemory, a well-behaved
 *   identity's 1 s jobs complete meanwhile in < 2 s, 0 5xx, nothing stored
 *   is lost;
 * - with the budget out of the way, Redis itself at maxmemory: the API
 *   answers the same refusal (never a 500), and once space frees (the
 *   sessions expire) uploads work again, no restart;
 * - amplification: a small FLAC of 30 minutes counts 1800 s against its
 *   identity's audio quota; another identity is unaffected;
 * - long recordings, whose pieces decode to as much as was uploaded or
 *   more: on a small Redis, several at once are paced by the budget, every
 *   accepted one completes, and Redis never refuses a write.
 * Writes tests/reports/storage.json, quotas.json and long_storage.json.
 */
import { assert, assertEquals, assertMatch } from "../src/testing/assert.ts";
import { ffmpegAvailable } from "../src/audio/mod.ts";
import { startStack } from "../src/stack/mod.ts";
import { sample, waitForJob, words } from "./_client.ts";
import {
  fileForm,
  initSession,
  putAllChunks,
  putChunk,
  send,
  writeReport,
} from "./_corpus_http.ts";
import { RedisView, removeLogs, round, rssMb } from "./chaos_helpers.ts";
import { longRecording } from "../src/testing/long_audio.ts";
import { wordErrorRate } from "../src/accuracy/mod.ts";
import { flacTone } from "./_audio.ts";
import { pidOf } from "./_proc.ts";

const MIB = 1024 * 1024;

/** `wav` as a 64 kbit/s MP3, made by ffmpeg. */
async function toMp3(wav: Uint8Array): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.wav`, wav);
    const r = await new Deno.Command("ffmpeg", {
      args: ["-hide_banner", "-loglevel", "error", "-i", `${dir}/a.wav`]
        .concat(["-b:a", "64k", `${dir}/a.mp3`]),
      stdin: "null",
      stderr: "piped",
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    return await Deno.readFile(`${dir}/a.mp3`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function submitAndWait(base: string, wav: Uint8Array, user: string) {
  const t0 = performance.now();
  const a = await send(base, "POST", "/jobs", {
    headers: { "x-user-id": user },
    body: fileForm("file", wav, "s.wav"),
  });
  if (a.status !== 202) return { status: a.status, ms: NaN, job: null };
  const job = await waitForJob(base, a.body.job_id, user, 20_000);
  return { status: a.status, ms: performance.now() - t0, job };
}

Deno.test("storage hog: refused at the budget, Redis within maxmemory, others' jobs still run, nothing lost", async () => {
  const maxmemory = 64 * MIB;
  const stack = await startStack({
    workers: 1,
    redisMaxmemory: maxmemory,
    env: { QUOTA_SESSION_BYTES: "0", MAX_SESSIONS_PER_USER: "100" },
  });
  let failure: unknown;
  try {
    const base = stack.baseUrl;
    const { wav, text } = await sample();
    // A finalized job before the hog: it must survive.
    const good0 = { "x-user-id": "good" };
    const s0 = await initSession(base, good0, wav.length, "s.wav");
    await putAllChunks(base, good0, s0, wav);
    const fin = await send(base, "POST", `/uploads/${s0.id}/finalize`, {
      headers: good0,
    });
    assertEquals(fin.status, 200);

    const statuses: Record<string, number> = {};
    const retryAfter = new Set<string>();
    const stored: Record<string, { id: string; chunks: number }[]> = {};
    let bytesOffered = 0;
    const file = new Uint8Array(8 * MIB).fill(7);
    const hog = async (user: string) => {
      const h = { "x-user-id": user };
      stored[user] = [];
      for (let s = 0; s < 6; s++) {
        const init = await send(base, "POST", "/uploads/initialize", {
          headers: { ...h, "content-type": "application/json" },
          body: JSON.stringify({ filename: "big.wav", file_size: 8 * MIB }),
        });
        statuses[init.status] = (statuses[init.status] ?? 0) + 1;
        if (init.status !== 200) {
          bytesOffered += 8 * MIB; // a whole upload turned away
          retryAfter.add(init.headers.get("retry-after") ?? "none");
          continue;
        }
        const session = { id: init.body.session_id, chunkSize: MIB };
        const mine = { id: session.id, chunks: 0 };
        stored[user].push(mine);
        for (let n = 0; n < 8; n++) {
          bytesOffered += MIB;
          const a = await putChunk(base, h, session, file, n);
          statuses[a.status] = (statuses[a.status] ?? 0) + 1;
          if (a.status === 200) mine.chunks++;
          else {
            assertEquals(a.body.error.code, "storage_full");
            retryAfter.add(a.headers.get("retry-after") ?? "none");
          }
        }
      }
    };
    const goodTimes: number[] = [];
    let hogsDone = false;
    const good = (async () => {
      while (!hogsDone || goodTimes.length < 5) {
        const r = await submitAndWait(base, wav, "good");
        assertEquals(r.status, 202, "a well-behaved job was refused");
        assertEquals(r.job.status, "completed");
        assertEquals(words(r.job.transcript), words(text));
        goodTimes.push(r.ms);
        await new Promise((res) => setTimeout(res, 300));
      }
    })();
    good.catch(() => undefined); // awaited below; a failure surfaces there
    await Promise.all(["hog1", "hog2", "hog3", "hog4"].map(hog));
    hogsDone = true;
    await good;

    const refused = Object.entries(statuses)
      .filter(([s]) => s === "429").reduce((n, [, c]) => n + c, 0);
    const serverErrors = Object.entries(statuses)
      .filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
    assert(refused > 0, `no refusal: ${JSON.stringify(statuses)}`);
    assertEquals(serverErrors, 0);
    assert(![...retryAfter].includes("none"), "a refusal without Retry-After");
    const redisRss = round(rssMb(pidOf(stack, "redis")) ?? NaN, 1);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const used = Number(
      /whisper_storage_bytes\{kind="used"\} (\d+)/.exec(metrics)![1],
    );
    const budget = Number(
      /whisper_storage_bytes\{kind="budget"\} (\d+)/.exec(metrics)![1],
    );
    assert(used <= maxmemory, `used_memory ${used} over maxmemory`);
    assert(redisRss <= maxmemory / MIB + 32, `redis RSS ${redisRss} MiB`);
    assert(Math.max(...goodTimes) < 2000, `good jobs took ${goodTimes}`);
    // Nothing lost: every stored chunk is still there, the finalized job completed.
    let chunksStored = 0;
    for (const [user, sessions] of Object.entries(stored)) {
      for (const s of sessions) {
        const st = await send(base, "GET", `/uploads/${s.id}`, {
          headers: { "x-user-id": user },
        });
        assertEquals(st.body.uploaded_chunks, s.chunks);
        chunksStored += s.chunks;
      }
    }
    const job0 = await waitForJob(base, fin.body.job_id, "good");
    assertEquals(job0.status, "completed");
    assertMatch(metrics, /whisper_refusals_total\{code="storage_full"\} \d+/);

    const summary =
      `4 identities offered ${
        bytesOffered / MIB
      } MiB of never-finalized uploads to a Redis of ${maxmemory / MIB} MiB ` +
      `(budget ${
        (budget / MIB).toFixed(1)
      } MiB, uploads ≤ 75 %): ${chunksStored} MiB stored, ${refused} refusals 429 storage_full ` +
      `(Retry-After ${
        [...retryAfter].join("/")
      } s), ${serverErrors} 5xx; Redis used ${
        (used / MIB).toFixed(1)
      } MiB, RSS ${redisRss} MiB; ` +
      `a well-behaved identity's ${goodTimes.length} 1 s jobs meanwhile: max ${
        Math.round(Math.max(...goodTimes))
      } ms end to end; ` +
      `every stored chunk and the finalized job intact`;
    await writeReport("storage", {
      suite: "tests/storage_test.ts",
      maxmemory_mib: maxmemory / MIB,
      budget_mib: Math.round(budget / MIB * 10) / 10,
      offered_mib: bytesOffered / MIB,
      stored_mib: chunksStored,
      statuses,
      retry_after: [...retryAfter],
      server_errors: serverErrors,
      redis_used_mib: Math.round(used / MIB * 10) / 10,
      redis_rss_mib: redisRss,
      good_jobs: goodTimes.length,
      good_job_max_ms: Math.round(Math.max(...goodTimes)),
      summary,
    });
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    await stack.stop();
    await removeLogs(stack, failure);
  }
});

Deno.test("Redis at its maxmemory: the API answers 429 storage_full, never 500, and recovers by itself", async () => {
  const stack = await startStack({
    workers: 1,
    redisMaxmemory: 24 * MIB,
    env: {
      STORAGE_BUDGET_BYTES: String(1024 * MIB), // out of the way: Redis refuses first
      QUOTA_SESSION_BYTES: "0",
      SESSION_TTL_S: "3",
    },
  });
  let failure: unknown;
  try {
    const base = stack.baseUrl;
    const apiPid = pidOf(stack, "api");
    const h = { "x-user-id": "filler" };
    const file = new Uint8Array(8 * MIB).fill(3);
    const statuses: Record<string, number> = {};
    let refusal: { code: string; retryAfter: string | null } | null = null;
    let storedMib = 0;
    for (let s = 0; s < 8 && refusal === null; s++) {
      const init = await send(base, "POST", "/uploads/initialize", {
        headers: { ...h, "content-type": "application/json" },
        body: JSON.stringify({ filename: "big.wav", file_size: 8 * MIB }),
      });
      statuses[init.status] = (statuses[init.status] ?? 0) + 1;
      if (init.status !== 200) {
        refusal = {
          code: init.body.error.code,
          retryAfter: init.headers.get("retry-after"),
        };
        break;
      }
      for (let n = 0; n < 8; n++) {
        const a = await putChunk(
          base,
          h,
          { id: init.body.session_id, chunkSize: MIB },
          file,
          n,
        );
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        if (a.status === 200) storedMib++;
        else {
          refusal = {
            code: a.body.error.code,
            retryAfter: a.headers.get("retry-after"),
          };
          break;
        }
      }
    }
    assert(
      refusal !== null,
      `Redis never refused: ${JSON.stringify(statuses)}`,
    );
    assertEquals(refusal.code, "storage_full");
    assert(refusal.retryAfter !== null);
    assertEquals(Object.keys(statuses).filter((s) => Number(s) >= 500), []);
    // Still full: the same upload is refused again, not failed.
    const refusedAt = performance.now();
    const retry = async () => {
      const init = await send(base, "POST", "/uploads/initialize", {
        headers: { ...h, "content-type": "application/json" },
        body: JSON.stringify({ filename: "big.wav", file_size: 8 * MIB }),
      });
      if (init.status !== 200) return init.status;
      const a = await putChunk(
        base,
        h,
        { id: init.body.session_id, chunkSize: MIB },
        file,
        0,
      );
      return a.status;
    };
    assertEquals(await retry(), 429);
    // The sessions expire (SESSION_TTL_S 3); space frees; uploads work again.
    let recovered = false;
    let attempts = 1;
    while (!recovered && performance.now() - refusedAt < 20_000) {
      await new Promise((r) => setTimeout(r, 250));
      const status = await retry();
      attempts++;
      assert(status === 200 || status === 429, `got ${status}`);
      recovered = status === 200;
    }
    const recoveredS = (performance.now() - refusedAt) / 1000;
    assert(recovered, "uploads still refused 20 s after the sessions expired");
    assertEquals(pidOf(stack, "api"), apiPid, "the API was not restarted");
    await writeReport("storage_redis_full", {
      suite: "tests/storage_test.ts",
      maxmemory_mib: 24,
      stored_mib_before_refusal: storedMib,
      statuses,
      refusal,
      recovered_after_s: Math.round(recoveredS * 10) / 10,
      summary:
        `Redis at its 24 MiB maxmemory (the service's budget set out of the way) after ${storedMib} MiB of chunks: ` +
        `the API answered 429 ${refusal.code} (Retry-After ${refusal.retryAfter} s), 0 5xx; the same upload kept getting 429 ` +
        `until the sessions expired, then went through ${
          recoveredS.toFixed(1)
        } s after the first refusal (${attempts} tries), same API process`,
    });
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    await stack.stop();
    await removeLogs(stack, failure);
  }
});

Deno.test({
  name:
    "amplification: 30 minutes in a small FLAC count 1800 s against the audio quota; another identity is unaffected",
  ignore: !(await ffmpegAvailable()),
  fn: async () => {
    const stack = await startStack({
      workers: 1,
      env: { QUOTA_AUDIO_S: "2000", LONG_BUDGET_S: "86400" },
      // No worker takes long recordings here: the jobs stay queued.
      workerEnv: { PIECE_CONCURRENCY: "0" },
    });
    let failure: unknown;
    try {
      const base = stack.baseUrl;
      const file = await flacTone(1800);
      const post = (user: string, bytes: Uint8Array, name = "long.flac") =>
        send(base, "POST", "/jobs", {
          headers: { "x-user-id": user },
          body: fileForm("file", bytes, name),
        });
      const a1 = await post("amp", file);
      assertEquals(a1.status, 202);
      assertEquals(a1.body.audio_duration_s, 1800);
      const a2 = await post("amp", file);
      assertEquals(a2.status, 429);
      assertEquals(a2.body.error.code, "quota_exceeded");
      assertEquals(a2.body.error.quota, "QUOTA_AUDIO_S");
      assert(a2.headers.get("retry-after") !== null);
      const b1 = await post("other", file);
      assertEquals(b1.status, 202, JSON.stringify(b1.body));
      // A 1 s clip still fits the first identity's quota (1800 + 1.1 ≤ 2000).
      const { wav } = await sample();
      assertEquals((await post("amp", wav, "s.wav")).status, 202);
      // Cancelling the long job gives its seconds back.
      const del = await send(base, "DELETE", `/jobs/${a1.body.job_id}`, {
        headers: { "x-user-id": "amp" },
      });
      assertEquals(del.status, 200);
      const a3 = await post("amp", file);
      assertEquals(a3.status, 202);
      for (
        const [user, id] of [["amp", a3.body.job_id], ["other", b1.body.job_id]]
      ) {
        await send(base, "DELETE", `/jobs/${id}`, {
          headers: { "x-user-id": user },
        });
      }
      await writeReport("quotas", {
        suite: "tests/storage_test.ts",
        flac_bytes: file.length,
        audio_s: 1800,
        quota_audio_s: 2000,
        second_flac_status: a2.status,
        second_flac_message: a2.body.error.message,
        other_identity_status: b1.status,
        summary:
          `a ${
            Math.round(file.length / 1024)
          } KiB FLAC of 30 min counted 1800 s of the identity's 2000 s audio quota: ` +
          `a second one got 429 quota_exceeded (QUOTA_AUDIO_S, Retry-After), a 1 s clip still fit, another identity's identical FLAC was accepted; ` +
          `cancelling the first gave its seconds back`,
      });
    } catch (e) {
      failure = e;
      throw e;
    } finally {
      await stack.stop();
      await removeLogs(stack, failure);
    }
  },
});

Deno.test("long recordings on a small Redis: pieces paced by the storage budget, every accepted recording completes, Redis never refuses a write", async () => {
  // Three 8-min MP3s: 11 MB of uploads and 46 MB of pieces (PCM16),
  // against a budget of 36 MB (long recordings may fill 32 MB of it).
  const maxmemory = 40 * MIB;
  const stack = await startStack({ workers: 3, redisMaxmemory: maxmemory });
  const view = await RedisView.open(stack.redisUrl);
  let failure: unknown;
  let peak = 0;
  let sampling = true;
  let sampler: Promise<void> | undefined;
  try {
    const base = stack.baseUrl;
    const rec = await longRecording(480);
    const mp3 = await toMp3(rec.wav);
    const users = ["long-a", "long-b", "long-c"];
    sampler = (async () => {
      while (sampling) {
        const info = await view.redis.info("memory").catch(() => "");
        const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
        peak = Math.max(peak, used);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const refusals: number[] = [];
    // Each client retries a 429 storage_full after its Retry-After.
    const ids = await Promise.all(users.map(async (user) => {
      for (let tries = 0; tries < 30; tries++) {
        const a = await send(base, "POST", "/jobs", {
          headers: { "x-user-id": user },
          body: fileForm("file", mp3, "long.mp3"),
        });
        if (a.status === 202) {
          refusals.push(tries);
          return a.body.job_id as string;
        }
        assertEquals([a.status, a.body.error.code], [429, "storage_full"]);
        const wait = Number(a.headers.get("retry-after"));
        await new Promise((r) => setTimeout(r, wait * 1000));
      }
      throw new Error(`${user}: never accepted`);
    }));
    const jobs = await Promise.all(
      ids.map((id, i) => waitForJob(base, id, users[i]!, 240_000)),
    );
    for (const job of jobs) {
      assertEquals(job.status, "completed", JSON.stringify(job.error));
      assertEquals(job.attempts, 1);
      const wer = wordErrorRate([
        { reference: rec.text, hypothesis: job.transcript },
      ]);
      assert(wer < 25, `WER ${wer} %`);
    }
    const errors = await view.redis.info("errorstats");
    assert(!/errorstat_OOM/.test(errors), `Redis refused writes: ${errors}`);
    // (used_memory may pass maxmemory for a moment: Redis counts the
    // uploads' query buffers; what it refuses is a write past it.)
    const paused = (await Deno.readTextFile(`${stack.logDir}/worker-1.log`) +
      await Deno.readTextFile(`${stack.logDir}/worker-2.log`) +
      await Deno.readTextFile(`${stack.logDir}/worker-3.log`))
      .split("\n").filter((l) => l.includes("split paused")).length;
    await writeReport("long_storage", {
      suite: "tests/storage_test.ts",
      maxmemory_mib: 40,
      recordings: users.length,
      recording_s: round(rec.durationS),
      refusals_before_accepted: refusals,
      splits_paused_for_room: paused,
      used_memory_peak_mib: round(peak / MIB),
      summary:
        `${users.length} recordings of ${round(rec.durationS)} s (MP3, ${
          round(mp3.length * users.length / MIB)
        } MiB of uploads, ${
          round(rec.wav.length * users.length / MIB)
        } MiB of pieces) on a Redis of 40 MiB: ` +
        `all completed in one attempt, splits paused ${paused} time(s) for room, ` +
        `uploads refused ${
          refusals.reduce((a, b) => a + b, 0)
        } time(s) with 429 storage_full first, Redis refused no write (used_memory peaked at ${
          round(peak / MIB)
        } MiB with the uploads' buffers)`,
    });
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    sampling = false;
    await sampler;
    view.close();
    await stack.stop();
    await removeLogs(stack, failure);
  }
});
