import { assert, assertEquals } from "../../testing/assert.ts";
import { clockTicks } from "../proc_cpu.ts";
import { loadTimeline, TIMELINE_FILE, TimelineSampler } from "./sampler.ts";

Deno.test("TimelineSampler records processes and /metrics; loadTimeline reads it back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "timeline-" });
  let scrapes = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => {
      scrapes++;
      return new Response(
        `whisper_jobs{status="completed"} ${scrapes}\nwhisper_jobs{status="queued"} 2\n`,
      );
    },
  );
  try {
    const sampler = new TimelineSampler({
      runDir: dir,
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      targets: () => [{ name: "me", pid: Deno.pid }, {
        name: "gone",
        pid: 2 ** 22 + 7, // above pid_max: never a live process
      }],
      ticksPerSecond: await clockTicks(),
      intervalMs: 50,
    });
    await sampler.start();
    // Spin in slices so our own CPU time grows while the timer still fires,
    // until four samples are written; bounded by time.
    const until = performance.now() + 5000;
    let x = 0;
    while (performance.now() < until) {
      const slice = performance.now() + 20;
      while (performance.now() < slice) x += Math.sqrt(x + 1);
      await new Promise((r) => setTimeout(r, 0));
      if ((await loadTimeline(dir)).length >= 4) break;
    }
    assert(x > 0);
    const n = await sampler.stop();
    assertEquals(await sampler.stop(), n, "stop twice is harmless");
    const samples = await loadTimeline(dir);
    assertEquals(samples.length, n);
    assert(n >= 3, `only ${n} samples`);
    const first = samples[0]!;
    const last = samples.at(-1)!;
    assert(last.t > first.t);
    assertEquals(Object.keys(last.processes), ["me"]);
    assert(last.processes.me!.rss_mib > 1);
    assert(last.processes.me!.cpu_s > first.processes.me!.cpu_s);
    assertEquals(first.service?.queued, 2);
    assert(last.service!.completed > first.service!.completed);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTimeline: no file is no samples; a torn last line is skipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "timeline-" });
  try {
    assertEquals(await loadTimeline(dir), []);
    await Deno.writeTextFile(
      `${dir}/${TIMELINE_FILE}`,
      '{"t":0,"processes":{"api":{"cpu_s":1,"rss_mib":50}}}\n{"t":1,"proc',
    );
    const s = await loadTimeline(dir);
    assertEquals(s.length, 1);
    assertEquals(s[0]!.processes.api!.rss_mib, 50);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
