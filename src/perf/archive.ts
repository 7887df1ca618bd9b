/**
 * What a run leaves in its archive besides k6's files: `metadata.json`
 * (machine, versions, process memory), the `latest` link.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../config/mod.ts";
import { k6Version } from "../setup/mod.ts";
import { type ProcessMemory } from "./proc_memory.ts";
import { type RunOnceOptions } from "./k6_run.ts";
import {
  durationToSeconds,
  type PerfOptions,
  resultsDir,
} from "./run_options.ts";

/** Points `perf/results/latest.json` (and its metadata) at this run. */
export async function linkLatest(runDir: string): Promise<void> {
  const pairs: [string, string][] = [
    ["latest.json", "summary.json"],
    ["metadata.json", "metadata.json"],
  ];
  for (const [name, target] of pairs) {
    const link = join(resultsDir(), name);
    await Deno.remove(link).catch(() => undefined);
    await Deno.copyFile(join(runDir, target), link);
  }
}

/** Runs `cmd` and returns its trimmed stdout, undefined when it fails. */
export async function command(
  cmd: string,
  args: string[],
): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success
      ? new TextDecoder().decode(out.stdout).trim()
      : undefined;
  } catch {
    return undefined;
  }
}

/** The CPU model from `/proc/cpuinfo`, when it says. */
export async function cpuModel(): Promise<string | undefined> {
  const text = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim();
}

export async function writeMetadata(
  runDir: string,
  o: PerfOptions,
  k6: string,
  k6Exit: number | null,
  interrupted: boolean,
  startedAt: string,
  extra: {
    repeat?: RunOnceOptions["repeat"];
    memory?: Record<string, ProcessMemory>;
  } = {},
): Promise<void> {
  const faults = o.faultProcessingDelayMs > 0 || o.faultApiDelayMs > 0
    ? {
      processing_delay_ms: o.faultProcessingDelayMs,
      api_delay_ms: o.faultApiDelayMs,
    }
    : undefined;
  const meta = {
    git_commit: await command("git", ["-C", PROJECT_ROOT, "rev-parse", "HEAD"]),
    git_dirty:
      (await command("git", ["-C", PROJECT_ROOT, "status", "--porcelain"]))
          ?.length
        ? true
        : false,
    cpu_model: await cpuModel(),
    cpu_count: navigator.hardwareConcurrency,
    k6_version: await k6Version(k6).catch(() => undefined),
    deno_version: Deno.version.deno,
    api: o.api,
    workload: o.workloadBuilt?.id ?? "sample",
    model: o.model,
    workers: o.baseUrl ? undefined : o.workers,
    worker_concurrency: o.baseUrl ? undefined : o.workers,
    arrival_rate_per_second: o.rate,
    duration_seconds: durationToSeconds(o.duration),
    pre_allocated_vus: o.vus,
    max_vus: o.maxVus,
    // Only the native scenario polls.
    ...(o.api === "native"
      ? {
        poll_interval_s: o.pollInterval,
        max_polls: o.maxPolls,
        long_poll: o.longPoll,
      }
      : {}),
    base_url: o.baseUrl ?? "embedded stack",
    k6_exit_code: k6Exit ?? undefined,
    interrupted,
    run_dir: runDir,
    repeat_index: extra.repeat?.index,
    repeat_of: extra.repeat?.of,
    fresh_stack: extra.repeat && o.freshStacks ? true : undefined,
    fault_injection: faults,
    memory_mib: extra.memory,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
  };
  await Deno.writeTextFile(
    join(runDir, "metadata.json"),
    JSON.stringify(meta, null, 2) + "\n",
  );
}

/**
 * One line with each component's peak resident memory since it started
 * (the stack's processes; `VmHWM`), e.g.
 * `perf: peak RSS MiB: api 101.2, worker-1 212.0, worker-2 208.4, redis 9.1`.
 */
export function memoryLine(memory: Record<string, ProcessMemory>): string {
  return `perf: peak RSS MiB: ${
    Object.entries(memory).map(([k, m]) => `${k} ${m.peak_mib.toFixed(1)}`)
      .join(", ")
  }`;
}
