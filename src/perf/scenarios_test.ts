import { assert, assertEquals } from "../testing/assert.ts";
import { loadSummary } from "./summary.ts";
import { loadRunMetadata } from "./run_metadata.ts";
import { apiOfRun, APIS, OPENAI_METRICS, SCENARIOS } from "./scenarios.ts";
import { TESTDATA } from "./_testing.ts";

const run = (name: string) =>
  new URL(`runs/${name}/summary.json`, TESTDATA).pathname;

Deno.test("apiOfRun: the metadata's api, else the summary's metrics", async (t) => {
  const openai = await loadSummary(run("openai_pass"));
  const native = await loadSummary(run("legacy_pass"));
  await t.step("recorded in metadata.json", async () => {
    const meta = (await loadRunMetadata(run("openai_pass")))!.metadata;
    assertEquals(meta.api, "openai");
    assertEquals(apiOfRun(openai, meta), {
      api: "openai",
      from: "metadata.json (api)",
    });
    // The metadata wins: it says what the orchestrator ran.
    assertEquals(apiOfRun(native, { api: "openai" }).api, "openai");
  });
  await t.step("inferred from the summary", async () => {
    assertEquals(apiOfRun(openai), {
      api: "openai",
      from: "the summary's metrics",
    });
    // An archive from before --api existed is native.
    const meta = (await loadRunMetadata(run("legacy_pass")))!.metadata;
    assertEquals(meta.api, undefined);
    assertEquals(apiOfRun(native, meta), {
      api: "native",
      from: "the summary's metrics",
    });
  });
});

Deno.test("each scenario's script exists and its figures name metrics its runs record", async () => {
  const summaries = {
    native: await loadSummary(run("legacy_pass")),
    openai: await loadSummary(run("openai_pass")),
  };
  for (const api of APIS) {
    const s = SCENARIOS[api];
    assertEquals(s.api, api);
    assert((await Deno.stat(s.script)).isFile, s.script);
    const text = await Deno.readTextFile(s.script);
    assert(text.includes(`${s.k6Scenario}:`), `${s.k6Scenario} in ${s.script}`);
    for (const f of s.figures) {
      if (f.metric === "dropped_iterations") continue; // absent when 0
      const v = summaries[api].metrics.get(f.metric)?.values[f.stat];
      assert(v !== undefined, `${api}: ${f.metric} ${f.stat}`);
    }
    assert(summaries[api].metrics.has(s.success), s.success);
    assert(summaries[api].metrics.has(s.latency.metric), s.latency.metric);
  }
  // The openai scenario defines every metric the toolkit reads.
  const script = await Deno.readTextFile(SCENARIOS.openai.script);
  for (const m of Object.values(OPENAI_METRICS)) {
    assert(script.includes(`"${m}"`), `${m} in openai_scenario.js`);
    assert(summaries.openai.metrics.has(m), `${m} in the openai summary`);
  }
});
