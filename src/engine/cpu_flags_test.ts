import { deepStrictEqual } from "node:assert/strict";
import { cpuFlags } from "./cpu_flags.ts";

const EPYC = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma f16c avx512f " +
  "avx512bw avx512dq avx512vl\n";

Deno.test("cpuFlags maps cpuinfo flags to gcc flags", async (t) => {
  await t.step("AVX2 set without AVX-512 by default", () => {
    deepStrictEqual(cpuFlags({ cpuinfo: EPYC }), [
      "-mavx",
      "-mavx2",
      "-mfma",
      "-mf16c",
    ]);
  });
  await t.step("adds the AVX-512 set when asked and all listed", () => {
    deepStrictEqual(cpuFlags({ cpuinfo: EPYC, avx512: true }).slice(-4), [
      "-mavx512f",
      "-mavx512bw",
      "-mavx512dq",
      "-mavx512vl",
    ]);
    const noBw = "flags : avx avx512f\n";
    deepStrictEqual(cpuFlags({ cpuinfo: noBw, avx512: true }), ["-mavx"]);
  });
  await t.step("only what the CPU lists", () => {
    deepStrictEqual(cpuFlags({ cpuinfo: "flags : sse2 avx\n", avx512: true }), [
      "-mavx",
    ]);
    deepStrictEqual(cpuFlags({ cpuinfo: "" }), []);
  });
});
