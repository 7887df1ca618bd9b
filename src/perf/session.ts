/**
 * A perf session: provisioning, the embedded stack (or a `--base-url`)
 * opened and warmed up, fresh service state between repeated runs.
 */
import { join } from "node:path";
import { ConfigError } from "../errors/mod.ts";
import { type ComponentDeath, type Stack, startStack } from "../stack/mod.ts";
import { ensureK6, provisionK6, setup } from "../setup/mod.ts";
import { resetServiceState } from "./reset_state.ts";
import { runK6Once, type RunRecord } from "./k6_run.ts";
import {
  durationToSeconds,
  faultEnv,
  type PerfOptions,
} from "./run_options.ts";

/** A running target (the embedded stack or `--base-url`) and k6. */
export interface PerfSession {
  k6: string;
  baseUrl: string;
  stack: Stack | null;
  /** Resolves when Ctrl-C/SIGTERM arrives or a component dies. */
  stopped: Promise<string>;
  /** Stops the stack and the signal listeners; safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@linkcode openSession}. */
export interface SessionOptions {
  /** Folder for the stack's logs. */
  logDir: string;
  /** Extra environment for every stack component (faults). */
  env?: Record<string, string>;
  /** The k6 binary, when already provisioned. */
  k6?: string;
  say: (line: string) => void;
}

/**
 * Provisions, starts the stack (unless `--base-url`) and listens for
 * Ctrl-C. Returns a reason string instead when interrupted while starting.
 * @throws {ConfigError} when the stack can't start (exit 2).
 */
export async function openSession(
  o: PerfOptions,
  so: SessionOptions,
): Promise<PerfSession | { interrupted: string }> {
  const say = so.say;
  const k6 = so.k6 ?? await provision(o, say);
  const interrupt = Promise.withResolvers<string>();
  const onSignal = () => interrupt.resolve("interrupted by a signal (Ctrl-C)");
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let stack: Stack | null = null;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    if (stack) {
      say("perf: stopping the stack");
      await stack.stop();
    }
  };
  try {
    if (o.baseUrl) {
      return {
        k6,
        baseUrl: o.baseUrl,
        stack,
        stopped: interrupt.promise,
        close,
      };
    }
    const starting = startStack({
      workers: o.workers,
      model: o.model,
      logDir: so.logDir,
      env: { ...faultEnv(o), ...so.env },
      onEvent: (m) => say(`perf: ${m}`),
    }).catch((error) => {
      // A component that can't start is an unusable environment (exit 2).
      throw new ConfigError(
        `the embedded stack could not start: ${error.message ?? error}`,
        { cause: error },
      );
    });
    const first = await Promise.race([
      starting.then((s) => ({ stack: s })),
      interrupt.promise.then((reason) => ({ reason })),
    ]);
    if ("reason" in first) {
      // Let the start finish or fail, then stop whatever it started.
      await starting.then((s) => s.stop(), () => undefined);
      await close();
      return { interrupted: first.reason };
    }
    stack = first.stack;
    const stopped = Promise.race([
      interrupt.promise,
      stack.died.then(describeDeath),
    ]);
    return { k6, baseUrl: stack.baseUrl, stack, stopped, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Opens a session ({@linkcode openSession}, `so.logDir` created) and warms it
 * up ({@linkcode warmUp}, archived under `<so.warmupDir>/logs/warmup/`).
 * `so.onSession` sees the session as soon as it is open, so a caller can
 * close it even when the warm-up is interrupted. Returns whether a warm-up
 * ran, or the reason when interrupted.
 */
export async function openWarmSession(
  o: PerfOptions,
  so: SessionOptions & {
    warmupDir: string;
    onSession: (session: PerfSession) => void;
  },
): Promise<{ warm: boolean } | { reason: string }> {
  await Deno.mkdir(so.logDir, { recursive: true });
  const s = await openSession(o, so);
  if ("interrupted" in s) return { reason: s.interrupted };
  so.onSession(s);
  const warm = await warmUp(s, o, so.warmupDir, so.say);
  if (warm?.interrupted) return { reason: warm.reason ?? "interrupted" };
  return { warm: Boolean(warm) };
}

/**
 * Deletes the previous run's state from the session's Redis (nothing with
 * `--base-url`, said once when `first`).
 */
export async function freshState(
  session: PerfSession,
  say: (line: string) => void,
  first = false,
): Promise<void> {
  if (!session.stack) {
    if (first) {
      say("perf: --base-url: the target's state is not reset between runs");
    }
    return;
  }
  const r = await resetServiceState(session.stack.redisUrl);
  say(
    `perf: fresh state: removed ${r.serviceKeys} service keys and ${r.finishedJobs} finished jobs${
      r.busy ? ` (${r.busy} jobs were still queued)` : ""
    }`,
  );
}

/**
 * The warm-up run (`o.warmup`, skipped when 0): archived under
 * `<dir>/logs/warmup/`, where neither compare nor baseline:update look.
 */
export async function warmUp(
  session: PerfSession,
  o: PerfOptions,
  dir: string,
  say: (line: string) => void,
): Promise<RunRecord | undefined> {
  if (durationToSeconds(o.warmup) <= 0) return undefined;
  say(`perf: warming up for ${o.warmup} (not recorded)`);
  return await runK6Once(
    session,
    { ...o, duration: o.warmup },
    join(dir, "logs", "warmup"),
    { say: () => undefined, quiet: true },
  );
}

/** Provisions what a run needs; returns the k6 binary. */
export async function provision(
  o: PerfOptions,
  say: (l: string) => void,
): Promise<string> {
  if (!o.baseUrl) await setup({ models: [o.model], say, k6: false });
  await provisionK6(say);
  return await ensureK6();
}

function describeDeath(d: ComponentDeath): string {
  return `${d.component} died mid-run (code ${d.exit.code}${
    d.exit.signal ? `, ${d.exit.signal}` : ""
  }); log ${d.logPath}, last lines:\n  ${d.tail.join("\n  ")}`;
}
