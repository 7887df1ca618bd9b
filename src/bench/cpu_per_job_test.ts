import { assert } from "../testing/assert.ts";
import { startStack } from "../stack/mod.ts";
import { readBase64File } from "../audio/mod.ts";
import { SAMPLE_CLIP } from "./engine_throughput.ts";
import { serviceCpuPerJob } from "./cpu_per_job.ts";

Deno.test("serviceCpuPerJob reads each component's CPU per job from /proc over real jobs", async () => {
  const stack = await startStack({ workers: 1 });
  try {
    const wav = await readBase64File(SAMPLE_CLIP);
    const r = await serviceCpuPerJob(stack, wav, 10, 2);
    // A worker spends tens of ms of CPU per job (whisper itself), the API a
    // few, Redis about one; none is negative or absurd.
    assert(r.workers > 20 && r.workers < 2000, `workers ${r.workers}`);
    assert(r.api > 0 && r.api < 200, `api ${r.api}`);
    assert(r.redis >= 0 && r.redis < 100, `redis ${r.redis}`);
    // Whisper's share, by the engine's own clock through the heartbeats:
    // most of the worker's CPU, never more than all of it.
    assert(
      r.workersEngine > 10 && r.workersEngine < r.workers,
      `engine ${r.workersEngine} of ${r.workers} ms`,
    );
  } finally {
    await stack.stop();
    await Deno.remove(stack.logDir, { recursive: true }).catch(() => undefined);
  }
});
