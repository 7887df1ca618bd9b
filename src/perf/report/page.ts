/**
 * The report's page: one self-contained HTML document (inline CSS, inline
 * SVG, one inline script; a Content-Security-Policy that refuses anything
 * else) with a header, a table of contents and the sections in order. Its
 * script writes any error, console error or blocked load into the page and
 * marks the page rendered (`<body data-rendered="ok">`, with its height in
 * `data-height`) once every chart has been laid out, so a headless browser
 * can check it.
 */
import { esc } from "./_html.ts";

/** A section of the page; `html` is inserted as it is. */
export interface ReportSection {
  /** The section's anchor: lowercase letters, digits and `-`, unique. */
  id: string;
  title: string;
  html: string;
}

/** What {@linkcode renderPage} lays out. */
export interface PageInput {
  /** The document's title and the page's heading. */
  title: string;
  /** The verdict shown beside the heading. */
  badge: { text: string; cls: string };
  /** Lines under the heading (plain text). */
  headline: readonly string[];
  /** Links to files beside the page, e.g. k6's dashboard. */
  links: readonly { href: string; text: string }[];
  sections: readonly ReportSection[];
  /** When the page was made (ISO). */
  generatedAt: string;
}

const SECTION_ID = /^[a-z][a-z0-9-]*$/;

const CSS = `
:root{color-scheme:light}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#f6f6f4}
header,main,footer{max-width:1220px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:22px;margin:0 0 6px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
h2{font-size:18px;margin:0 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:14px 0 6px}
.badge{font-size:13px;padding:2px 10px;border-radius:10px;color:#fff;background:#777}
.badge.pass{background:#228833}.badge.regression,.badge.failed{background:#cc3311}.badge.not-judged{background:#777}
.headline{margin:0;color:#444}
nav{margin:10px 0 6px}nav a{margin-right:14px;white-space:nowrap}
a{color:#2a5d9f}
section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:14px 18px;margin:14px 0;overflow-x:auto}
.charts{display:flex;flex-wrap:wrap;gap:12px 20px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.pass td:last-child{color:#117733;font-weight:600}tr.fail td{background:#fdecea}tr.fail td:last-child{color:#cc3311;font-weight:700}
.verdict{font-size:15px}.verdict.pass strong{color:#117733}.verdict.regression strong,.verdict.failed strong{color:#cc3311}
.warnings li{color:#8a5a00}.skipped,.note{color:#555}
code{font-size:12px;background:#f2f2f2;padding:0 3px;border-radius:3px}
#report-errors{color:#cc3311}
footer{color:#777;font-size:12px;padding-bottom:24px}
svg.chart{background:#fff}
svg .chart-title{font:600 13px system-ui,sans-serif;fill:#222}
svg .legend{font:11px system-ui,sans-serif;fill:#333}
svg .tick{font:10px system-ui,sans-serif;fill:#555}
svg .axis-label{font:11px system-ui,sans-serif;fill:#333}
svg .grid{stroke:#ececec;stroke-width:1}
svg .frame{fill:none;stroke:#bbb}
svg .no-data{font:13px system-ui,sans-serif;fill:#999}
`;

// Runs before anything else on the page: collects errors, console errors
// and anything the policy blocked, then, once the page has loaded, checks
// that every chart has a size and sets the marker.
const SCRIPT = `
(function () {
  var seen = [];
  function note(text) {
    seen.push(text);
    var list = document.getElementById("report-errors");
    if (list) flush(list);
  }
  function flush(list) {
    while (list.children.length < seen.length) {
      var li = document.createElement("li");
      li.textContent = seen[list.children.length];
      list.appendChild(li);
    }
    list.hidden = seen.length === 0;
  }
  window.addEventListener("error", function (e) {
    note("error: " + e.message + " (line " + e.lineno + ")");
  });
  document.addEventListener("securitypolicyviolation", function (e) {
    note("blocked: " + e.blockedURI + " (" + e.violatedDirective + ")");
  });
  var consoleError = console.error;
  console.error = function () {
    note("console.error: " + Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    var charts = document.querySelectorAll("svg.chart");
    var flat = 0;
    for (var i = 0; i < charts.length; i++) {
      var box = charts[i].getBoundingClientRect();
      if (!(box.width > 0 && box.height > 0)) flat++;
    }
    if (flat) note(flat + " chart(s) have no size");
    var list = document.getElementById("report-errors");
    flush(list);
    var ok = seen.length === 0;
    document.body.setAttribute(
      "data-height",
      String(document.documentElement.scrollHeight),
    );
    document.body.setAttribute("data-rendered", ok ? "ok" : "error");
    document.getElementById("report-rendered").textContent = ok
      ? "rendered: " + document.querySelectorAll("main > section").length +
        " sections, " + charts.length + " charts"
      : "rendered with " + seen.length + " error(s)";
  });
})();
`;

/**
 * Lays out the page.
 * @throws {RangeError} for a section id that is not lowercase letters,
 * digits and `-`, or is used twice.
 */
export function renderPage(p: PageInput): string {
  const ids = new Set<string>();
  for (const s of p.sections) {
    if (!SECTION_ID.test(s.id)) {
      throw new RangeError(
        `report section id "${s.id}" must be lowercase letters, digits and -`,
      );
    }
    if (ids.has(s.id)) {
      throw new RangeError(`report section id "${s.id}" is used twice`);
    }
    ids.add(s.id);
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)}</title>
<style>${CSS}</style>
<script>${SCRIPT}</script>
</head>
<body data-rendered="no">
<header>
<h1>${esc(p.title)} <span class="badge ${esc(p.badge.cls)}">${
    esc(p.badge.text)
  }</span></h1>
${p.headline.map((l) => `<p class="headline">${esc(l)}</p>`).join("\n")}
<nav>${
    p.sections.map((s) => `<a href="#${s.id}">${esc(s.title)}</a>`).join("")
  }${
    p.links.map((l) => `<a href="${esc(l.href)}">${esc(l.text)}</a>`).join("")
  }</nav>
<ul id="report-errors" hidden></ul>
</header>
<main>
${
    p.sections.map((s) =>
      `<section id="${s.id}">\n<h2>${esc(s.title)}</h2>\n${s.html}\n</section>`
    ).join("\n")
  }
</main>
<footer><p>Made ${
    esc(p.generatedAt)
  } by the perf toolkit (<code>deno task report RUN_DIR</code> makes it again). <span id="report-rendered">not rendered: the page's script did not run</span></p></footer>
</body>
</html>
`;
}
