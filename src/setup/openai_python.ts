/**
 * The official OpenAI Python SDK, pinned, for `examples/openai_python.py`
 * and the test that runs it against the service: pip-installed with its
 * dependencies into `<cache>/pip-openai` (never globally) by the python3 on
 * PATH, the interpreter that then runs it with that folder as PYTHONPATH.
 */
import { join } from "node:path";
import {
  cacheDir,
  pipInstall,
  PipInstallError,
  pythonModuleVersions,
} from "../config/mod.ts";

/** The version of the pip package `openai` the project pins. */
export const OPENAI_PYTHON_VERSION = "3.63.0";
/** The pip requirement. */
export const OPENAI_PYTHON_REQUIREMENT = `openai==${OPENAI_PYTHON_VERSION}`;

/** Folder the SDK is pip-installed into: `<cache>/pip-openai`. */
export function openAiPythonDir(): string {
  return join(cacheDir(), "pip-openai");
}

/** Options of {@linkcode ensureOpenAiPython}. */
export interface OpenAiPythonOptions {
  /** Interpreter that installs (as `<python> -m pip`) and imports it. @default "python3" */
  python?: string;
  /** @default openAiPythonDir() */
  target?: string;
  log?: (line: string) => void;
}

/** The SDK as installed. */
export interface OpenAiPythonInstall {
  /** The PYTHONPATH that makes `import openai` load it. */
  target: string;
  version: string;
  /** True when this call ran pip. */
  installedNow: boolean;
}

/**
 * The version of `openai` that `python` imports from `target`, or null.
 * @param python @default "python3"
 */
export async function openAiPythonVersion(
  target: string = openAiPythonDir(),
  python = "python3",
): Promise<string | null> {
  return (await pythonModuleVersions(["openai"], target, python))?.[0] ?? null;
}

/**
 * Makes sure the pinned SDK imports from `target`, running pip only when
 * it doesn't (or imports another version).
 * @throws {PipInstallError} when Python or pip is missing, pip fails, or the
 *   installed package does not import
 */
export async function ensureOpenAiPython(
  options: OpenAiPythonOptions = {},
): Promise<OpenAiPythonInstall> {
  const python = options.python ?? "python3";
  const target = options.target ?? openAiPythonDir();
  if (await openAiPythonVersion(target, python) === OPENAI_PYTHON_VERSION) {
    return { target, version: OPENAI_PYTHON_VERSION, installedNow: false };
  }
  await pipInstall({
    requirements: [OPENAI_PYTHON_REQUIREMENT],
    target,
    pipCommands: [[python, "-m", "pip"]],
    log: options.log,
  });
  const version = await openAiPythonVersion(target, python);
  if (version !== OPENAI_PYTHON_VERSION) {
    throw new PipInstallError(
      `${OPENAI_PYTHON_REQUIREMENT} installed into ${target} but ${python} ` +
        (version ? `imports openai ${version}` : "cannot import it"),
    );
  }
  return { target, version, installedNow: true };
}
