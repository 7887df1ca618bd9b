import process from "node:process";
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  clockTicks,
  type CpuReading,
  CpuSampler,
  cpuUsage,
  parseMachineStat,
  parseProcStat,
} from "./proc_cpu.ts";

Deno.test("parseProcStat reads utime + stime", async (t) => {
  await t.step("of this process's real /proc/self/stat", () => {
    const text = Deno.readTextFileSync("/proc/self/stat");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const ticks = parseProcStat(text);
    assertEquals(ticks, Number(fields[11]) + Number(fields[12]));
    assert(ticks >= 0);
  });
  await t.step("with spaces and parentheses in the command name", () => {
    const rest = "S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 3 0 100";
    assertEquals(parseProcStat(`42 (a b) (c)) ${rest}`), 175);
  });
  await t.step("not a stat line", () => {
    assertThrows(() => parseProcStat("hello"));
    assertThrows(() => parseProcStat("1 (x) S 1"));
  });
});

Deno.test("parseMachineStat reads busy and total ticks", async (t) => {
  await t.step("the real /proc/stat", () => {
    const m = parseMachineStat(Deno.readTextFileSync("/proc/stat"));
    assert(m.total > 0 && m.busy > 0 && m.busy <= m.total, JSON.stringify(m));
  });
  await t.step(
    "idle and iowait are not busy; guest time is not counted twice",
    () => {
      const text = "cpu  100 10 50 800 40 5 5 0 30 0\ncpu0 1 2 3 4\n";
      assertEquals(parseMachineStat(text), { busy: 170, total: 1010 });
    },
  );
  await t.step("no cpu line", () => {
    assertThrows(() => parseMachineStat("intr 1 2 3\n"));
  });
});

Deno.test("cpuUsage turns readings into cores per component", async (t) => {
  const machine = (busy: number, total: number) => ({ busy, total });
  const readings: CpuReading[] = [
    {
      atMs: 0,
      processes: [
        { name: "api", pid: 10, ticks: 1000 },
        { name: "worker-1", pid: 11, ticks: 5000 },
      ],
      machine: machine(0, 0),
    },
    {
      atMs: 1000,
      processes: [
        { name: "api", pid: 10, ticks: 1010 },
        { name: "worker-1", pid: 11, ticks: 5080 },
        { name: "k6", pid: 12, ticks: 20 },
      ],
      machine: machine(100, 200),
    },
    {
      // k6 has exited: its last reading stands.
      atMs: 2000,
      processes: [
        { name: "api", pid: 10, ticks: 1020 },
        { name: "worker-1", pid: 11, ticks: 5180 },
      ],
      machine: machine(300, 400),
    },
  ];
  await t.step("deltas over the window; new processes count from zero", () => {
    const u = cpuUsage(readings, 100, 2);
    assertEquals(u.seconds, 2);
    assertEquals(u.components, { api: 0.1, "worker-1": 0.9, k6: 0.1 });
    assertEquals(u.machine, 1.5);
    assertEquals(u.cpus, 2);
  });
  await t.step("a restarted worker (new pid) adds to its name", () => {
    const more = [...readings, {
      atMs: 4000,
      processes: [
        { name: "api", pid: 10, ticks: 1040 },
        { name: "worker-1", pid: 13, ticks: 100 },
      ],
      machine: machine(500, 800),
    }];
    const u = cpuUsage(more, 100, 2);
    // worker-1: pid 11 used 180 ticks, pid 13 100 ticks, over 4 s.
    assertEquals(u.components["worker-1"], 2.8 / 4);
  });
  await t.step("fewer than two readings: nothing measured", () => {
    assertEquals(cpuUsage(readings.slice(0, 1), 100, 2).seconds, 0);
    assertEquals(cpuUsage([], 100, 2).components, {});
  });
});

Deno.test("CpuSampler agrees with the process's own CPU clock", async () => {
  const ticks = await clockTicks();
  assert(Number.isInteger(ticks) && ticks > 0);
  const sampler = new CpuSampler(
    () => [{ name: "self", pid: Deno.pid }],
    ticks,
    50,
  );
  await sampler.start();
  const before = process.cpuUsage();
  const until = performance.now() + 400;
  while (performance.now() < until) {
    await new Promise((r) => setTimeout(r, 0)); // let the sampler tick
    const stop = performance.now() + 20;
    while (performance.now() < stop) { /* busy */ }
  }
  const used = process.cpuUsage(before);
  const u = await sampler.stop();
  assert(u.seconds >= 0.35, `window ${u.seconds} s`);
  // Both count this process's user + system time; /proc in whole ticks.
  const sampled = (u.components.self ?? 0) * u.seconds;
  const own = (used.user + used.system) / 1e6;
  assert(own > 0.05, `the loop used ${own} s of CPU`);
  assert(
    Math.abs(sampled - own) <= 3 / ticks + own * 0.1,
    `sampled ${sampled} s, process.cpuUsage ${own} s`,
  );
  assert(u.machine >= 0 && u.machine <= u.cpus + 0.01, `machine ${u.machine}`);
  assertEquals((await sampler.stop()).seconds, u.seconds, "stop() twice");
});
