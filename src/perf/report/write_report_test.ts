/**
 * The report page of real runs' archives (`testdata/`: a 20 s run of the
 * sample workload judged against the baseline — a regression on this busy
 * machine, with intervals, skipped keys and warnings — and a 30 s run of
 * the mixed workload with its four classes), built and then loaded in a
 * real headless chromium: every section there, the page's own marker saying
 * it rendered, no error, no console message, and a screenshot.
 *
 * Without chromium the browser tests are ignored, saying why — except in CI
 * (CI=true), where `deno task setup` installs it and a missing one fails.
 */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import { PROJECT_ROOT } from "../../config/mod.ts";
import { loadSummary } from "../summary.ts";
import { tableRows } from "./_testing.ts";
import { findChromium, renderCheck, runChromium } from "./chromium.ts";
import { DASHBOARD_FILE, REPORT_FILE } from "./load_report_data.ts";
import {
  SCREENSHOT_FILE,
  SCREENSHOT_WIDTH,
  writeReport,
} from "./write_report.ts";

const TESTDATA = join(PROJECT_ROOT, "src/perf/report/testdata");
const SECTIONS = [
  "verdict",
  "latency",
  "server",
  "service",
  "processes",
  "metadata",
];

const chromium = await findChromium();
const IN_CI = Deno.env.get("CI") === "true";
if (!chromium) {
  console.warn(
    `write_report_test: browser tests ${
      IN_CI ? "FAIL in CI" : "ignored"
    }: no chromium on PATH; deno task setup installs it (Debian's package, as root)`,
  );
}
/** Ignored without chromium, except in CI, where the test then fails. */
const browser = { ignore: !chromium && !IN_CI };

function requireChromium(): string {
  if (!chromium) throw new Error("write_report_test: no chromium on PATH");
  return chromium;
}

/** A copy of the fixture `name` in a temporary folder, removed after `body`. */
async function withRun(
  name: string,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "report-test-" });
  try {
    const dir = join(tmp, "2026-12-06T14-50-17Z");
    await Deno.mkdir(dir);
    for await (const e of Deno.readDir(join(TESTDATA, name))) {
      await Deno.copyFile(join(TESTDATA, name, e.name), join(dir, e.name));
    }
    await body(dir);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Width and height from a PNG's header. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  assertEquals(
    [...bytes.slice(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    "PNG signature",
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The rows of the table that follows `heading` in `html`. */
function tableAfter(html: string, heading: string): string[][] {
  const from = html.indexOf(heading);
  assert(from >= 0, `${heading} is on the page`);
  const table = html.slice(from, html.indexOf("</table>", from));
  return tableRows(table);
}

Deno.test("writeReport builds a self-contained page from a judged run's archive", async () => {
  await withRun("sample_run", async (dir) => {
    const r = await writeReport(dir);
    assertEquals(r, { path: join(dir, REPORT_FILE) });
    const html = await Deno.readTextFile(r.path);
    for (const id of SECTIONS) {
      assert(html.includes(`<section id="${id}">`), id);
    }
    assertMatch(html, /<span class="badge regression">REGRESSION<\/span>/);
    // The verdict table is the archived assert's, row for row.
    const verdict = JSON.parse(
      await Deno.readTextFile(join(dir, "verdict.json")),
    );
    const rows = tableAfter(html, 'class="verdict-table"').slice(1);
    assertEquals(
      rows.map((r) => [r[0], r.at(-1)]),
      verdict.assert.keys.map((
        k: { key: string; pass: boolean },
      ) => [k.key, k.pass ? "PASS" : "FAIL"]),
    );
    assertEquals(rows[0]!.slice(6, 8), [
      "+534.7% [+286.3%, +820.6%]",
      "6.347 [3.863, 9.206]",
    ]);
    assertMatch(html, /skipped 5 key\(s\) of the openai scenario/);
    assertMatch(html, /warning: the run's environment differs/);
    // Latency percentiles from the samples agree with k6's own summary.
    const summary = await loadSummary(join(dir, "summary.json"));
    const latency = summary.metrics.get("transcription_latency_seconds")!;
    assertEquals(tableAfter(html, "End-to-end latency</h2>")[1]!.slice(0, 4), [
      "all",
      String(summary.metrics.get("transcription_success_rate")!.values.passes),
      latency.values.med!.toFixed(2),
      latency.values["p(95)"]!.toFixed(2),
    ]);
    // Nothing from elsewhere; k6's dashboard linked only when it is there.
    assert(!/\ssrc=/.test(html), "no src attribute");
    assert(!/href="(https?:)?\/\//.test(html), "no remote link");
    assert(!html.includes(DASHBOARD_FILE), "no dashboard in the fixture");
    await Deno.writeTextFile(join(dir, DASHBOARD_FILE), "<html></html>");
    await writeReport(dir);
    assertMatch(
      await Deno.readTextFile(r.path),
      /<a href="k6-dashboard.html">k6's own dashboard/,
    );
    assert(html.length < 300_000, `${html.length} bytes`);
  });
});

Deno.test("writeReport shows a workload run's classes, colour by colour", async () => {
  await withRun("mixed_run", async (dir) => {
    const html = await Deno.readTextFile((await writeReport(dir)).path);
    const summary = await loadSummary(join(dir, "summary.json"));
    const rows = tableAfter(html, "End-to-end latency</h2>").slice(1);
    assertEquals(rows.map((r) => r[0]), ["1s", "15s", "2min", "8min"]);
    for (const r of rows) {
      const m = (name: string) =>
        summary.metrics.get(`${name}{class:${r[0]}}`)!;
      assertEquals(r[1], String(m("transcription_success_rate").values.passes));
      assertEquals(
        Number(r[3]),
        Number(
          m("transcription_latency_seconds").values["p(95)"]!.toPrecision(3),
        ),
        `${r[0]} p95`,
      );
    }
    // Each class has the same colour in every chart of the page.
    const colorOf = (cls: string) =>
      [
        ...html.matchAll(
          new RegExp(
            `stroke="(#[0-9a-f]{6})"[^>]*/><text[^>]*>${cls}</text>`,
            "g",
          ),
        ),
      ].map((m) => m[1]);
    for (const cls of ["1s", "8min"]) {
      const colors = colorOf(cls);
      assertEquals(colors.length, 3, `${cls}: three distributions`);
      assertEquals(new Set(colors).size, 1, `${cls}: ${colors}`);
    }
  });
});

Deno.test({
  name:
    "the report page renders in headless chromium with every section and no error",
  ...browser,
  fn: async (t) => {
    const chromium = requireChromium();
    for (const fixture of ["sample_run", "mixed_run"]) {
      await t.step(fixture, async () => {
        await withRun(fixture, async (dir) => {
          const r = await writeReport(dir, {
            screenshot: true,
            chromium,
            extraSections: [{
              id: "memory-growth",
              title: "Memory growth per process",
              html: "<p>api: +0.4 MiB/h</p>",
            }],
          });
          assert(r.screenshot && "check" in r.screenshot, "a screenshot");
          const { check, path } = r.screenshot;
          assertEquals(check.errors, []);
          assertEquals(check.rendered, "ok");
          const { dom, console } = await runChromium(
            r.path,
            { dumpDom: true, width: SCREENSHOT_WIDTH },
            { chromium },
          );
          assertEquals(console, [], "no console message");
          const ids = [...dom.matchAll(/<section id="([^"]+)">/g)].map((m) =>
            m[1]
          );
          assertEquals(ids, [
            ...SECTIONS.slice(0, -1),
            "memory-growth",
            "metadata",
          ]);
          const charts = (dom.match(/<svg class="chart"/g) ?? []).length;
          // 2 latency, 4 server, 3 service (storage included), 2 processes.
          assertEquals(charts, 11);
          assertMatch(
            dom,
            new RegExp(
              `<span id="report-rendered">rendered: 7 sections, ${charts} charts</span>`,
            ),
          );
          assertEquals(path, join(dir, SCREENSHOT_FILE));
          const size = pngSize(await Deno.readFile(path));
          assertEquals(size.width, SCREENSHOT_WIDTH);
          assertEquals(size.height, Math.ceil(check.height!));
          assert(size.height > 2000, `a whole page: ${size.height} px`);
        });
      });
    }
  },
});

Deno.test({
  name:
    "the report page's own check catches script errors, console errors and outside loads",
  ...browser,
  fn: async () => {
    const chromium = requireChromium();
    await withRun("sample_run", async (dir) => {
      const { path } = await writeReport(dir);
      const html = await Deno.readTextFile(path);
      await Deno.writeTextFile(
        path,
        html.replace(
          "</main>",
          `<script>console.error("broken on purpose"); notDefined();</script>` +
            `<img alt="" src="https://example.invalid/x.png"></main>`,
        ),
      );
      const { dom, console } = await runChromium(
        path,
        { dumpDom: true, width: SCREENSHOT_WIDTH },
        { chromium },
      );
      const check = renderCheck(dom);
      assertEquals(check.rendered, "error");
      assertEquals(check.errors.length, 3, check.errors.join("\n"));
      assertMatch(check.errors[0]!, /^console\.error: broken on purpose$/);
      assertMatch(check.errors[1]!, /^error: .*notDefined is not defined/);
      assertMatch(
        check.errors[2]!,
        /^blocked: https:\/\/example\.invalid\/x\.png \(img-src\)/,
      );
      assert(
        console.some((l) => l.includes("broken on purpose")),
        console.join("\n"),
      );
      assertMatch(dom, /rendered with 3 error\(s\)/);
    });
  },
});

Deno.test("deno task report rebuilds a run's page and refuses a folder that is not a run", async () => {
  const task = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(PROJECT_ROOT, "src/tasks/report.ts"), ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  await withRun("mixed_run", async (dir) => {
    const ok = await task([dir, "--no-screenshot"]);
    const err = new TextDecoder().decode(ok.stderr);
    assertEquals(ok.code, 0, err);
    assertMatch(err, /report: wrote .*report\.html/);
    assertMatch(await Deno.readTextFile(join(dir, REPORT_FILE)), /8min/);
    await Deno.remove(join(dir, "summary.json"));
    const bad = await task([dir]);
    assertEquals(bad.code, 2);
    assertMatch(
      new TextDecoder().decode(bad.stderr),
      /^report: .*summary\.json: not found, so .* is not a perf run folder/,
    );
  });
});
