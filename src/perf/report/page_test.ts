import { assert, assertMatch, assertThrows } from "../../testing/assert.ts";
import { renderPage } from "./page.ts";

const BASE = {
  title: "Perf run <x>",
  badge: { text: "PASS", cls: "pass" },
  headline: ["native · 3 jobs/s"],
  links: [{ href: "k6-dashboard.html", text: "k6's own dashboard" }],
  generatedAt: "2026-12-06T15:00:00Z",
};

Deno.test("renderPage lays out the sections in order behind a strict policy", () => {
  const html = renderPage({
    ...BASE,
    sections: [
      { id: "verdict", title: "Verdict", html: "<p>v</p>" },
      { id: "memory-growth", title: "Memory growth", html: "<p>m</p>" },
    ],
  });
  assertMatch(html, /^<!doctype html>/);
  assertMatch(html, /<title>Perf run &lt;x><\/title>/);
  assertMatch(
    html,
    /content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"/,
  );
  assert(
    html.indexOf('<section id="verdict">') <
      html.indexOf('<section id="memory-growth">'),
  );
  assertMatch(html, /<a href="#memory-growth">Memory growth<\/a>/);
  assertMatch(html, /<a href="k6-dashboard.html">k6's own dashboard<\/a>/);
  assertMatch(html, /<body data-rendered="no">/);
  // Nothing is loaded from anywhere: no src attribute, no remote link.
  assert(!/\ssrc=/.test(html), "no src attribute");
  assert(!/href="(https?:)?\/\//.test(html), "no remote link");
});

Deno.test("renderPage refuses a section id that is not an anchor or is used twice", () => {
  const e = assertThrows(() =>
    renderPage({ ...BASE, sections: [{ id: "Bad id", title: "x", html: "" }] })
  );
  assert(e instanceof RangeError);
  assertMatch(e.message, /"Bad id" must be lowercase letters, digits and -/);
  const twice = { id: "spike", title: "Spike", html: "" };
  const e2 = assertThrows(() =>
    renderPage({ ...BASE, sections: [twice, twice] })
  );
  assertMatch((e2 as Error).message, /"spike" is used twice/);
});
