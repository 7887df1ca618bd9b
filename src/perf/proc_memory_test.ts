import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../testing/assert.ts";
import { parseProcStatus, readMemory } from "./proc_memory.ts";

const STATUS = `Name:\tdeno
VmPeak:\t 2097152 kB
VmHWM:\t  307200 kB
VmRSS:\t  153600 kB
Threads:\t8
`;

Deno.test("parseProcStatus reads VmRSS and the VmHWM peak in MiB", () => {
  assertEquals(parseProcStatus(STATUS), { rss_mib: 150, peak_mib: 300 });
  const e = assertThrows(() =>
    parseProcStatus("Name:\tdeno\nVmRSS:\t 1024 kB\n")
  ) as Error;
  assertMatch(e.message, /no VmHWM line/);
});

Deno.test("readMemory reads live processes and leaves out gone ones", async () => {
  const got = await readMemory([
    { name: "self", pid: Deno.pid },
    { name: "self", pid: Deno.pid },
    { name: "gone", pid: 2 ** 22 + 1 },
  ]);
  assertEquals(Object.keys(got), ["self", "self#2"]);
  const self = got.self!;
  // This test process holds at least a few MiB and its peak is never below
  // its current size.
  assert(self.rss_mib > 5, `rss ${self.rss_mib}`);
  assert(self.peak_mib >= self.rss_mib, `peak ${self.peak_mib}`);
});
