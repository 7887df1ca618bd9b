/**
 * Scale-out over "hosts" on one machine (tests/_netns.ts): Redis and the API
 * run in a `hub` network namespace, one worker each in `host1` and `host2`,
 * which reach Redis over their own veth links; the test reaches the API over
 * a third link. A job submitted to the hub is transcribed on another host,
 * and a long recording's pieces are spread over both hosts and survive one
 * host's link being cut mid-piece.
 *
 * Needs root and iproute2 (namespaces); without them each test is skipped
 * with the reason.
 */
import { join } from "node:path";
import type { Redis } from "ioredis";
import { assert, assertEquals, assertMatch } from "../src/testing/assert.ts";
import { PROJECT_ROOT } from "../src/config/mod.ts";
import {
  connectRedis,
  Heartbeat,
  keys,
  waitConnected,
} from "../src/queue/mod.ts";
import type { ManagedProcess } from "../src/stack/mod.ts";
import { encodeWav, parseWav } from "../src/audio/mod.ts";
import { wordErrorRate } from "../src/accuracy/mod.ts";
import { synthesizeClip } from "../src/accuracy/mod.ts";
import { sample, uploadChunked, waitForJob, words } from "./_client.ts";
import { createHosts, type Hosts, netnsAvailable } from "./_netns.ts";
import { until, within } from "./_wait.ts";
import { writeReport } from "./chaos_helpers.ts";

const NETNS = await netnsAvailable();
if (NETNS !== true) {
  console.warn(`scaleout_netns: namespace tests skipped: ${NETNS}`);
}
const ignore = NETNS !== true;

const MODEL = "tiny.en-q8_0";
/** Redis's port in the hub: a fresh namespace, so nothing else holds it. */
const REDIS_PORT = 6379;
const USER = "scaleout";
const HOSTS = ["host1", "host2"] as const;
/** Worker ids: `<host>-w<n>`. */
const WORKER_ID = /^(host[12])-w\d+$/;

// ---- the layout: Redis + API in the hub, workers on the hosts -------------

/** Options of {@linkcode withScaleOut}. */
interface LayoutOptions {
  /** Worker processes per host. @default 1 */
  workersPerHost?: number;
  /** Extra environment for every worker. */
  workerEnv?: Record<string, string>;
  /** Start-up deadline for the whole layout, ms. @default 120000 */
  timeoutMs?: number;
}

/** A running layout. */
interface ScaleOut {
  hosts: Hosts;
  /** The API, reached from the root namespace over the hub's link. */
  baseUrl: string;
  /** A client in the root namespace of the hub's Redis. */
  redis: Redis;
  prefix: string;
  /** Worker id → its process. */
  workers: Map<string, ManagedProcess>;
  /** Rejects when any process of the layout exits before the cleanup. */
  died: Promise<never>;
  /** Start-up time, ms. */
  startMs: number;
}

/**
 * Creates the hosts, starts Redis and the API in the hub and the workers on
 * the hosts (each ready by a real signal), runs `body`, and in every case
 * stops everything and removes the namespaces; fails when anything is left.
 */
async function withScaleOut(
  options: LayoutOptions,
  body: (so: ScaleOut) => Promise<void>,
): Promise<void> {
  const t0 = performance.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const hosts = await createHosts(HOSTS);
  const prefix = `wt-netns-${Deno.pid}`;
  const death = Promise.withResolvers<never>();
  death.promise.catch(() => undefined);
  let stopping = false;
  const watch = (p: ManagedProcess) => {
    p.exited.then((e) => {
      if (stopping) return;
      death.reject(
        new Error(
          `${p.name} exited (code ${e.code}${
            e.signal ? `, ${e.signal}` : ""
          }); last lines:\n    ${p.tail(10).join("\n    ")}`,
        ),
      );
    });
    return p;
  };
  let redis: Redis | null = null;
  let failure: unknown = null;
  let left: string[] = [];
  try {
    // Redis in the hub, on every hub address (root link and host links).
    watch(hosts.runIn(
      "hub",
      [
        "redis-server",
        "--port",
        String(REDIS_PORT),
        "--bind",
        "0.0.0.0",
        "--protected-mode",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        hosts.logDir,
        "--proc-title-template",
        `{title} {listen-addr} ${hosts.id}`,
      ],
      {},
      { name: "redis", stopLast: true, graceMs: 5000 },
    ));
    redis = connectRedis(`redis://${hosts.hubAddress}:${REDIS_PORT}`, {
      name: "scaleout-test",
    });
    redis.on("error", () => undefined);
    const client = redis;
    await until(
      "Redis in the hub to answer PING from the root namespace",
      async () => {
        await waitConnected(client, 1000).catch(() => undefined);
        return client.status === "ready" && await client.ping() === "PONG"
          ? true
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, died: death.promise },
    );

    // Workers on the hosts, configured as the stack configures its workers.
    const workers = new Map<string, ManagedProcess>();
    for (const host of HOSTS) {
      const h = hosts.host(host);
      for (let i = 1; i <= (options.workersPerHost ?? 1); i++) {
        const id = `${host}-w${i}`;
        workers.set(
          id,
          watch(hosts.runIn(host, [
            Deno.execPath(),
            "run",
            "-A",
            "--quiet",
            join(PROJECT_ROOT, "src/tasks/worker.ts"),
            // Ignored by the worker; marks the command line as this run's.
            `--netns-run=${hosts.id}`,
          ], {
            MALLOC_ARENA_MAX: "1",
            REDIS_URL: `redis://${h.hubAddress}:${REDIS_PORT}`,
            REDIS_PREFIX: prefix,
            DEFAULT_MODEL: MODEL,
            WORKER_ID: id,
            ...options.workerEnv,
          }, { name: id, cwd: PROJECT_ROOT, graceMs: 8000 })),
        );
      }
    }

    // The API in the hub, on its root-facing address.
    const listening = Promise.withResolvers<string>();
    watch(hosts.runIn("hub", [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      join(PROJECT_ROOT, "src/tasks/api.ts"),
      `--netns-run=${hosts.id}`,
    ], {
      REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}`,
      REDIS_PREFIX: prefix,
      DEFAULT_MODEL: MODEL,
      HOST: hosts.hubAddress,
      PORT: "0",
    }, {
      name: "api",
      cwd: PROJECT_ROOT,
      graceMs: 5000,
      onLine: (line) => {
        const m = /^listening: (\S+)/.exec(line);
        if (m) listening.resolve(m[1]!);
      },
    }));

    // Each worker is ready when its heartbeat (written over its host's link)
    // says so; one that can't load its model fails the start with the reason.
    const ids = [...workers.keys()];
    await until(`worker heartbeats (${ids.join(", ")}) ready`, async () => {
      const beats = await Promise.all(
        ids.map((id) => heartbeat(client, prefix, id)),
      );
      for (const b of beats) {
        if (b && !b.ready) {
          throw new Error(`worker ${b.worker_id} not ready: ${b.reason}`);
        }
      }
      return beats.every((b) => b?.ready) ? true : undefined;
    }, { timeoutMs, intervalMs: 100, died: death.promise });

    const baseUrl = await within(
      Promise.race([listening.promise, death.promise]),
      timeoutMs,
      "the API to listen",
    );
    await until("the API's /health/ready", async () => {
      const r = await fetch(`${baseUrl}/health/ready`, {
        signal: AbortSignal.timeout(5000),
      }).catch(() => null);
      await r?.body?.cancel();
      return r?.status === 200 ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100, died: death.promise });

    await body({
      hosts,
      baseUrl,
      redis: client,
      prefix,
      workers,
      died: death.promise,
      startMs: performance.now() - t0,
    });
  } catch (error) {
    failure = error;
    console.error(
      `scale-out failed; the processes' last lines:\n${hosts.tails()}`,
    );
    throw error;
  } finally {
    stopping = true;
    redis?.disconnect();
    left = await hosts.cleanup();
    if (failure && left.length > 0) {
      console.error(`cleanup left: ${left.join("; ")}`);
    }
  }
  // Reached only when the test passed: then leftovers fail it.
  if (left.length > 0) throw new Error(`cleanup left: ${left.join("; ")}`);
}

// ---- small helpers ---------------------------------------------------------

/** A worker's heartbeat from Redis; null when it has none (gone or not yet). */
async function heartbeat(
  redis: Redis,
  prefix: string,
  id: string,
): Promise<Heartbeat | null> {
  const raw = await redis.get(keys(prefix).worker(id));
  return raw ? Heartbeat.parse(JSON.parse(raw)) : null;
}

/** One piece of a split job, as `GET /jobs/{id}` reports it. */
interface PieceView {
  index: number;
  start_s: number;
  end_s: number;
  worker_id: string;
  processing_ms: number;
  attempts: number;
}

/** The fields of `GET /jobs/{id}` this suite reads. */
interface JobView {
  job_id: string;
  status: "queued" | "processing" | "completed" | "failed";
  transcript: string | null;
  segments: { start: number; end: number; text: string }[];
  error: unknown;
  worker_id?: string | null;
  progress?: { pieces_done: number; pieces_total: number | null };
  pieces?: PieceView[];
}

/** `GET /jobs/{id}` (no long poll). */
async function getJob(baseUrl: string, id: string): Promise<JobView> {
  const r = await fetch(`${baseUrl}/jobs/${id}`, {
    headers: { "x-user-id": USER },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await r.json();
  if (r.status !== 200) {
    throw new Error(`GET /jobs/${id}: ${r.status} ${JSON.stringify(body)}`);
  }
  return body;
}

const isFinal = (j: JobView) =>
  j.status === "completed" || j.status === "failed";

/** `host1` from `host1-w1`. */
function hostOf(workerId: string): string {
  const m = WORKER_ID.exec(workerId);
  if (!m) throw new Error(`worker id "${workerId}" is not a host worker's`);
  return m[1]!;
}

/** Pieces finished by each host. */
function piecesByHost(
  pieces: readonly PieceView[] = [],
): Record<string, number[]> {
  const by: Record<string, number[]> = { host1: [], host2: [] };
  for (const p of pieces) (by[hostOf(p.worker_id)] ??= []).push(p.index);
  return by;
}

// ---- the long recording ------------------------------------------------------

/** Paragraphs of the long recording: plain words, no digits or contractions. */
const PARAGRAPHS = [
  "The old lighthouse stood at the end of a narrow road that ran along the cliffs. Every evening the keeper climbed the long stairs, cleaned the great glass lens, and lit the lamp before the sun went down. Ships passing in the dark could see the beam sweeping across the water, and they knew that the rocks were near. In winter the wind was so strong that the keeper had to hold on to the rail with both hands.",
  "On the first warm morning of spring, the whole village went out to work in the gardens. Children carried baskets of seeds, and their parents dug long rows in the soft brown earth. An old farmer showed them how deep to plant the beans and how far apart to set the potatoes. By the middle of the day everyone was tired and hungry, so they sat under the trees and shared bread, cheese and cold water from the well.",
  "The train left the city just after dawn and followed the river toward the mountains. Through the window the passengers watched fields give way to forests, and forests give way to bare stone. A woman near the door was reading a thick book about the history of the railway. She told the boy beside her that the tunnel ahead had taken many years to build, and that the men who dug it worked by the light of candles.",
  "Baking bread at home is simple, but it asks for patience. You mix flour, water, salt and a little yeast in a large bowl, then knead the dough until it feels smooth and springs back when you press it. After that you cover the bowl and leave it in a warm place for a few hours. When the dough has doubled in size, you shape it into a loaf and bake it in a hot oven until the crust turns golden.",
  "The library in our town is open every day except Sunday. It has a quiet reading room with tall windows, a corner full of picture books for small children, and a long wall of newspapers from around the world. The librarian knows almost every regular visitor by name. She can usually find the book you want before you have finished describing it, and she always reminds people to return their books on time.",
  "Late in the summer a storm came in from the sea. The sky turned dark, the birds fell silent, and the first heavy drops of rain hit the dusty road. Within minutes the streets were running with water and the lights in the houses began to flicker. By the next morning the storm had passed, the air was cool and clean, and the fishermen were already walking down to the docks to check their boats.",
  "Every autumn the birds gather in the wide marsh beside the river before they fly south. For a few weeks the sky above the reeds is full of noise and movement. People come from far away to watch them, standing quietly on the wooden paths with their coats buttoned against the cold. When the first frost arrives, the flocks rise together in long dark lines, circle once over the water, and disappear beyond the hills.",
  "Learning to play a musical instrument takes time and steady practice. Most teachers say that a short lesson every day is better than a long one once a week. At first the fingers feel slow and clumsy, and the notes sound thin and uncertain. Then one evening a simple tune comes out clearly from beginning to end, and the student realizes that all the careful work has finally begun to pay off.",
];
/** Silence between paragraphs, seconds. */
const GAP_S = 0.8;
const RATE = 16_000;

/**
 * The paragraphs spoken by espeak-ng (`-v en-us -s 160`), each made by the
 * project's clip generator (16 kHz mono, trimmed), joined with
 * {@linkcode GAP_S} of silence into one PCM16 WAV.
 */
async function speechRecording(): Promise<
  { wav: Uint8Array; text: string; durationS: number }
> {
  const clips = await Promise.all(
    PARAGRAPHS.map((text, i) =>
      synthesizeClip({ id: `p${i + 1}`, voice: "en-us", speed: 160, text })
    ),
  );
  const parts = clips.map((bytes) => parseWav(bytes).samples[0]!);
  const gap = Math.round(GAP_S * RATE);
  const pcm = new Float32Array(
    parts.reduce((n, p) => n + p.length, 0) + gap * (parts.length - 1),
  );
  let at = 0;
  for (const p of parts) {
    pcm.set(p, at);
    at += p.length + gap;
  }
  return {
    wav: encodeWav(pcm, { sampleRate: RATE }),
    text: PARAGRAPHS.join(" "),
    durationS: pcm.length / RATE,
  };
}

const ms = (t0: number) => Math.round(performance.now() - t0);
const round = (x: number) => Math.round(x * 10) / 10;

// ---- the tests ----------------------------------------------------------------

Deno.test({
  name:
    "scale-out: a job submitted to the hub is transcribed by a worker on another host",
  ignore,
  async fn() {
    await withScaleOut({ workersPerHost: 1 }, async (so) => {
      const { wav, text } = await sample();
      const t0 = performance.now();
      const id = await uploadChunked(so.baseUrl, wav, USER);
      const job = await waitForJob(so.baseUrl, id, USER, 60_000);
      const jobMs = ms(t0);
      assertEquals(job.status, "completed", JSON.stringify(job.error));
      assertEquals(words(job.transcript), words(text));

      // The API does not show worker_id; the job record in Redis does.
      const workerId = job.worker_id ??
        await so.redis.hget(keys(so.prefix).job(id), "worker_id");
      assertMatch(String(workerId), WORKER_ID);
      const host = so.hosts.host(hostOf(workerId!));
      const proc = so.workers.get(workerId!);
      assert(proc, `no process for worker ${workerId}`);
      // That worker is a process inside its host's namespace (ip netns exec
      // runs the command in place, so its heartbeat's pid is the one we hold).
      assertEquals(await so.hosts.namespaceOf(proc.pid), host.ns);
      assertEquals(
        (await heartbeat(so.redis, so.prefix, workerId!))?.pid,
        proc.pid,
      );
      console.log(
        `scale-out: layout up in ${Math.round(so.startMs)} ms; job ${id} ` +
          `done by ${workerId} (namespace ${host.ns}, reaching Redis at ` +
          `${host.hubAddress}) in ${jobMs} ms`,
      );
    });
  },
});

Deno.test({
  name:
    "scale-out: one long recording's pieces are spread over both worker hosts, and survive a host's link cut mid-piece",
  ignore,
  async fn() {
    const tSynth = performance.now();
    const rec = await speechRecording();
    const synthMs = ms(tSynth);
    assert(
      rec.durationS >= 120 && rec.durationS <= 300,
      `the recording is ${rec.durationS.toFixed(1)} s, expected ~150–240 s`,
    );
    await withScaleOut({
      workersPerHost: 1,
      workerEnv: {
        WHISPER_THREADS: "1",
        // A lost worker's piece goes back to the queue within ~4 s.
        LOCK_MS: "3000",
        STALLED_INTERVAL_MS: "1000",
        // Fresh `busy` figures, and a lost worker's heartbeat gone in 0.6 s.
        HEARTBEAT_MS: "200",
      },
    }, async (so) => {
      const poll = { intervalMs: 200, died: so.died };
      const t0 = performance.now();
      const id = await uploadChunked(so.baseUrl, rec.wav, USER, "long.wav");
      const budgetMs = 240_000;
      const left = () => Math.max(1, budgetMs - (performance.now() - t0));

      // 1. A worker splits the job into pieces (progress.pieces_total).
      const split = await until(
        "the job to be split into pieces or to end",
        async () => {
          const j = await getJob(so.baseUrl, id);
          return isFinal(j) || typeof j.progress?.pieces_total === "number"
            ? j
            : undefined;
        },
        { ...poll, timeoutMs: 120_000 },
      );
      if (!split.progress || typeof split.progress.pieces_total !== "number") {
        const by = await so.redis.hget(keys(so.prefix).job(id), "worker_id");
        throw new Error(
          `pieces not implemented: GET /jobs/${id} of a ` +
            `${rec.durationS.toFixed(0)} s recording has no "progress" with ` +
            `pieces_total (status "${split.status}" after ${ms(t0)} ms` +
            (split.status === "completed"
              ? `; transcribed whole by ${by}`
              : "") +
            `; fields: ${Object.keys(split).join(", ")})`,
        );
      }
      const splitMs = ms(t0);

      // 2. Cut host1 mid-piece: right after it delivers a piece (host2
      // having delivered one too) it takes the next one, which takes a
      // second or more; at least 3 pieces are left, so that isn't the short
      // last one. A heartbeat written after that delivery saying "busy" shows
      // it has.
      const total = split.progress.pieces_total;
      let host1Seen = -1;
      const trigger = await until(
        "host1 to deliver a piece once host2 has delivered one",
        async () => {
          const j = await getJob(so.baseUrl, id);
          const seenAt = Date.now();
          if (isFinal(j)) {
            throw new Error(
              `the job ended (${j.status}) before host1 could be cut ` +
                `mid-piece: ${JSON.stringify(piecesByHost(j.pieces))}`,
            );
          }
          const by = piecesByHost(j.pieces);
          const fresh = host1Seen >= 0 && by.host1!.length > host1Seen;
          host1Seen = by.host1!.length;
          if (!fresh || by.host2!.length === 0) return undefined;
          const remaining = total - (j.progress?.pieces_done ?? 0);
          assert(
            remaining >= 3,
            `only ${remaining} of ${total} pieces left when host1 delivered ` +
              `one with host2 having one too: too few to cut host1 mid-piece`,
          );
          return { job: j, seenAt };
        },
        { intervalMs: 50, died: so.died, timeoutMs: left() },
      );
      const busyBeat = await until(
        "host1's worker to take its next piece (heartbeat busy)",
        async () => {
          const b = await heartbeat(so.redis, so.prefix, "host1-w1");
          return b && b.busy > 0 && b.at > trigger.seenAt + 100 ? b : undefined;
        },
        { intervalMs: 20, died: so.died, timeoutMs: 5_000 },
      );

      // 3. Cut host1's link. Once its heartbeat has expired in Redis nothing
      // more from host1 can arrive: what it delivered by then is all it did.
      const tCut = performance.now();
      await so.hosts.cutLink("host1");
      await until(
        "host1's heartbeat to expire in Redis",
        async () =>
          (await heartbeat(so.redis, so.prefix, "host1-w1")) === null
            ? true
            : undefined,
        { ...poll, intervalMs: 50, timeoutMs: 10_000 },
      );
      const atCut = await getJob(so.baseUrl, id);
      assert(
        !isFinal(atCut),
        `the job ended (${atCut.status}) before host1's link was cut`,
      );
      const host1Before = new Set(piecesByHost(atCut.pieces).host1);
      const doneAtCut = atCut.progress?.pieces_done ?? 0;

      // 4. host2 finishes the rest, host1's piece in hand included.
      const done = await until(
        "the job to end with host1 cut off",
        async () => {
          const j = await getJob(so.baseUrl, id);
          return isFinal(j) ? j : undefined;
        },
        { ...poll, timeoutMs: left() },
      );
      const afterCutMs = ms(tCut);
      const totalMs = ms(t0);
      // 5. The link returns: host1 rejoins (its heartbeat is back), so it
      // can also shut down cleanly.
      await so.hosts.restoreLink("host1");
      const tBack = performance.now();
      await until(
        "host1's heartbeat to return after the link is restored",
        async () =>
          (await heartbeat(so.redis, so.prefix, "host1-w1")) ? true : undefined,
        { ...poll, intervalMs: 50, timeoutMs: 30_000 },
      );
      const rejoinMs = ms(tBack);

      assertEquals(done.status, "completed", JSON.stringify(done.error));
      const progress = done.progress!;
      const pieces = done.pieces ?? [];
      const n = progress.pieces_total!;
      assert(
        n >= 2,
        `a ${rec.durationS.toFixed(0)} s recording in ${n} piece(s)`,
      );
      assertEquals(progress.pieces_done, n, "pieces_done === pieces_total");
      assertEquals(
        pieces.map((p) => p.index).sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i),
        "every piece index 0..n-1 exactly once",
      );
      const by = piecesByHost(pieces);
      assert(by.host1!.length >= 1, `no piece by host1: ${JSON.stringify(by)}`);
      assert(by.host2!.length >= 1, `no piece by host2: ${JSON.stringify(by)}`);
      for (const index of by.host1!) {
        assert(
          host1Before.has(index),
          `piece ${index} is credited to host1, which was cut off before ` +
            `delivering it (host1 had delivered ${[...host1Before]})`,
        );
      }
      const ordered = [...pieces].sort((a, b) => a.index - b.index);
      assert(n > doneAtCut, "pieces were left for host2 after the cut");
      // The piece host1 held at the cut was started again, by host2.
      const redone = ordered.filter((p) => p.attempts >= 2);
      assert(
        redone.length >= 1 &&
          redone.every((p) => hostOf(p.worker_id) === "host2"),
        `the piece host1 held at the cut should show attempts >= 2 and ` +
          `host2's worker: ${JSON.stringify(ordered)}`,
      );

      // The pieces lie in order over the recording and cover most of it.
      let covered = 0;
      for (const [i, p] of ordered.entries()) {
        assert(p.end_s > p.start_s, `piece ${p.index}: end after start`);
        if (i > 0) {
          assert(
            p.start_s >= ordered[i - 1]!.end_s - 0.01,
            `piece ${p.index} starts at ${p.start_s} s, before piece ` +
              `${p.index - 1} ends (${ordered[i - 1]!.end_s} s)`,
          );
        }
        covered += p.end_s - p.start_s;
      }
      assert(
        covered >= 0.9 * rec.durationS,
        `pieces cover ${covered.toFixed(1)} of ${rec.durationS.toFixed(1)} s`,
      );

      // The stitched transcript: accurate, and its timestamps in order.
      const wer = wordErrorRate([
        { reference: rec.text, hypothesis: done.transcript ?? "" },
      ]);
      assert(wer < 35, `word error rate ${wer.toFixed(1)} % (limit 35 %)`);
      const segs = done.segments;
      assert(segs.length >= n, `${segs.length} segments for ${n} pieces`);
      for (const [i, s] of segs.entries()) {
        assert(
          s.end >= s.start,
          `segment ${i}: end ${s.end} < start ${s.start}`,
        );
        if (i > 0) {
          const prev = segs[i - 1]!;
          assert(
            s.start >= prev.start && s.end >= prev.end,
            `segment ${i} (${s.start}–${s.end} s) goes back before segment ` +
              `${i - 1} (${prev.start}–${prev.end} s)`,
          );
        }
      }
      assert(
        segs.at(-1)!.end <= rec.durationS + 1,
        `last segment ends at ${segs.at(-1)!.end} s, after the recording`,
      );

      const scaleFigures = {
        recording_s: round(rec.durationS),
        espeak_ms: synthMs,
        layout_up_ms: Math.round(so.startMs),
        split_ms: splitMs,
        pieces: n,
        cut_at_ms: Math.round(tCut - t0),
        host1_busy_at_cut: busyBeat.busy,
        pieces_done_at_cut: doneAtCut,
        completed_after_cut_ms: afterCutMs,
        total_ms: totalMs,
        host1_rejoined_ms: rejoinMs,
        host1_pieces: by.host1,
        host2_pieces: by.host2,
        piece_attempts: ordered.map((p) => p.attempts),
        piece_processing_ms: ordered.map((p) => Math.round(p.processing_ms)),
        redone_pieces: redone.map((p) => p.index),
        wer_percent: round(wer),
      };
      console.log(`scale-out pieces: ${JSON.stringify(scaleFigures)}`);
      await writeReport({
        suite: "scaleout",
        summary:
          `${scaleFigures.recording_s} s recording, ${n} pieces: host1 took ${
            by.host1?.length ?? 0
          }, ` +
          `host2 ${
            by.host2?.length ?? 0
          }; host1's link cut mid-piece, piece(s) ${
            redone.map((p) => p.index).join(", ")
          } redone on host2, completed ${afterCutMs} ms after the cut, each piece once, WER ${
            round(wer)
          } %`,
        figures: scaleFigures,
      });
    });
  },
});
