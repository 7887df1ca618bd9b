/**
 * `deno task docs:reliability`: rewrites docs/reliability.md's table from
 * the figures the suites wrote to `tests/reports/*.json`, so the docs
 * quotes what the suites measured, not what someone typed.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../config/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { runCli } from "../cli/mod.ts";

const START = "<!-- reliability:start -->";
const END = "<!-- reliability:end -->";

// deno-lint-ignore no-explicit-any
type Report = any;

async function report(name: string): Promise<Report | null> {
  try {
    return JSON.parse(
      await Deno.readTextFile(
        join(PROJECT_ROOT, "tests/reports", `${name}.json`),
      ),
    );
  } catch {
    return null;
  }
}

/** The markdown of the section, from the reports that exist. */
export async function reliabilitySection(): Promise<string> {
  const rows: [string, string, string][] = [];
  const bad = await report("bad_input");
  if (bad) {
    const statuses = Object.entries(bad.statuses as Record<string, number>)
      .map(([s, n]) => `${s}: ${n}`).join(", ");
    rows.push([
      "Bad input",
      "tests/bad_input_test.ts",
      `${bad.requests} malformed requests (${bad.corpus_cases} generated cases + fast-check properties, seed ${bad.fc_seed}): ` +
      `${bad.server_errors} 5xx, ${bad.json_shape_violations} off the JSON error shape, statuses {${statuses}}; ` +
      `${
        bad.processes_died ?? 0
      } processes died; a valid job afterwards completed. ` +
      `${bad.bare_http_layer_rejections} oversized request heads were refused by Deno's HTTP layer itself (bare 400).`,
    ]);
  }
  for (
    const [name, label, file] of [
      ["chaos_worker", "Worker faults", "tests/chaos_worker_test.ts"],
      ["chaos_redis", "Redis outage", "tests/chaos_redis_test.ts"],
      [
        "chaos_api_restart",
        "API restart mid-upload",
        "tests/chaos_api_restart_test.ts",
      ],
      [
        "chaos_overload",
        "Overload (deno task test:chaos)",
        "tests/chaos_overload.ts",
      ],
      ["chaos_model", "Model integrity", "tests/chaos_model_test.ts"],
      [
        "long_recordings",
        "Long recordings: pieces, progress, cancel, fairness",
        "tests/long_recordings_test.ts",
      ],
      [
        "long_recordings_kill",
        "Worker killed mid-piece",
        "tests/long_recordings_test.ts",
      ],
      [
        "scaleout",
        "Scale-out over hosts (network namespaces)",
        "tests/scaleout_netns_test.ts",
      ],
      ["storage", "Storage hog", "tests/storage_test.ts"],
      ["storage_redis_full", "Redis at maxmemory", "tests/storage_test.ts"],
      ["quotas", "Amplification (audio quota)", "tests/storage_test.ts"],
      [
        "long_storage",
        "Long recordings on a small Redis",
        "tests/storage_test.ts",
      ],
      ["slow_clients", "Slow clients", "tests/slow_clients_test.ts"],
      ["long_poll_flood", "Long-poll flood", "tests/slow_clients_test.ts"],
      ["time_limit", "Job time limit", "tests/time_limit_test.ts"],
      ["client_gone", "A /v1 caller hangs up", "tests/stack_test.ts"],
    ] as const
  ) {
    const r = await report(name);
    if (r) rows.push([label, file, r.summary]);
  }
  const iso = await report("isolation");
  if (iso) {
    rows.push([
      "Isolation",
      "tests/isolation_test.ts",
      `open mode: ${iso.open_mode.cross_identity_attempts} cross-identity attempts, all 404; ` +
      `API-key mode: ${iso.api_key_mode.unauthorized_requests} requests without a valid key, all 401, ` +
      `${iso.api_key_mode.cross_identity_attempts} cross-identity attempts, all 404, key in logs: ${iso.api_key_mode.key_in_logs}; ` +
      `required mode: ${iso.required_mode.requests_without_identity} requests without identity, all 401.`,
    ]);
  }
  const lim = await report("limits");
  if (lim) {
    rows.push([
      "Limits",
      "tests/limits_test.ts",
      `upload bytes (${lim.max_upload_bytes.at_limit} at the limit, ${lim.max_upload_bytes.over_limit_initialize} above), ` +
      `audio duration (${lim.max_audio_duration_s.wav_over_limit} over, WAV and FLAC), ` +
      `sessions per identity (${lim.sessions_per_user.over_limit_status} with Retry-After), ` +
      `session TTL (${lim.session_ttl.owner_status} for the owner, ${lim.session_ttl.other_identity_status} for others)` +
      (lim.upload_memory_bytes
        ? `, upload bytes read at once (a second upload beside a half-sent one of ${lim.upload_memory_bytes.held_by_half_sent_upload} bytes: ${lim.upload_memory_bytes.second_upload_while_held}; a chunk: ${lim.upload_memory_bytes.chunk_while_held}; the second once it ended: ${lim.upload_memory_bytes.second_upload_after}).`
        : "."),
    ]);
  }
  if (rows.length === 0) {
    throw new ConfigError(
      "tests/reports/: no suite reports; run deno task test (and test:chaos) first",
    );
  }
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    START,
    "",
    "Generated by `deno task docs:reliability` from `tests/reports/*.json`, which the suites write.",
    "",
    "| target | suite | measured |",
    "| --- | --- | --- |",
    ...rows.map((r) => `| ${esc(r[0])} | \`${r[1]}\` | ${esc(r[2])} |`),
    "",
    END,
  ].join("\n");
}

if (import.meta.main) {
  await runCli("docs:reliability", async () => {
    const path = join(PROJECT_ROOT, "docs/reliability.md");
    const text = await Deno.readTextFile(path);
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a < 0 || b < a) {
      throw new ConfigError(`${path}: no ${START} … ${END} markers`);
    }
    await Deno.writeTextFile(
      path,
      text.slice(0, a) + await reliabilitySection() +
        text.slice(b + END.length),
    );
    // deno fmt's table layout, so `deno fmt --check` stays clean.
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path] })
      .output();
    console.error("docs:reliability: docs/reliability.md updated");
    return 0;
  });
}
