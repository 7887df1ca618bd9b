/**
 * Model integrity: a worker whose model file is corrupt, truncated, has a
 * wrong checksum, or is a header-only stub never hands it to the engine. It
 * stays up, reports `ready: false` with the reason in its heartbeat, and
 * `/health/ready` answers 503 naming it. The files are broken copies of the
 * installed tiny.en in a temporary WHISPER_MODELS_DIR.
 */
import { assert, assertEquals, assertMatch } from "../src/testing/assert.ts";
import { join } from "node:path";
import { modelsDir } from "../src/config/mod.ts";
import { liveWorkers } from "../src/queue/mod.ts";
import { sha1File } from "../src/models/mod.ts";
import { startStack } from "../src/stack/mod.ts";
import { alive } from "./_client.ts";
import {
  pollFor,
  RedisView,
  removeLogs,
  round,
  timedFetch,
  writeReport,
} from "./chaos_helpers.ts";

const FILE = "ggml-tiny.en.bin";

interface Variant {
  name: string;
  /** Breaks the copy in `dir` (model file and sidecar already copied). */
  breakIt: (model: string, sidecar: string) => Promise<void>;
  /** What the reason must say. */
  reason: RegExp;
}

const VARIANTS: Variant[] = [
  {
    name: "corrupt",
    breakIt: async (model) => {
      // Same size, 4 KiB of garbage in the middle of the weights.
      const f = await Deno.open(model, { write: true });
      const size = (await f.stat()).size;
      await f.seek(Math.floor(size / 2), Deno.SeekMode.Start);
      await f.write(crypto.getRandomValues(new Uint8Array(4096)));
      f.close();
    },
    reason: /sha-?1|checksum/i,
  },
  {
    name: "truncated",
    breakIt: async (model) => {
      const f = await Deno.open(model, { write: true });
      await f.truncate(Math.floor((await f.stat()).size * 0.6));
      f.close();
    },
    reason: /size|bytes|truncat/i,
  },
  {
    name: "wrong checksum",
    breakIt: async (_model, sidecar) => {
      const s = JSON.parse(await Deno.readTextFile(sidecar));
      s.sha1 = "0".repeat(40);
      await Deno.writeTextFile(sidecar, JSON.stringify(s));
    },
    reason: /sha-?1|checksum/i,
  },
  {
    name: "header-only stub with a matching sidecar",
    breakIt: async (model, sidecar) => {
      // The file that used to crash the native loader: a valid header and
      // nothing else, its sidecar made consistent with it.
      const f = await Deno.open(model, { write: true });
      await f.truncate(64 * 1024);
      f.close();
      const s = JSON.parse(await Deno.readTextFile(sidecar));
      s.sizeBytes = 64 * 1024;
      s.sha1 = await sha1File(model);
      await Deno.writeTextFile(sidecar, JSON.stringify(s));
    },
    reason: /./,
  },
];

Deno.test("chaos model: a broken model file never reaches the engine; the worker reports not ready", async (t) => {
  const figures: Record<string, unknown> = {};
  let failure: unknown;
  const source = join(modelsDir(), FILE);
  try {
    for (const v of VARIANTS) {
      await t.step(v.name, async () => {
        const dir = await Deno.makeTempDir({ prefix: "wt-models-" });
        const model = join(dir, FILE);
        const sidecar = `${model}.json`;
        await Deno.copyFile(source, model);
        await Deno.copyFile(`${source}.json`, sidecar);
        await v.breakIt(model, sidecar);
        const t0 = performance.now();
        const stack = await startStack({
          workers: 1,
          requireReadyWorkers: false,
          workerEnv: { WHISPER_MODELS_DIR: dir, WORKER_MODELS: "tiny.en" },
          timeoutMs: 60_000,
        });
        const view = await RedisView.open(stack.redisUrl);
        try {
          const worker = stack.processes().find((p) => p.name === "worker-1")!;
          const beat = await pollFor("the worker's heartbeat", async () => {
            const [b] = await liveWorkers(view.redis, "wt");
            return b;
          }, 10_000);
          const reportedMs = performance.now() - t0;
          assertEquals(beat.ready, false);
          assertMatch(beat.reason ?? "", /no model could be loaded/);
          assertMatch(beat.reason ?? "", v.reason);
          assertEquals(beat.models, []);

          const ready = await timedFetch(`${stack.baseUrl}/health/ready`);
          assertEquals(ready.status, 503);
          assertEquals(ready.body.checks.workers.ok, false);
          assertMatch(ready.body.checks.workers.detail, /not ready: no model/);
          assertMatch(ready.body.checks.workers.detail, v.reason);

          // Up, not crashed, and the engine never loaded the file.
          assert(alive(worker.pid), "the worker is still running");
          assertEquals(stack.restarts(), 0);
          const log = await Deno.readTextFile(worker.logPath);
          assert(!log.includes('"msg":"model loaded"'), log);
          assertMatch(log, /model not loaded/);
          assertMatch(log, /ModelIntegrityError/);
          figures[v.name] = {
            reason: beat.reason,
            reported_not_ready_ms: round(reportedMs),
            health_ready_status: ready.status,
            worker_alive: true,
          };
        } finally {
          view.close();
          await stack.stop();
          await Deno.remove(dir, { recursive: true });
          await removeLogs(stack, failure);
        }
      });
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await writeReport({
      suite: "chaos_model",
      summary: `${
        Object.keys(figures).length
      }/${VARIANTS.length} broken model files (${
        VARIANTS.map((v) => v.name).join(", ")
      }) rejected before the engine: worker up with ready:false and the reason, /health/ready 503`,
      figures,
    }, failure);
  }
});
