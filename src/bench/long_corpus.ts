/**
 * The long-recording corpus of `deno task bench:long`: committed English
 * texts (`assets/long/<name>.txt`) spoken by espeak-ng into 16 kHz mono PCM16
 * WAVs under `.cache/corpus/long/`, each with its reference text and a
 * sidecar (`<name>.json`) holding the cache key. The key hashes the text,
 * voice, speed and espeak-ng's version line, so a change to any of them
 * regenerates the file; the same espeak-ng gives the same bytes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { cacheDir, PROJECT_ROOT } from "../config/mod.ts";
import { encodeWav, parseWav, resample } from "../audio/mod.ts";
import { normalizeWords } from "../accuracy/mod.ts";
// Shared with the accuracy corpus' generator, so callers catch one error type.
import { EspeakMissingError } from "../accuracy/mod.ts";

export { EspeakMissingError };

/** The committed recordings, shortest first. */
export const LONG_RECORDINGS = ["2min", "8min"] as const;

/** espeak-ng voice of every long recording. */
export const LONG_VOICE = "en-us";
/** espeak-ng speed (`-s`, words per minute) of every long recording. */
export const LONG_SPEED = 160;
/** An espeak-ng voice and speed (words per minute) to speak a text with. */
export interface LongVoice {
  voice: string;
  speed: number;
}

/** The voice of the committed recordings' cached WAVs. */
export const DEFAULT_LONG_VOICE: LongVoice = {
  voice: LONG_VOICE,
  speed: LONG_SPEED,
};

/** `en-gb:160`: how a voice is written on the command line and in reports. */
export function voiceLabel(v: LongVoice): string {
  return `${v.voice}:${v.speed}`;
}

/**
 * Parses a comma-separated list of `VOICE:SPEED` (e.g.
 * `en-gb:160,en-us+m3:140`): an espeak-ng voice name (letters, digits, `-`,
 * `_`, and `+` before a variant) and words per minute, 80–450.
 *
 * @throws {RangeError} naming the first bad entry.
 */
export function parseVoices(raw: string): LongVoice[] {
  const voices: LongVoice[] = [];
  for (const entry of raw.split(",").map((e) => e.trim()).filter(Boolean)) {
    const m = /^([a-z][a-z0-9_-]*(?:\+[a-z0-9_-]+)?):(\d{2,3})$/i.exec(entry);
    const speed = Number(m?.[2]);
    if (!m || speed < 80 || speed > 450) {
      throw new RangeError(
        `"${entry}" is not VOICE:SPEED (an espeak-ng voice such as en-gb or en-us+m3, and 80-450 words per minute)`,
      );
    }
    if (!voices.some((v) => voiceLabel(v) === entry)) {
      voices.push({ voice: m[1]!, speed });
    }
  }
  return voices;
}

/** Sample rate of the generated WAVs. */
export const LONG_SAMPLE_RATE = 16_000;

/** Folder of the committed texts. */
export const LONG_TEXT_DIR: string = join(PROJECT_ROOT, "assets", "long");

/** Folder of the generated WAVs: `<cache>/corpus/long`. */
export function longCorpusDir(): string {
  return join(cacheDir(), "corpus", "long");
}

/** The sidecar written next to each generated WAV. */
export interface LongSidecar {
  /** SHA-256 over text, voice, speed and espeak-ng version: the cache key. */
  key: string;
  name: string;
  voice: string;
  speed: number;
  /** espeak-ng's `--version` line. */
  espeak: string;
  text_sha256: string;
  wav_sha256: string;
  wav_bytes: number;
  sample_rate: number;
  duration_s: number;
  /** Reference words (as the word error rate counts them). */
  words: number;
}

/** A generated recording, ready to transcribe. */
export interface LongRecording {
  name: string;
  wavPath: string;
  /** The reference text file next to the WAV. */
  textPath: string;
  /** The reference text. */
  text: string;
  sidecar: LongSidecar;
  /** True when this call (re)generated the WAV. */
  generated: boolean;
}

/** Options of {@linkcode ensureLongRecording}. */
export interface EnsureLongOptions {
  /** Output folder. @default longCorpusDir() */
  dir?: string;
  /** Folder of the texts. @default LONG_TEXT_DIR */
  textDir?: string;
  /** Regenerate even when the sidecar's key matches. @default false */
  force?: boolean;
  /** espeak-ng's version line, when already known. */
  espeak?: string;
  /**
   * Another voice: its files are `<name>@<voice>-<speed>.*` beside the
   * default voice's `<name>.*`. @default DEFAULT_LONG_VOICE
   */
  voice?: LongVoice;
}

/** The file stem of recording `name` spoken in `voice`. */
export function longStem(name: string, voice: LongVoice): string {
  return voice.voice === LONG_VOICE && voice.speed === LONG_SPEED
    ? name
    : `${name}@${voice.voice}-${voice.speed}`;
}

const sha256 = (data: string | Uint8Array): string =>
  createHash("sha256").update(data).digest("hex");

/**
 * espeak-ng's `--version` line, e.g. `eSpeak NG text-to-speech: 1.51  Data
 * at: /usr/lib/…`.
 * @throws {EspeakMissingError} when espeak-ng can't be run.
 */
export async function espeakVersion(): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("espeak-ng", {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (cause) {
    throw new EspeakMissingError("espeak-ng: cannot run it", { cause });
  }
  const line = new TextDecoder().decode(out.stdout).trim().split("\n")[0];
  if (!out.success || !line) {
    throw new EspeakMissingError(
      `espeak-ng --version: exit ${out.code}, no version line`,
    );
  }
  return line.replace(/\s+/g, " ");
}

/** The cache key of a text spoken with `voice` at `speed` by `espeak`. */
export function longCacheKey(
  text: string,
  voice: string,
  speed: number,
  espeak: string,
): string {
  return sha256(JSON.stringify({ text: sha256(text), voice, speed, espeak }));
}

/**
 * Speaks the text file `textPath` with `espeak-ng -v VOICE -s SPEED -f FILE`
 * (sentence pauses kept, nothing trimmed) and returns 16 kHz mono PCM16 WAV
 * bytes, resampled by the service's own resampler.
 *
 * @throws {EspeakMissingError} when espeak-ng can't be run.
 * @throws {Error} when espeak-ng fails.
 */
export async function speakTextFile(
  textPath: string,
  voice: string = LONG_VOICE,
  speed: number = LONG_SPEED,
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "long-corpus-" });
  try {
    const path = join(dir, "speech.wav");
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("espeak-ng", {
        args: ["-v", voice, "-s", String(speed), "-f", textPath, "-w", path],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
    } catch (cause) {
      throw new EspeakMissingError("espeak-ng: cannot run it", { cause });
    }
    if (!out.success) {
      throw new Error(
        `espeak-ng -v ${voice} -s ${speed} -f ${textPath}: exit ${out.code}: ${
          new TextDecoder().decode(out.stderr).trim()
        }`,
      );
    }
    const wav = parseWav(await Deno.readFile(path));
    const pcm = resample(wav.samples[0]!, wav.sampleRate, LONG_SAMPLE_RATE);
    return encodeWav(pcm, { sampleRate: LONG_SAMPLE_RATE });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readSidecar(path: string): Promise<LongSidecar | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as LongSidecar;
  } catch {
    return null;
  }
}

/** Reads `path` or returns null when it doesn't exist. */
async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Returns recording `name`, generating its WAV (and reference text and
 * sidecar) when missing, stale (the key changed) or damaged (the WAV's hash
 * differs from the sidecar's).
 *
 * @throws {EspeakMissingError} when it has to generate and espeak-ng is missing.
 * @throws {Deno.errors.NotFound} when `assets/long/<name>.txt` doesn't exist.
 */
export async function ensureLongRecording(
  name: string,
  options: EnsureLongOptions = {},
): Promise<LongRecording> {
  const dir = options.dir ?? longCorpusDir();
  const sourcePath = join(options.textDir ?? LONG_TEXT_DIR, `${name}.txt`);
  const text = await Deno.readTextFile(sourcePath);
  const espeak = options.espeak ?? await espeakVersion();
  const { voice, speed } = options.voice ?? DEFAULT_LONG_VOICE;
  const key = longCacheKey(text, voice, speed, espeak);
  const stem = longStem(name, { voice, speed });
  const wavPath = join(dir, `${stem}.wav`);
  const textPath = join(dir, `${stem}.txt`);
  const sidecarPath = join(dir, `${stem}.json`);
  if (!options.force) {
    const old = await readSidecar(sidecarPath);
    if (old?.key === key) {
      const wav = await readOrNull(wavPath);
      const ref = await Deno.readTextFile(textPath).catch(() => null);
      if (wav && sha256(wav) === old.wav_sha256 && ref === text) {
        return {
          name,
          wavPath,
          textPath,
          text,
          sidecar: old,
          generated: false,
        };
      }
    }
  }
  const wav = await speakTextFile(sourcePath, voice, speed);
  const info = parseWav(wav);
  const sidecar: LongSidecar = {
    key,
    name,
    voice,
    speed,
    espeak,
    text_sha256: sha256(text),
    wav_sha256: sha256(wav),
    wav_bytes: wav.length,
    sample_rate: info.sampleRate,
    duration_s: info.samples[0]!.length / info.sampleRate,
    words: normalizeWords(text).length,
  };
  await Deno.mkdir(dir, { recursive: true });
  // The sidecar goes last: a crash in between leaves a stale key, never a
  // key that vouches for a half-written WAV.
  await Deno.remove(sidecarPath).catch(() => {});
  await Deno.writeFile(wavPath, wav);
  await Deno.writeTextFile(textPath, text);
  await Deno.writeTextFile(
    sidecarPath,
    `${JSON.stringify(sidecar, null, 2)}\n`,
  );
  return { name, wavPath, textPath, text, sidecar, generated: true };
}

/** Result of {@linkcode checkLongRecording}. */
export interface LongCheck {
  name: string;
  /** "identical", "differs" (bytes) or "missing" (no cached WAV). */
  status: "identical" | "differs" | "missing";
  wav_sha256: string;
}

/**
 * Speaks recording `name` again and compares it with the cached WAV byte
 * for byte, writing nothing.
 * @throws {EspeakMissingError} when espeak-ng is missing.
 */
export async function checkLongRecording(
  name: string,
  options: Pick<EnsureLongOptions, "dir" | "textDir"> = {},
): Promise<LongCheck> {
  const dir = options.dir ?? longCorpusDir();
  const wav = await speakTextFile(
    join(options.textDir ?? LONG_TEXT_DIR, `${name}.txt`),
  );
  const cached = await readOrNull(join(dir, `${name}.wav`));
  const hash = sha256(wav);
  const status = cached === null
    ? "missing"
    : sha256(cached) === hash
    ? "identical"
    : "differs";
  return { name, status, wav_sha256: hash };
}
