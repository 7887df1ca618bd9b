/**
 * Compiler flags for the CPU's vector extensions, from /proc/cpuinfo.
 *
 * @module
 */

/** Vector extensions ggml uses on x86-64, as cpuinfo flag → gcc flag. */
const X86_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ["avx", "-mavx"],
  ["avx2", "-mavx2"],
  ["fma", "-mfma"],
  ["f16c", "-mf16c"],
];

/**
 * The AVX-512 subset ggml checks for (`__AVX512F__`). Both or neither: the
 * bundled ggml-aarch64.c calls an AVX512BW intrinsic under `__AVX512F__`
 * alone, so `-mavx512f` without `-mavx512bw` fails to compile.
 */
const AVX512_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ["avx512f", "-mavx512f"],
  ["avx512bw", "-mavx512bw"],
  ["avx512dq", "-mavx512dq"],
  ["avx512vl", "-mavx512vl"],
];

/** Options of {@linkcode cpuFlags}. */
export interface CpuFlagsOptions {
  /**
   * Add `-mavx512f -mavx512bw -mavx512dq -mavx512vl` when the CPU has
   * them all. Off by default: on the EPYC build
   * machines it measured no faster than AVX2 for whisper tiny (see the
   * engine report), and AVX2 builds run on more machines.
   * @default false
   */
  avx512?: boolean;
  /** cpuinfo text to read instead of /proc/cpuinfo (tests). */
  cpuinfo?: string;
}

/**
 * The `-m…` flags for the vector extensions this CPU lists, e.g.
 * `["-mavx", "-mavx2", "-mfma", "-mf16c"]`; empty off x86-64 or when
 * /proc/cpuinfo is unreadable.
 */
export function cpuFlags(options: CpuFlagsOptions = {}): string[] {
  let text = options.cpuinfo;
  if (text === undefined) {
    if (Deno.build.arch !== "x86_64") return [];
    try {
      text = Deno.readTextFileSync("/proc/cpuinfo");
    } catch {
      return [];
    }
  }
  const line = text.split("\n").find((l) => /^flags\s*:/.test(l)) ?? "";
  const have = new Set(line.replace(/^flags\s*:/, "").trim().split(/\s+/));
  const flags = X86_FLAGS.filter(([cpu]) => have.has(cpu));
  if (options.avx512 && AVX512_FLAGS.every(([cpu]) => have.has(cpu))) {
    flags.push(...AVX512_FLAGS);
  }
  return flags.map(([, gcc]) => gcc);
}
