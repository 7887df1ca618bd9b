/**
 * The section of a smoke, soak or spike run's own verdict (`profile.json`):
 * each check with its figure and limit, the figures it was judged on, and
 * its notes.
 */
import type { ProfileVerdict } from "../profiles/mod.ts";
import { esc, htmlTable } from "./_html.ts";
import type { ReportSection } from "./page.ts";

function figure(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "—";
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

/** The profile's section, or none for a run without a profile verdict. */
export function profileSection(
  v: ProfileVerdict | undefined,
): ReportSection[] {
  if (!v) return [];
  const checks = htmlTable(
    ["check", "result", "measured"],
    v.checks.map((c) => [c.name, c.pass ? "PASS" : "FAIL", c.detail]),
    { cls: "verdict", rowClass: (i) => (v.checks[i]!.pass ? "pass" : "fail") },
  );
  const figures = htmlTable(
    ["figure", "value"],
    Object.entries(v.figures).map(([k, x]) => [k, figure(x)]),
    { numeric: [1] },
  );
  const notes = v.notes.length
    ? `<ul>${v.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`
    : "";
  return [{
    id: "profile",
    title: `The ${v.profile} test: ${v.pass ? "PASS" : "FAIL"}`,
    html: `${checks}${notes}${figures}`,
  }];
}
