/**
 * Workload specs (`deno task perf --workload mixed|DIR`): the classes of
 * traffic a run mixes, each with an audio source and a weight, read from a
 * JSON file the user can copy and edit (perf/workloads/mixed.json).
 */
import { basename, extname, join, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../../errors/mod.ts";
import { PROJECT_ROOT } from "../../config/mod.ts";

/** The named workloads; anything else given to `--workload` is a folder. */
export const WORKLOADS = ["sample", "mixed"] as const;
/** What `deno task perf` runs without `--workload`. */
export const DEFAULT_WORKLOAD = "sample";
/** The committed spec of `--workload mixed`. */
export const MIXED_SPEC: string = join(
  PROJECT_ROOT,
  "perf/workloads/mixed.json",
);

/** A class name: usable as a k6 tag value inside a threshold's `{class:…}`. */
export const CLASS_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/**
 * Where a class's audio comes from:
 * - `sample`: the committed 1.1 s sample (assets/sample.wav.b64);
 * - `clips:<seconds>`: the committed speech clips joined with pauses until
 *   at least that many seconds (src/testing/long_audio.ts);
 * - `long:<name>`: the espeak-ng corpus recording `assets/long/<name>.txt`
 *   (2min, 8min; needs espeak-ng, cached under .cache/corpus/long);
 * - `file:<path>`: an audio file, relative to the spec's folder, with its
 *   transcript in `<path without extension>.txt` when present.
 */
const SOURCE_RE = /^(sample|clips:\d+(\.\d+)?|long:[A-Za-z0-9_-]+|file:.+)$/;

const ClassSchema = z.strictObject({
  name: z.string({ error: "must be a string" }).regex(
    CLASS_NAME_RE,
    "must be 1-40 characters of letters, digits, '.', '_' or '-'",
  ),
  source: z.string({ error: "must be a string" }).regex(
    SOURCE_RE,
    "must be sample, clips:<seconds>, long:<name> or file:<path>",
  ),
  /** Iterations of this class per cycle of sum(weights) iterations. */
  weight: z.number({ error: "must be a number" }).int(
    "must be a positive integer",
  ).positive("must be a positive integer"),
  /**
   * Accuracy: a transcript counts as accurate when its word error rate is
   * at most this. @default 0.3
   */
  max_wer: z.number({ error: "must be a number" }).min(0).max(1).optional(),
});

/** The schema of a workload spec file. */
export const WorkloadSpecSchema = z.strictObject({
  description: z.string({ error: "must be a string" }).optional(),
  classes: z.array(ClassSchema, { error: "must be a list of classes" })
    .min(1, "must have at least one class"),
}).superRefine((spec, ctx) => {
  const seen = new Set<string>();
  spec.classes.forEach((c, i) => {
    if (seen.has(c.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["classes", i, "name"],
        message: `repeats the class name "${c.name}"`,
      });
    }
    seen.add(c.name);
  });
  const total = spec.classes.reduce((s, c) => s + c.weight, 0);
  if (total > 10_000) {
    ctx.addIssue({
      code: "custom",
      path: ["classes"],
      message: `weights must add up to at most 10000, got ${total}`,
    });
  }
});
/** A parsed workload spec. */
export type WorkloadSpec = z.infer<typeof WorkloadSpecSchema>;
/** One class of a spec. */
export type WorkloadClassSpec = WorkloadSpec["classes"][number];

/**
 * Parses a spec's text; `file` names it in messages.
 * @throws {ConfigError} naming the file and the field, e.g.
 *   `mixed.json: classes.2.weight must be a positive integer`.
 */
export function parseWorkloadSpec(text: string, file: string): WorkloadSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: is not valid JSON (${error})`);
  }
  const parsed = WorkloadSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join(".") || "(top level)";
    throw new ConfigError(`${file}: ${field} ${issue.message}`);
  }
  return parsed.data;
}

/** Reads and parses a spec file. @throws {ConfigError} */
export async function loadWorkloadSpec(file: string): Promise<WorkloadSpec> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the workload spec (${error})`);
  }
  return parseWorkloadSpec(text, file);
}

/**
 * How `--workload` names a workload: `sample`, `mixed`, a spec file
 * (`*.json`) or a folder of audio files.
 */
export type WorkloadRef =
  | { kind: "sample" }
  | { kind: "mixed"; spec: string }
  | { kind: "spec"; spec: string }
  | { kind: "dir"; dir: string };

/** Audio file extensions a folder workload takes (the service sniffs the bytes). */
export const AUDIO_EXTENSIONS = [
  ".wav",
  ".mp3",
  ".flac",
  ".ogg",
  ".oga",
  ".opus",
  ".m4a",
  ".mp4",
  ".webm",
] as const;

/**
 * Resolves `--workload`'s value.
 * @throws {ConfigError} naming `--workload` for a value that is neither a
 *   named workload, a spec file nor a folder, and naming the folder when it
 *   holds no audio file.
 */
export function resolveWorkload(value: string | undefined): WorkloadRef {
  const v = value ?? DEFAULT_WORKLOAD;
  if (v === "sample") return { kind: "sample" };
  if (v === "mixed") return { kind: "mixed", spec: MIXED_SPEC };
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(v);
  } catch {
    throw new ConfigError(
      `--workload: must be sample, mixed, a workload spec (.json) or a ` +
        `folder of audio files, got "${v}" (no such file or folder)`,
    );
  }
  if (stat.isFile && v.endsWith(".json")) {
    return { kind: "spec", spec: resolve(v) };
  }
  if (!stat.isDirectory) {
    throw new ConfigError(
      `--workload: "${v}" is a file but not a workload spec (.json); ` +
        `give sample, mixed, a spec or a folder of audio files`,
    );
  }
  const dir = resolve(v);
  if (audioFilesIn(dir).length === 0) {
    throw new ConfigError(
      `--workload: the folder ${dir} has no audio files (${
        AUDIO_EXTENSIONS.join(", ")
      })`,
    );
  }
  return { kind: "dir", dir };
}

/**
 * A workload's name in metadata and baseline keys: `sample`, `mixed`,
 * `spec:<file name without .json>` or `dir:<folder name>`.
 */
export function workloadId(ref: WorkloadRef): string {
  switch (ref.kind) {
    case "sample":
    case "mixed":
      return ref.kind;
    case "spec":
      return `spec:${basename(ref.spec, ".json")}`;
    case "dir":
      return `dir:${basename(ref.dir)}`;
  }
}

/** The audio files directly in `dir`, by name. */
export function audioFilesIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) =>
      e.isFile &&
      (AUDIO_EXTENSIONS as readonly string[]).includes(
        extname(e.name).toLowerCase(),
      )
    )
    .map((e) => e.name)
    .sort();
}
