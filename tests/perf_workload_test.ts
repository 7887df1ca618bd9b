/**
 * `deno task perf --workload` as users run it: a real stack, real k6, the
 * real model, a short mix (src/perf/workload/testdata/short.json: 1 s
 * samples and 6 s clips, 2:1), judged against a baseline with a key of its
 * own workload.
 */
import { assert, assertEquals, assertMatch } from "../src/testing/assert.ts";
import { join } from "node:path";
import { finish, startPerf, tagged } from "./_perf_process.ts";
import { decodeBase64 } from "../src/audio/mod.ts";

const SPEC = new URL(
  "../src/perf/workload/testdata/short.json",
  import.meta.url,
).pathname;

Deno.test("perf --workload runs a mix, exports every class's metrics and judges the workload's own keys", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wl-test-" });
  const repo = JSON.parse(
    await Deno.readTextFile(new URL("../baseline.json", import.meta.url)),
  );
  // The repository's baseline plus two keys of this workload; everything
  // else belongs to other scenarios or workloads and must be skipped.
  const baselinePath = join(tmp, "baseline.json");
  await Deno.writeTextFile(
    baselinePath,
    JSON.stringify({
      ...repo,
      metrics: {
        ...repo.metrics,
        short_6s_latency_seconds_p95: 1.1,
        short_success_rate: 1,
      },
      tolerances: {
        ...repo.tolerances,
        short_6s_latency_seconds_p95: 5,
        short_success_rate: 0.99,
      },
      definitions: {
        ...repo.definitions,
        short_6s_latency_seconds_p95: {
          metric: "transcription_latency_seconds{class:6s}",
          stat: "p(95)",
          unit: "s",
          direction: "lower_is_better",
          kind: "ratio",
          workload: "spec:short",
        },
        short_success_rate: {
          metric: "transcription_success_rate",
          stat: "rate",
          unit: "ratio",
          direction: "higher_is_better",
          kind: "floor",
          workload: "spec:short",
        },
      },
    }),
  );
  const run = startPerf([
    "--workload",
    SPEC,
    "--duration",
    "15s",
    "--rate",
    "2",
    "--baseline",
    baselinePath,
  ]);
  try {
    const code = await finish(run);
    const err = run.stderr();
    assertEquals(code, 0, err.slice(-3000));
    assertEquals(tagged(run.tag), [], "no process left behind");
    const runDir = [...Deno.readDirSync(run.resultsDir)].find((e) =>
      e.isDirectory
    )!.name;
    const dir = join(run.resultsDir, runDir);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dir, "workload/workload.json")),
    );
    assertEquals(manifest.id, "spec:short");
    assertEquals(manifest.classes.map((c: { name: string }) => c.name), [
      "1s",
      "6s",
    ]);
    const six = manifest.classes[1];
    assert(six.duration_s >= 6 && six.duration_s < 9, `6s: ${six.duration_s}`);
    assert(six.text.split(" ").length > 10, six.text);

    const meta = JSON.parse(
      await Deno.readTextFile(join(dir, "metadata.json")),
    );
    assertEquals(meta.workload, "spec:short");
    const m = JSON.parse(
      await Deno.readTextFile(join(dir, "summary.json")),
    ).metrics;
    const n = m.iterations.count;
    assert(n >= 28 && n <= 32, `iterations ${n}`);
    // Iteration i runs class [1s, 6s, 1s][i % 3].
    const count = (c: string) =>
      m[`transcription_success_rate{class:${c}}`].passes +
      m[`transcription_success_rate{class:${c}}`].fails;
    assertEquals(count("6s"), Math.floor((n + 1) / 3));
    assertEquals(count("1s"), n - Math.floor((n + 1) / 3));
    for (const c of ["1s", "6s"]) {
      assertEquals(m[`transcription_success_rate{class:${c}}`].value, 1, c);
      assertEquals(m[`transcription_accuracy{class:${c}}`].value, 1, c);
      const latency = m[`transcription_latency_seconds{class:${c}}`];
      assert(latency.min > 0 && latency["p(95)"] < 10, `${c} latency`);
      assert(
        m[`transcription_word_error_rate{class:${c}}`].max <= 0.3,
        `${c} WER`,
      );
    }
    // The 6 s clips take several times the sample's processing.
    const processing = (c: string) => m[`server_processing_ms{class:${c}}`].med;
    assert(
      processing("6s") > 2 * processing("1s"),
      `processing 6s ${processing("6s")} ms vs 1s ${processing("1s")} ms`,
    );
    // Judged on its workload's two keys; the others are skipped, by name.
    const verdict = run.stdout() + err;
    assertMatch(verdict, /short_6s_latency_seconds_p95 .*PASS/);
    assertMatch(verdict, /short_success_rate .*PASS/);
    assertMatch(
      verdict,
      /skipped 7 key\(s\) of the native scenario \(this run is native, workload spec:short/,
    );
    assertMatch(err, /perf: per class: .*\n {2}(1s|6s) /);
  } finally {
    await Deno.remove(run.resultsDir, { recursive: true });
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("perf --workload refuses a bad value, a folder without audio and a workload without keys with exit 2", async (t) => {
  await t.step("a bad value names --workload", async () => {
    const run = startPerf(["--workload", "mixd"]);
    assertEquals(await finish(run), 2);
    assertMatch(run.stderr(), /--workload: must be sample, mixed/);
    assertEquals(tagged(run.tag), []);
    await Deno.remove(run.resultsDir, { recursive: true });
  });
  await t.step(
    "a workload the baseline has no keys for, before anything starts",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "wl-calls-" });
      const b64 = await Deno.readTextFile(
        new URL("../assets/corpus/01.wav.b64", import.meta.url),
      );
      await Deno.writeFile(join(dir, "a.wav"), decodeBase64(b64));
      const run = startPerf(["--workload", dir]);
      assertEquals(await finish(run), 2);
      assertMatch(
        run.stderr(),
        /has no keys for the dir:wl-calls-\w+ workload, so its run can't be judged; run it with --no-assert/,
      );
      assert(!/starting redis-server/.test(run.stderr()), "nothing started");
      assertEquals(tagged(run.tag), []);
      await Deno.remove(run.resultsDir, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    },
  );
  await t.step("a folder without audio is named", async () => {
    const empty = await Deno.makeTempDir({ prefix: "wl-empty-" });
    const run = startPerf(["--workload", empty]);
    assertEquals(await finish(run), 2);
    assertMatch(run.stderr(), new RegExp(`the folder ${empty} has no audio`));
    await Deno.remove(run.resultsDir, { recursive: true });
    await Deno.remove(empty, { recursive: true });
  });
});
