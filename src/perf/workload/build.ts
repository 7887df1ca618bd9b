/**
 * Builds a workload's audio before k6 starts, with no network: every class
 * becomes one audio file and (when known) its transcript, listed in a
 * manifest (`workload.json`) that perf/workload_scenario.js reads.
 */
import { basename, dirname, extname, join, resolve } from "node:path";
import { ConfigError } from "../../errors/mod.ts";
import { PROJECT_ROOT } from "../../config/mod.ts";
import { decodeBase64, readWavHeader, sniffFormat } from "../../audio/mod.ts";
import { longRecording } from "../../testing/long_audio.ts";
import {
  ensureLongRecording,
  EspeakMissingError,
} from "../../bench/long_corpus.ts";
import {
  audioFilesIn,
  loadWorkloadSpec,
  type WorkloadClassSpec,
  workloadId,
  type WorkloadRef,
} from "./spec.ts";

/** The manifest file written into the workload folder. */
export const MANIFEST_FILE = "workload.json";
/** Accuracy bound of a class whose spec gives none. */
export const DEFAULT_MAX_WER = 0.3;

/** One class as the k6 script gets it. */
export interface ManifestClass {
  name: string;
  weight: number;
  /** Absolute path of the audio file. */
  audio: string;
  /** The file name sent to the service (its extension tells the format). */
  filename: string;
  /** Seconds of audio (estimated from the size when not WAV and no ffprobe). */
  duration_s: number;
  /** The known transcript, or null when accuracy can't be checked. */
  text: string | null;
  max_wer: number;
}

/** `workload.json`. */
export interface WorkloadManifest {
  /** `mixed`, the spec file's path, or the folder's. */
  workload: string;
  kind: "mixed" | "spec" | "dir";
  /**
   * The workload's name in the run's metadata and in baseline keys'
   * `workload`: `mixed`, `spec:<file name without .json>` or
   * `dir:<folder name>`.
   */
  id: string;
  classes: ManifestClass[];
  /** Classes of the spec left out, and why. */
  left_out: { name: string; reason: string }[];
}

/** A class name from a file name: letters, digits, `.`, `_`, `-`, ≤ 40. */
export function classNameOf(file: string): string {
  const stem = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[^A-Za-z0-9]+/, "").slice(0, 40);
  return stem || "audio";
}

/**
 * Builds the workload into `dir` (created) and writes its manifest.
 * Classes from the espeak corpus are left out with a warning when
 * espeak-ng is missing (and their WAV isn't cached).
 * @returns the manifest and its path.
 */
export async function buildWorkload(
  ref: Exclude<WorkloadRef, { kind: "sample" }>,
  dir: string,
  say: (line: string) => void,
): Promise<{ path: string; manifest: WorkloadManifest }> {
  await Deno.mkdir(dir, { recursive: true });
  const manifest: WorkloadManifest = ref.kind === "dir"
    ? await buildDir(ref.dir)
    : await buildSpec(ref, dir, say);
  if (manifest.classes.length === 0) {
    throw new ConfigError(
      `${"spec" in ref ? ref.spec : ref.dir}: no class could be built (${
        manifest.left_out.map((l) => `${l.name}: ${l.reason}`).join("; ")
      })`,
    );
  }
  const path = join(dir, MANIFEST_FILE);
  await Deno.writeTextFile(path, JSON.stringify(manifest, null, 2) + "\n");
  say(
    `perf: workload ${ref.kind === "dir" ? ref.dir : ref.kind}: ${
      manifest.classes.map((c) =>
        `${c.name} (${c.duration_s.toFixed(1)} s, weight ${c.weight})`
      ).join(", ")
    }`,
  );
  return { path, manifest };
}

async function buildSpec(
  ref: { kind: "mixed" | "spec"; spec: string },
  dir: string,
  say: (line: string) => void,
): Promise<WorkloadManifest> {
  const spec = await loadWorkloadSpec(ref.spec);
  const classes: ManifestClass[] = [];
  const leftOut: WorkloadManifest["left_out"] = [];
  for (const c of spec.classes) {
    try {
      classes.push(await buildClass(c, dirname(ref.spec), dir));
    } catch (error) {
      if (!(error instanceof EspeakMissingError)) throw error;
      const reason = `espeak-ng is missing (${error.message}); install ` +
        `it (deno task setup does, as root) to include ${c.source}`;
      say(`perf: warning: workload class ${c.name} left out: ${reason}`);
      leftOut.push({ name: c.name, reason });
    }
  }
  return {
    workload: ref.kind === "mixed" ? "mixed" : ref.spec,
    kind: ref.kind,
    id: workloadId(ref),
    classes,
    left_out: leftOut,
  };
}

async function buildClass(
  c: WorkloadClassSpec,
  specDir: string,
  dir: string,
): Promise<ManifestClass> {
  const base = { name: c.name, weight: c.weight };
  const maxWer = c.max_wer ?? DEFAULT_MAX_WER;
  if (c.source === "sample") {
    const audio = join(dir, `${c.name}.wav`);
    const wav = decodeBase64(
      await Deno.readTextFile(join(PROJECT_ROOT, "assets/sample.wav.b64")),
    );
    await Deno.writeFile(audio, wav);
    return {
      ...base,
      audio,
      filename: "sample.wav",
      duration_s: wavSeconds(wav),
      text: (await Deno.readTextFile(join(PROJECT_ROOT, "assets/sample.txt")))
        .trim(),
      max_wer: maxWer,
    };
  }
  if (c.source.startsWith("clips:")) {
    const rec = await longRecording(Number(c.source.slice(6)));
    const audio = join(dir, `${c.name}.wav`);
    await Deno.writeFile(audio, rec.wav);
    return {
      ...base,
      audio,
      filename: `${c.name}.wav`,
      duration_s: rec.durationS,
      text: rec.text,
      max_wer: maxWer,
    };
  }
  if (c.source.startsWith("long:")) {
    const rec = await ensureLongRecording(c.source.slice(5));
    return {
      ...base,
      audio: rec.wavPath,
      filename: `${c.name}.wav`,
      duration_s: rec.sidecar.duration_s,
      text: rec.text.trim(),
      max_wer: maxWer,
    };
  }
  const audio = resolve(specDir, c.source.slice(5));
  return { ...(await fileClass(audio)), ...base, max_wer: maxWer };
}

async function buildDir(dir: string): Promise<WorkloadManifest> {
  const classes: ManifestClass[] = [];
  const names = new Set<string>();
  for (const file of audioFilesIn(dir)) {
    const c = await fileClass(join(dir, file));
    let name = c.name;
    for (let i = 2; names.has(name); i++) name = `${c.name.slice(0, 36)}-${i}`;
    names.add(name);
    classes.push({ ...c, name });
  }
  return {
    workload: dir,
    kind: "dir",
    id: workloadId({ kind: "dir", dir }),
    classes,
    left_out: [],
  };
}

/** A class of one audio file; its transcript from `<stem>.txt` beside it. */
async function fileClass(audio: string): Promise<ManifestClass> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(audio);
  } catch (error) {
    throw new ConfigError(`${audio}: cannot read the audio file (${error})`);
  }
  if (sniffFormat(bytes) === "unknown") {
    throw new ConfigError(`${audio}: not an audio file the service takes`);
  }
  const textPath = join(
    dirname(audio),
    `${basename(audio, extname(audio))}.txt`,
  );
  const text = await Deno.readTextFile(textPath).then(
    (t) => t.trim(),
    () => null,
  );
  return {
    name: classNameOf(audio),
    weight: 1,
    audio,
    filename: basename(audio),
    duration_s: await audioSeconds(audio, bytes),
    text,
    max_wer: DEFAULT_MAX_WER,
  };
}

function wavSeconds(wav: Uint8Array): number {
  const h = readWavHeader(wav);
  return h.frames / h.sampleRate;
}

/**
 * Seconds of audio: the WAV header, else ffprobe, else the size at
 * 16 kB/s (128 kbit/s, a typical compressed bitrate).
 */
async function audioSeconds(path: string, bytes: Uint8Array): Promise<number> {
  if (sniffFormat(bytes) === "wav") return wavSeconds(bytes);
  try {
    const out = await new Deno.Command("ffprobe", {
      args: [
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "csv=p=0",
        path,
      ],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).output();
    const s = Number(new TextDecoder().decode(out.stdout).trim());
    if (out.success && Number.isFinite(s) && s > 0) return s;
  } catch { /* no ffprobe */ }
  return Math.max(1, bytes.length / 16_000);
}
