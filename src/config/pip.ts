/**
 * Project-local Python packages: `pip install --target <folder>` under the
 * cache (never globally), and asking an interpreter which versions such a
 * folder holds. Used by the offline model import, the faster-whisper peer
 * and setup's OpenAI Python SDK.
 */

/** pip could not be run, or it failed. */
export class PipInstallError extends Error {
  /** True when no pip command could be started (Python or pip missing). */
  readonly pipMissing: boolean;

  /** @param options `cause`: the underlying error; `pipMissing` @default false */
  constructor(
    message: string,
    options: ErrorOptions & { pipMissing?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "PipInstallError";
    this.pipMissing = options.pipMissing ?? false;
  }
}

/** What to install, and where. */
export interface PipTarget {
  /** Requirements, e.g. `["openai==3.63.0"]`. */
  requirements: string[];
  /** The `--target` folder (the PYTHONPATH of whatever uses the packages). */
  target: string;
  /** Install only the requirements, not their dependencies. @default false */
  noDeps?: boolean;
}

/** Options of {@linkcode pipInstall}. */
export interface PipInstallOptions extends PipTarget {
  /**
   * pip commands tried in order; the first one that starts is used (a
   * command that starts and fails is not followed by the next).
   * @default [["python3", "-m", "pip"]]
   */
  pipCommands?: string[][];
  /** Receives the command line before it runs. */
  log?: (line: string) => void;
}

/** The arguments after the pip command: `install --target … <requirements>`. */
export function pipInstallArgs(what: PipTarget): string[] {
  return [
    "install",
    "--target",
    what.target,
    "--upgrade",
    "--disable-pip-version-check",
    "--no-input",
    ...(what.noDeps ? ["--no-deps"] : []),
    ...what.requirements,
  ];
}

/**
 * Runs `pip install --target` for the requirements.
 * @returns the command line that ran
 * @throws {PipInstallError} when no pip command starts (`pipMissing`) or pip
 *   exits with an error (the message ends with the last lines of its stderr)
 */
export async function pipInstall(options: PipInstallOptions): Promise<string> {
  const args = pipInstallArgs(options);
  const candidates = options.pipCommands ?? [["python3", "-m", "pip"]];
  for (const command of candidates) {
    const commandLine = [...command, ...args].join(" ");
    options.log?.(`running ${commandLine}`);
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(command[0]!, {
        args: [...command.slice(1), ...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    if (!out.success) {
      const tail = new TextDecoder().decode(out.stderr).trim().split("\n")
        .slice(-5).join("\n");
      throw new PipInstallError(
        `${commandLine} failed (exit ${out.code}): ${tail}`,
      );
    }
    return commandLine;
  }
  throw new PipInstallError(
    `cannot install ${options.requirements.join(" ")}: pip not found (tried ${
      candidates.map((c) => c.join(" ")).join(", ")
    }); install Python 3 with pip`,
    { pipMissing: true },
  );
}

/**
 * The `__version__` of each module as `python` imports it with `target` on
 * its PYTHONPATH; null when Python is missing or any import fails.
 * @param python the interpreter @default "python3"
 */
export async function pythonModuleVersions(
  modules: string[],
  target: string,
  python = "python3",
): Promise<string[] | null> {
  try {
    const out = await new Deno.Command(python, {
      args: [
        "-c",
        "import importlib, json, sys; print(json.dumps(" +
        "[str(importlib.import_module(m).__version__) for m in sys.argv[1:]]))",
        ...modules,
      ],
      env: { PYTHONPATH: target },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return null;
    const versions = JSON.parse(new TextDecoder().decode(out.stdout));
    return Array.isArray(versions) && versions.length === modules.length
      ? versions.map(String)
      : null;
  } catch {
    return null;
  }
}
