/**
 * "Hosts" on one machine for process-level suites: a network namespace per
 * host, each joined to a `hub` namespace by its own veth pair, and the hub
 * joined to the root namespace (where the test runs) by one more pair. Every
 * address is in the loopback range:
 *
 *     root  127.B.0.1 ── 127.B.0.2  hub  127.B.k.1 ── 127.B.k.2  host k
 *
 * `B` is 20 unless another run holds it in the root namespace. 127/8 is
 * dropped off `lo` unless `route_localnet` is set: inside our namespaces it is
 * set for `all` and each veth, in the root namespace for our veth only.
 *
 * Names carry the owning process id (`wt-<pid>-<n>-hub`, root veth
 * `wt<pid>n<n>`, temp folder `wt-netns-<pid>-…`), so a later run removes what
 * a killed run left behind, and only when that process is gone.
 * {@linkcode Hosts.cleanup} (call it in `finally`) stops every process
 * started with {@linkcode Hosts.runIn}, then removes the veths, namespaces
 * and temp folder. When the test process ends without it (Ctrl-C: `deno test`
 * exits on SIGINT without running `finally`; SIGTERM, SIGKILL, a crash), a
 * watchdog started with each lab does the same: it polls the test's pid and,
 * once it is gone, kills what runs in the lab's namespaces and removes them.
 *
 * @module
 */
import { basename, join } from "node:path";
import { tmpdir } from "node:os";
import { type ManagedProcess, spawnManaged } from "../src/stack/mod.ts";

/** Namespaces of this suite: `wt-<pid>-<n>-<host>`. */
const NS_NAME = /^wt-(\d+)-\d+-[a-z][a-z0-9]*$/;
/** Root-namespace end of the hub's veth: `wt<pid>n<n>`. */
const ROOT_DEV = /^wt(\d+)n\d+$/;
/** Temp folders: `wt-netns-<pid>-<random>`. */
const TMP_DIR = /^wt-netns-(\d+)-/;
/** Host names: short, so device names (`to-<host>`) fit in 15 characters. */
const HOST_NAME = /^[a-z][a-z0-9]{0,11}$/;
/** Second octets tried for a run's 127.B.0.0/16 block. */
const FIRST_BLOCK = 20;
const LAST_BLOCK = 99;
/** Most hosts per run (the third octet numbers them). */
const MAX_HOSTS = 8;

/** A command run to completion. */
interface Ran {
  ok: boolean;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[]): Promise<Ran> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    ok: out.success,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr).trim(),
  };
}

/** Runs `ip args…`; throws naming the command when it fails. */
async function ip(...args: string[]): Promise<string> {
  const r = await run("ip", args);
  if (!r.ok) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Sets a sysctl inside namespace `ns`. */
async function sysctlIn(ns: string, key: string, value: string) {
  await ip("netns", "exec", ns, "sysctl", "-qw", `${key}=${value}`);
}

/** True when a process with `pid` exists. */
function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Names from `ip netns list` ("name (id: 3)" → "name"). */
async function listNamespaces(): Promise<string[]> {
  const out = await ip("netns", "list");
  return out.split("\n").map((l) => l.split(" ")[0]!).filter(Boolean);
}

/** Interface names of the root namespace ("name@peer" → "name"). */
async function listRootLinks(): Promise<string[]> {
  const out = await ip("-o", "link", "show");
  return out.split("\n").map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** Pids of the processes inside namespace `ns`. */
async function pidsIn(ns: string): Promise<number[]> {
  const r = await run("ip", ["netns", "pids", ns]);
  if (!r.ok) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** SIGKILLs every process inside `ns` and waits (bounded) until they're gone. */
async function killAllIn(ns: string, timeoutMs = 5000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let pids = await pidsIn(ns);
  const killed = [...pids];
  while (pids.length > 0 && Date.now() < deadline) {
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    pids = await pidsIn(ns);
  }
  return killed;
}

/**
 * Whether this machine lets us make namespaces: creates and deletes a probe
 * namespace and sets `route_localnet` in it.
 *
 * @returns true, or why not (not root, no `ip`, …).
 */
export async function netnsAvailable(): Promise<true | string> {
  if (Deno.build.os !== "linux") return `network namespaces need Linux`;
  const probe = `wt-${Deno.pid}-0-probe`;
  try {
    const made = await run("ip", ["netns", "add", probe]);
    if (!made.ok) {
      return `cannot create a network namespace (${
        made.stderr || "ip netns add failed"
      }; needs root and iproute2)`;
    }
    try {
      const set = await run("ip", [
        "netns",
        "exec",
        probe,
        "sysctl",
        "-qw",
        "net.ipv4.conf.all.route_localnet=1",
      ]);
      if (!set.ok) {
        return `cannot set route_localnet in a namespace: ${set.stderr}`;
      }
      return true;
    } finally {
      await run("ip", ["netns", "del", probe]);
    }
  } catch (error) {
    return `cannot run ip (iproute2): ${(error as Error).message}`;
  }
}

/**
 * Removes namespaces, root veths and temp folders that an earlier run of this
 * suite left behind, only when the process that made them is gone; the
 * processes still inside such a namespace (orphans of that run) are killed.
 *
 * @returns what was removed, for the log.
 */
export async function removeStale(): Promise<string[]> {
  const removed: string[] = [];
  const dead = (re: RegExp, name: string) => {
    const m = re.exec(name);
    if (!m) return false;
    const pid = Number(m[1]);
    return pid !== Deno.pid && !pidAlive(pid);
  };
  for (const ns of await listNamespaces()) {
    if (!dead(NS_NAME, ns)) continue;
    const killed = await killAllIn(ns);
    await ip("netns", "del", ns);
    removed.push(
      `namespace ${ns}${killed.length ? ` (killed ${killed.join(", ")})` : ""}`,
    );
  }
  for (const dev of await listRootLinks()) {
    if (!dead(ROOT_DEV, dev)) continue;
    await ip("link", "del", dev);
    removed.push(`link ${dev}`);
  }
  const tmp = tmpdir();
  for (const entry of Deno.readDirSync(tmp)) {
    if (!entry.isDirectory || !dead(TMP_DIR, entry.name)) continue;
    await Deno.remove(join(tmp, entry.name), { recursive: true });
    removed.push(`folder ${join(tmp, entry.name)}`);
  }
  return removed;
}

/** Picks the first 127.B.0.0/16 block with no address in the root namespace. */
async function freeBlock(): Promise<number> {
  const used = await ip("-o", "-4", "addr", "show");
  for (let b = FIRST_BLOCK; b <= LAST_BLOCK; b++) {
    if (!used.includes(` 127.${b}.`)) return b;
  }
  throw new Error(
    `no free 127.B.0.0/16 block for B in ${FIRST_BLOCK}..${LAST_BLOCK}`,
  );
}

/** One worker host: its namespace and the two ends of its link to the hub. */
export interface Host {
  /** The name given to {@linkcode createHosts}, e.g. `host1`. */
  name: string;
  /** Its network namespace, e.g. `wt-4242-1-host1`. */
  ns: string;
  /** Its own address on the link, e.g. `127.20.1.2`. */
  address: string;
  /** The hub's address on the same link: what this host dials, e.g. `127.20.1.1`. */
  hubAddress: string;
}

/** Options of {@linkcode Hosts.runIn}. */
export interface RunOptions {
  /** Name in messages and of the log file. @default `<ns>-<command>` */
  name?: string;
  /** Called with each line of stdout. */
  onLine?: (line: string) => void;
  /** Working directory. */
  cwd?: string;
  /** Stopped after every other process (e.g. the Redis the others use). @default false */
  stopLast?: boolean;
  /** How long `cleanup()` waits after SIGTERM before SIGKILL, ms. @default 8000 */
  graceMs?: number;
}

interface Started {
  proc: ManagedProcess;
  stopLast: boolean;
  graceMs: number;
}

let labs = 0;

/** Longest a watchdog waits for its test process, in 0.5 s polls (one hour). */
const WATCHDOG_POLLS = 7200;

/**
 * A detached shell (its own session: Ctrl-C at the terminal doesn't reach
 * it) that waits, at most {@linkcode WATCHDOG_POLLS} × 0.5 s, for this
 * process to end, then SIGKILLs what runs in `namespaces` and removes them,
 * `rootDev` and `dir`. `cleanup()` stops it with SIGKILL once done.
 */
function startWatchdog(
  namespaces: readonly string[],
  rootDev: string,
  dir: string,
): Deno.ChildProcess {
  const script = `
trap '' INT TERM HUP
owner=$1 dev=$2 dir=$3; shift 3
i=0
while [ $i -lt ${WATCHDOG_POLLS} ] && kill -0 "$owner" 2>/dev/null; do
  sleep 0.5; i=$((i + 1))
done
[ $i -lt ${WATCHDOG_POLLS} ] || exit 0
for round in 1 2 3 4 5 6 7 8 9 10; do
  left=
  for ns in "$@"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p"; left=1; done
  done
  [ -n "$left" ] || break
  sleep 0.2
done
for ns in "$@"; do ip netns del "$ns" 2>/dev/null; done
ip link del "$dev" 2>/dev/null
rm -rf "$dir"
`;
  return new Deno.Command("setsid", {
    args: [
      "sh",
      "-c",
      script,
      "wt-netns-watchdog",
      String(Deno.pid),
      rootDev,
      dir,
      ...namespaces,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/**
 * A hub namespace and worker-host namespaces joined to it, made by
 * {@linkcode createHosts}. Call {@linkcode Hosts.cleanup} in `finally`.
 */
export class Hosts {
  /** `wt-<pid>-<n>`: the prefix of every namespace of this lab. */
  readonly id: string;
  /** The hub's namespace. */
  readonly hub: string;
  /** The hub's address on its link to the root namespace, e.g. `127.20.0.2`. */
  readonly hubAddress: string;
  /** The root namespace's end of that link, e.g. `127.20.0.1`. */
  readonly rootAddress: string;
  /** Temp folder for the processes' logs (removed by `cleanup()`). */
  readonly logDir: string;
  readonly #hosts: Map<string, Host>;
  readonly #rootDev: string;
  readonly #namespaces: string[];
  readonly #started: Started[] = [];
  readonly #cut = new Set<string>();
  readonly #watchdog: Deno.ChildProcess;
  #cleaning: Promise<string[]> | null = null;

  /** @internal use {@linkcode createHosts} */
  constructor(init: {
    id: string;
    block: number;
    rootDev: string;
    logDir: string;
    names: readonly string[];
  }) {
    this.id = init.id;
    this.hub = `${init.id}-hub`;
    this.hubAddress = `127.${init.block}.0.2`;
    this.rootAddress = `127.${init.block}.0.1`;
    this.logDir = init.logDir;
    this.#rootDev = init.rootDev;
    this.#hosts = new Map(init.names.map((name, i) => [name, {
      name,
      ns: `${init.id}-${name}`,
      address: `127.${init.block}.${i + 1}.2`,
      hubAddress: `127.${init.block}.${i + 1}.1`,
    }]));
    this.#namespaces = [
      this.hub,
      ...[...this.#hosts.values()].map((h) => h.ns),
    ];
    this.#watchdog = startWatchdog(
      this.#namespaces,
      this.#rootDev,
      this.logDir,
    );
  }

  /** Every namespace of this lab, the hub first. */
  get namespaces(): readonly string[] {
    return this.#namespaces;
  }

  /** The root-namespace veth (`wt<pid>n<n>`). */
  get rootDevice(): string {
    return this.#rootDev;
  }

  /** The worker host named `name`. */
  host(name: string): Host {
    const h = this.#hosts.get(name);
    if (!h) {
      throw new Error(
        `no host "${name}" (have: ${[...this.#hosts.keys()].join(", ")})`,
      );
    }
    return h;
  }

  /** The namespace of `where`: `"hub"`, a host's name, or a namespace name. */
  #ns(where: string): string {
    if (where === "hub") return this.hub;
    if (this.#namespaces.includes(where)) return where;
    return this.host(where).ns;
  }

  /**
   * Starts `cmd` inside `where` (`"hub"`, a host's name, or a namespace) with
   * `ip netns exec`, which execs in place: the returned process's pid is the
   * command's own. Its output goes to `<logDir>/<name>.log`; `cleanup()`
   * stops it (SIGTERM, then SIGKILL after `graceMs`).
   *
   * @param env added to this process's environment.
   */
  runIn(
    where: string,
    cmd: readonly string[],
    env: Record<string, string> = {},
    options: RunOptions = {},
  ): ManagedProcess {
    if (this.#cleaning) throw new Error(`${this.id} is being cleaned up`);
    if (cmd.length === 0) throw new Error("runIn: empty command");
    const ns = this.#ns(where);
    const name = options.name ??
      `${where === ns ? ns : where}-${basename(cmd[0]!)}`;
    const proc = spawnManaged({
      name,
      cmd: "ip",
      args: ["netns", "exec", ns, ...cmd],
      env,
      cwd: options.cwd,
      logPath: join(this.logDir, `${name.replace(/[^\w.-]/g, "_")}.log`),
      onLine: options.onLine,
    });
    this.#started.push({
      proc,
      stopLast: options.stopLast ?? false,
      graceMs: options.graceMs ?? 8000,
    });
    return proc;
  }

  /** Every process started with {@linkcode runIn}, in start order. */
  processes(): ManagedProcess[] {
    return this.#started.map((s) => s.proc);
  }

  /** The name of the namespace `pid` lives in, or null (root or gone). */
  async namespaceOf(pid: number): Promise<string | null> {
    const r = await run("ip", ["netns", "identify", String(pid)]);
    return r.ok && r.stdout.trim() ? r.stdout.trim() : null;
  }

  /**
   * Takes `host`'s link to the hub down at both ends: its processes keep
   * running but can no longer reach the hub (a lost host).
   */
  async cutLink(host: string): Promise<void> {
    const h = this.host(host);
    this.#cut.add(host);
    await ip("-n", this.hub, "link", "set", `to-${h.name}`, "down");
    await ip("-n", h.ns, "link", "set", "to-hub", "down");
  }

  /** Brings `host`'s link to the hub back up (its addresses and routes return). */
  async restoreLink(host: string): Promise<void> {
    const h = this.host(host);
    await ip("-n", this.hub, "link", "set", `to-${h.name}`, "up");
    await ip("-n", h.ns, "link", "set", "to-hub", "up");
    this.#cut.delete(host);
  }

  /**
   * Restores cut links (so processes can shut down cleanly), stops every
   * process started here, kills anything left in the namespaces, deletes the
   * root veth, the namespaces and the temp folder. Safe to call twice; never
   * throws.
   *
   * @returns what could not be removed (empty when all is gone).
   */
  cleanup(): Promise<string[]> {
    return this.#cleaning ??= this.#cleanup();
  }

  async #cleanup(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message ?? error}`);
      }
    };
    for (const host of [...this.#cut]) {
      await attempt(`restore ${host}`, () => this.restoreLink(host));
    }
    const stop = (list: Started[]) =>
      Promise.allSettled(list.map((s) => s.proc.stop(s.graceMs)));
    await stop(this.#started.filter((s) => !s.stopLast));
    await stop(this.#started.filter((s) => s.stopLast));
    for (const ns of this.#namespaces) {
      const killed = await killAllIn(ns).catch(() => []);
      if (killed.length > 0) {
        problems.push(`${ns}: had to SIGKILL leftover pids ${killed}`);
      }
    }
    await attempt(`link ${this.#rootDev}`, async () => {
      if ((await listRootLinks()).includes(this.#rootDev)) {
        await ip("link", "del", this.#rootDev);
      }
    });
    const existing = await listNamespaces().catch(() => this.#namespaces);
    for (const ns of this.#namespaces) {
      if (existing.includes(ns)) {
        await attempt(`namespace ${ns}`, () => ip("netns", "del", ns));
      }
    }
    await attempt(
      `folder ${this.logDir}`,
      () => Deno.remove(this.logDir, { recursive: true }),
    );
    problems.push(...await this.leftovers());
    // Everything is gone (or reported): the watchdog has nothing left to do.
    try {
      this.#watchdog.kill("SIGKILL");
    } catch {
      // already ended
    }
    await this.#watchdog.status;
    return problems;
  }

  /** What of this lab still exists: namespaces, the root veth, live processes, the folder. */
  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    const namespaces = await listNamespaces().catch((): string[] => []);
    for (const ns of this.#namespaces) {
      if (namespaces.includes(ns)) left.push(`namespace ${ns}`);
    }
    if (
      (await listRootLinks().catch((): string[] => [])).includes(this.#rootDev)
    ) {
      left.push(`link ${this.#rootDev}`);
    }
    for (const { proc } of this.#started) {
      if (pidAlive(proc.pid)) left.push(`process ${proc.name} (${proc.pid})`);
    }
    try {
      Deno.statSync(this.logDir);
      left.push(`folder ${this.logDir}`);
    } catch {
      // removed
    }
    return left;
  }

  /** The last `n` log lines of every process, for a failure message. */
  tails(n = 15): string {
    return this.#started.map(({ proc }) =>
      `--- ${proc.name} (${proc.logPath}):\n    ${
        proc.tail(n).join("\n    ") || "(no output)"
      }`
    ).join("\n");
  }
}

/**
 * Creates a hub namespace and one namespace per name in `names`, each joined
 * to the hub by a veth pair, and joins the hub to the root namespace; removes
 * a killed earlier run's leftovers first. On failure removes what it made.
 *
 * @param names worker hosts, e.g. `["host1", "host2"]` (1..8 short names).
 */
export async function createHosts(names: readonly string[]): Promise<Hosts> {
  if (names.length < 1 || names.length > MAX_HOSTS) {
    throw new RangeError(`createHosts: 1..${MAX_HOSTS} hosts, got ${names}`);
  }
  for (const name of names) {
    if (!HOST_NAME.test(name) || name === "hub" || name === "root") {
      throw new RangeError(
        `createHosts: host name "${name}" must match ${HOST_NAME} and not be hub or root`,
      );
    }
  }
  if (new Set(names).size !== names.length) {
    throw new RangeError(`createHosts: duplicate host names in ${names}`);
  }
  const stale = await removeStale();
  if (stale.length > 0) {
    console.warn(`removed leftovers of a killed run: ${stale.join("; ")}`);
  }
  const n = ++labs;
  const hosts = new Hosts({
    id: `wt-${Deno.pid}-${n}`,
    block: await freeBlock(),
    rootDev: `wt${Deno.pid}n${n}`,
    logDir: await Deno.makeTempDir({ prefix: `wt-netns-${Deno.pid}-` }),
    names,
  });
  try {
    for (const ns of hosts.namespaces) {
      await ip("netns", "add", ns);
      await ip("-n", ns, "link", "set", "lo", "up");
      await sysctlIn(ns, "net.ipv4.conf.all.route_localnet", "1");
    }
    const up = async (
      ns: string,
      dev: string,
      address: string,
    ): Promise<void> => {
      await sysctlIn(ns, `net.ipv4.conf.${dev}.route_localnet`, "1");
      await ip("-n", ns, "addr", "add", `${address}/24`, "dev", dev);
      await ip("-n", ns, "link", "set", dev, "up");
    };
    // root ↔ hub. In the root namespace only our device gets route_localnet.
    const rootDev = hosts.rootDevice;
    await ip(
      "link",
      "add",
      rootDev,
      "type",
      "veth",
      "peer",
      "name",
      "to-root",
      "netns",
      hosts.hub,
    );
    await Deno.writeTextFile(
      `/proc/sys/net/ipv4/conf/${rootDev}/route_localnet`,
      "1",
    );
    await ip("addr", "add", `${hosts.rootAddress}/24`, "dev", rootDev);
    await ip("link", "set", rootDev, "up");
    await up(hosts.hub, "to-root", hosts.hubAddress);
    // hub ↔ each host, made directly inside the two namespaces.
    for (const name of names) {
      const h = hosts.host(name);
      await ip(
        "link",
        "add",
        `to-${name}`,
        "netns",
        hosts.hub,
        "type",
        "veth",
        "peer",
        "name",
        "to-hub",
        "netns",
        h.ns,
      );
      await up(hosts.hub, `to-${name}`, h.hubAddress);
      await up(h.ns, "to-hub", h.address);
    }
    return hosts;
  } catch (error) {
    const left = await hosts.cleanup();
    throw new Error(
      `createHosts: ${(error as Error).message}${
        left.length ? `; left behind: ${left.join(", ")}` : ""
      }`,
      { cause: error },
    );
  }
}
