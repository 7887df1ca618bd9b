/**
 * The report's metadata section: when the run ran and for how long, its
 * outcome and exit codes, its options, the machine and versions, the
 * processes' memory at the end — from `metadata.json` and `verdict.json` —
 * and any other field the metadata holds.
 */
import type { RunMetadata } from "../run_metadata.ts";
import { K6_EXIT } from "../run_options.ts";
import { esc, htmlTable } from "./_html.ts";
import type { ReportSection } from "./page.ts";
import type { RunVerdict } from "./verdict_file.ts";

const K6_EXIT_WORDS: Readonly<Record<number, string>> = {
  0: "ok",
  ...Object.fromEntries(
    Object.entries(K6_EXIT).map((
      [name, code],
    ) => [code, name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)]),
  ),
};

/** The fields of each group, in order; the rest are listed after them. */
const GROUPS: readonly { title: string; fields: readonly string[] }[] = [
  {
    title: "run",
    fields: [
      "started_at",
      "finished_at",
      "duration_seconds",
      "run_dir",
      "repeat_index",
      "repeat_of",
      "fresh_stack",
    ],
  },
  {
    title: "options",
    fields: [
      "api",
      "workload",
      "model",
      "workers",
      "worker_concurrency",
      "arrival_rate_per_second",
      "pre_allocated_vus",
      "max_vus",
      "poll_interval_s",
      "max_polls",
      "long_poll",
      "base_url",
      "fault_injection",
    ],
  },
  {
    title: "machine and versions",
    fields: [
      "cpu_model",
      "cpu_count",
      "k6_version",
      "deno_version",
      "git_commit",
      "git_dirty",
    ],
  },
];

function text(v: unknown): string {
  if (v === undefined) return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function table(rows: string[][]): string {
  return htmlTable(["field", "value"], rows, { cls: "meta" });
}

/** The metadata section of a run (`metadata` undefined: none archived). */
export function metadataSection(
  metadata: RunMetadata | undefined,
  verdict: RunVerdict | undefined,
): ReportSection {
  const id = "metadata";
  const title = "Run metadata";
  const outcome: string[][] = [];
  if (verdict) {
    outcome.push(
      ["verdict", verdict.verdict],
      ["reason", verdict.reason],
      ["deno task perf exit code", String(verdict.code)],
    );
  }
  if (metadata?.k6_exit_code !== undefined) {
    const code = metadata.k6_exit_code;
    outcome.push([
      "k6 exit code",
      `${code}${K6_EXIT_WORDS[code] ? ` (${K6_EXIT_WORDS[code]})` : ""}`,
    ]);
  }
  if (metadata?.interrupted !== undefined) {
    outcome.push(["interrupted", String(metadata.interrupted)]);
  }
  const html: string[] = [];
  if (outcome.length) html.push(`<h3>outcome</h3>`, table(outcome));
  if (!metadata) {
    html.push(`<p class="note">no metadata.json in this archive</p>`);
    return { id, title, html: html.join("\n") };
  }
  const record = metadata as Record<string, unknown>;
  const shown = new Set([
    "k6_exit_code",
    "interrupted",
    "memory_mib",
  ]);
  for (const g of GROUPS) {
    const rows = g.fields.filter((f) => record[f] !== undefined).map((f) => {
      shown.add(f);
      return [f, text(record[f])];
    });
    if (g.title === "run" && metadata.started_at && metadata.finished_at) {
      const wall = (Date.parse(metadata.finished_at) -
        Date.parse(metadata.started_at)) / 1000;
      if (Number.isFinite(wall)) {
        rows.splice(2, 0, ["wall time of the k6 run", `${wall.toFixed(1)} s`]);
      }
    }
    if (rows.length) html.push(`<h3>${esc(g.title)}</h3>`, table(rows));
  }
  const memory = record.memory_mib;
  if (memory && typeof memory === "object") {
    html.push(
      `<h3>memory when k6 finished</h3>`,
      htmlTable(
        ["process", "RSS (MiB)", "peak RSS since start (MiB)"],
        Object.entries(memory as Record<string, Record<string, unknown>>).map((
          [name, m],
        ) => [name, text(m.rss_mib), text(m.peak_mib)]),
        { numeric: [1, 2] },
      ),
    );
  }
  const rest = Object.keys(record).filter((k) => !shown.has(k)).sort();
  if (rest.length) {
    html.push(
      `<h3>other fields</h3>`,
      table(rest.map((k) => [k, text(record[k])])),
    );
  }
  return { id, title, html: html.join("\n") };
}
