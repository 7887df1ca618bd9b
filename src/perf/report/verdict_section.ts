/**
 * The report's verdict section: the run's verdict and why, then the
 * assert's table against the baseline (key, baseline, allowed, actual,
 * margin, change with its interval, pass/fail), failed k6 thresholds,
 * skipped keys and warnings — or "not judged".
 */
import {
  allowedText,
  formatMargin,
  formatValue,
  intervalText,
  skippedText,
} from "../baseline/mod.ts";
import { scenarioLabel } from "../scenarios.ts";
import { esc, htmlTable } from "./_html.ts";
import type { ReportSection } from "./page.ts";
import type { RunVerdict } from "./verdict_file.ts";

/** The words of each verdict on the page. */
export const VERDICT_LABELS: Readonly<Record<RunVerdict["verdict"], string>> = {
  pass: "PASS",
  regression: "REGRESSION",
  "not judged": "not judged",
  failed: "FAILED",
};

/** The verdict section of a run with `verdict` (undefined: none archived). */
export function verdictSection(verdict: RunVerdict | undefined): ReportSection {
  const html: string[] = [];
  if (!verdict) {
    html.push(
      `<p class="verdict not-judged">not judged: this archive has no verdict (<code>verdict.json</code>)</p>`,
    );
    return { id: "verdict", title: "Verdict", html: html.join("\n") };
  }
  html.push(
    `<p class="verdict ${verdict.verdict.replace(" ", "-")}"><strong>${
      esc(VERDICT_LABELS[verdict.verdict])
    }</strong>: ${esc(verdict.reason)} (exit ${verdict.code})</p>`,
  );
  const a = verdict.assert;
  if (!a) {
    html.push(
      `<p>not judged against a baseline${
        verdict.verdict === "not judged" ? " (--no-assert)" : ""
      }.</p>`,
    );
    return { id: "verdict", title: "Verdict", html: html.join("\n") };
  }
  html.push(
    `<p>Judged against <code>${
      esc(verdict.baseline ?? "the baseline")
    }</code> as the ${
      esc(scenarioLabel(a.scenario.api, a.scenario.workload))
    } scenario (from ${
      esc(a.scenario.from)
    }). A ratio key with an interval is judged by its bootstrap interval of run ÷ baseline: it fails only when the interval lies beyond the tolerance.</p>`,
  );
  const confidence = a.keys.find((k) => k.interval)?.interval?.confidence;
  html.push(htmlTable(
    [
      "key",
      "metric",
      "baseline",
      "allowed",
      "actual",
      "margin",
      `change [${
        confidence ? `${Math.round(confidence * 100)} % ` : ""
      }interval]`,
      "ratio [lo, hi]",
      "result",
    ],
    a.keys.map((k) => [
      k.key,
      `${k.definition.metric} ${k.definition.stat}`,
      formatValue(k.baseline, k.definition.unit),
      allowedText(k),
      formatValue(k.actual, k.definition.unit),
      formatMargin(k),
      intervalText(k),
      k.interval
        ? `${k.interval.ratio.toFixed(3)} [${k.interval.lo.toFixed(3)}, ${
          k.interval.hi.toFixed(3)
        }]`
        : "—",
      k.pass ? "PASS" : "FAIL",
    ]),
    {
      cls: "verdict-table",
      rowClass: (i) => a.keys[i]!.pass ? "pass" : "fail",
      numeric: [2, 4, 5, 7],
    },
  ));
  if (a.thresholdsFailed.length) {
    html.push(
      `<p>k6 thresholds failed${
        a.thresholdsCovered && a.verdict === "pass"
          ? " (on point values; the keys above judge them)"
          : ""
      }:</p><ul class="thresholds">${
        a.thresholdsFailed.map((t) => `<li><code>${esc(t)}</code></li>`).join(
          "",
        )
      }</ul>`,
    );
  }
  const skipped = skippedText(a);
  html.push(
    skipped
      ? `<p class="skipped">${esc(skipped).replaceAll("\n", "<br>")}</p>`
      : `<p class="skipped">no keys skipped</p>`,
  );
  if (a.warnings.length) {
    html.push(
      `<ul class="warnings">${
        a.warnings.map((w) => `<li>warning: ${esc(w)}</li>`).join("")
      }</ul>`,
    );
  }
  return { id: "verdict", title: "Verdict", html: html.join("\n") };
}
