/**
 * The GitHub workflows users copy: they parse, use the pinned tools, and call
 * only tasks that exist in deno.json.
 */
import { parse } from "yaml";
import { assert, assertEquals } from "../src/testing/assert.ts";
import { K6_VERSION } from "../src/setup/mod.ts";

const root = new URL("../", import.meta.url);
const tasks = Object.keys(
  JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks,
);

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

async function workflow(name: string) {
  const doc = parse(
    await Deno.readTextFile(new URL(`.github/workflows/${name}`, root)),
  );
  const steps: Step[] = Object.values(
    doc.jobs as Record<string, { steps: Step[] }>,
  )
    .flatMap((j) => j.steps);
  return { doc, steps };
}

function calledTasks(steps: Step[]): string[] {
  return steps.flatMap((s) =>
    [...(s.run ?? "").matchAll(/deno task ([\w:-]+)/g)].map((m) => m[1]!)
  );
}

Deno.test("workflows call only existing deno tasks", async (t) => {
  for (const name of ["ci.yml", "nightly-perf.yml", "perf-ab.yml"]) {
    await t.step(name, async () => {
      const { steps } = await workflow(name);
      const called = calledTasks(steps);
      assert(called.length > 0, `${name} runs no deno task`);
      for (const task of called) {
        assert(tasks.includes(task), `${name} calls missing task ${task}`);
      }
      const deno = steps.find((s) =>
        s.uses?.startsWith("denoland/setup-deno@")
      );
      assertEquals(deno?.with?.["deno-version"], `v${Deno.version.deno}`);
    });
  }
});

Deno.test("pull-request workflow runs deno task ok", async () => {
  const { doc, steps } = await workflow("ci.yml");
  assert("pull_request" in doc.on);
  assert(calledTasks(steps).includes("ok"));
});

Deno.test("nightly workflow: schedule, dispatch, k6 pinned, perf, artifact", async () => {
  const { doc, steps } = await workflow("nightly-perf.yml");
  assert(Array.isArray(doc.on.schedule) && doc.on.schedule[0].cron);
  assert("workflow_dispatch" in doc.on);
  const k6 = steps.find((s) => s.uses?.startsWith("grafana/setup-k6-action@"));
  assertEquals(k6?.with?.["k6-version"], K6_VERSION);
  assert(calledTasks(steps).includes("perf"));
  const upload = steps.find((s) =>
    s.uses?.startsWith("actions/upload-artifact@")
  );
  assertEquals(upload?.with?.path, "perf/results");
  const cache = steps.find((s) => s.uses?.startsWith("actions/cache@"));
  assert(String(cache?.with?.path).includes(".cache/models"));
});

Deno.test("A/B workflow: checks out the base beside the head, sets up both, runs perf:ab on it", async () => {
  const { doc, steps } = await workflow("perf-ab.yml");
  assert("pull_request" in doc.on && "workflow_dispatch" in doc.on);
  const checkouts = steps.filter((s) =>
    s.uses?.startsWith("actions/checkout@")
  );
  assertEquals(checkouts.length, 2);
  const base = String(checkouts[1]!.with?.path);
  assert(calledTasks(steps).includes("perf:ab"));
  const ab = steps.find((s) => s.run?.includes("deno task perf:ab"))!;
  assert(ab.run!.includes(`perf:ab ${base}`), ab.run);
  const setup = steps.find((s) => s.run?.includes(`cd ${base}`));
  assert(setup?.run?.includes("deno task setup"), "the base build is set up");
  // The base checkout is ignored by git and by deno's tools.
  const ignored = await Deno.readTextFile(new URL(".gitignore", root));
  assert(ignored.split("\n").includes(`${base}/`));
});
