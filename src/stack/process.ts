/**
 * A child process we own: its output goes to a log file (and to line
 * listeners), it can be stopped gracefully then forcefully, and `stop()` is
 * safe to call twice.
 */

/** Options for {@linkcode spawnManaged}. */
export interface SpawnOptions {
  /** A short name used in messages, e.g. `worker-1`. */
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** File that receives stdout and stderr. */
  logPath: string;
  /** Called with each line of stdout. */
  onLine?: (line: string) => void;
}

/** How a managed process ended. */
export interface Exit {
  name: string;
  code: number;
  signal: string | null;
  /** True when we asked it to stop. */
  requested: boolean;
}

/** A running child process owned by this program. */
export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  readonly pid: number;
  /** Resolves when the process has exited and its output is flushed. */
  readonly exited: Promise<Exit>;
  #child: Deno.ChildProcess;
  #requested = false;
  #tail: string[] = [];

  constructor(options: SpawnOptions) {
    this.name = options.name;
    this.logPath = options.logPath;
    const log = Deno.openSync(options.logPath, { create: true, append: true });
    const child = new Deno.Command(options.cmd, {
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.pid = child.pid;
    const name = options.name;
    const pumps = [
      this.#pump(child.stdout, log, options.onLine),
      this.#pump(child.stderr, log),
    ];
    this.exited = (async () => {
      const status = await child.status;
      await Promise.allSettled(pumps);
      log.close();
      return {
        name,
        code: status.code,
        signal: status.signal,
        requested: this.#requested,
      };
    })();
  }

  async #pump(
    stream: ReadableStream<Uint8Array>,
    log: Deno.FsFile,
    onLine?: (line: string) => void,
  ): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      log.writeSync(chunk);
      const text = pending + decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) this.#remember(line, onLine);
    }
    if (pending) this.#remember(pending, onLine);
  }

  #remember(line: string, onLine?: (line: string) => void): void {
    this.#tail.push(line);
    if (this.#tail.length > 200) this.#tail.shift();
    try {
      onLine?.(line);
    } catch {
      // a listener's bug must not stop the log pump
    }
  }

  /** The last `n` lines the process printed. */
  tail(n = 20): string[] {
    return this.#tail.slice(-n);
  }

  /** Sends `signal` without waiting. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  /**
   * Asks the process to stop (SIGTERM), waits up to `graceMs`, then SIGKILLs
   * it; always waits for the exit. Safe to call more than once.
   */
  async stop(graceMs = 10_000): Promise<Exit> {
    this.#requested = true;
    this.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.kill("SIGKILL");
        resolve();
      }, graceMs);
    });
    try {
      await Promise.race([this.exited, forced]);
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Starts a {@linkcode ManagedProcess}. */
export function spawnManaged(options: SpawnOptions): ManagedProcess {
  return new ManagedProcess(options);
}

/** A free TCP port on 127.0.0.1, found by binding port 0 and releasing it. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Polls `check` every `intervalMs` until it returns true, `timeoutMs` passes
 * (throws), or `abort` rejects first.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; abort?: Promise<never> },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (true) {
    const ok = await check().catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${what}`,
      );
    }
    const pause = new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
    await (options.abort ? Promise.race([pause, options.abort]) : pause);
  }
}
