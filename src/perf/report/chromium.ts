/**
 * The report page in a headless chromium (Debian's package, installed by
 * `deno task setup` when it can): the DOM after the page's script ran, with
 * the console messages the page printed, and a screenshot of the whole page.
 * Each call starts one browser with a throwaway profile and waits for it
 * to exit.
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { hasCommand } from "../../setup/mod.ts";

/** What a headless chromium gave back. */
export interface ChromiumOutput {
  /** `--dump-dom`'s document; empty for a screenshot. */
  dom: string;
  /** The page's console messages (chromium's `CONSOLE` log lines). */
  console: string[];
}

/** The command names looked for, in order. */
const COMMANDS = ["chromium", "chromium-browser"] as const;

/** The chromium on PATH, undefined when there is none. */
export async function findChromium(): Promise<string | undefined> {
  for (const c of COMMANDS) if (await hasCommand(c)) return c;
  return undefined;
}

/** Options of {@linkcode runChromium}. */
export interface ChromiumOptions {
  /** The browser's command. */
  chromium: string;
  /** Stop the browser after this long. @default 60_000 */
  timeoutMs?: number;
}

/**
 * Loads `htmlPath` in a headless chromium `mode.width` CSS pixels wide:
 * `--dump-dom` returns the document after its scripts ran; a screenshot
 * writes a PNG of the given size.
 * @throws {Error} when chromium exits non-zero or times out, with the tail
 * of its output.
 */
export async function runChromium(
  htmlPath: string,
  mode: { dumpDom: true; width: number } | {
    screenshot: string;
    width: number;
    height: number;
  },
  o: ChromiumOptions,
): Promise<ChromiumOutput> {
  const profile = await Deno.makeTempDir({ prefix: "report-chromium-" });
  try {
    const out = await new Deno.Command(o.chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-breakpad",
        `--user-data-dir=${profile}`,
        // The page's console messages, as INFO:CONSOLE lines on stderr.
        "--enable-logging=stderr",
        "--log-level=0",
        ...("dumpDom" in mode
          ? ["--dump-dom", `--window-size=${mode.width},1000`]
          : [
            `--screenshot=${mode.screenshot}`,
            `--window-size=${mode.width},${mode.height}`,
          ]),
        pathToFileURL(resolve(htmlPath)).href,
      ],
      // Its crash database and toolkit settings go into the throwaway
      // profile too, not into the user's folders; the marker finds its
      // helper processes.
      env: {
        XDG_CONFIG_HOME: profile,
        XDG_CACHE_HOME: profile,
        [MARKER]: profile,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
    }).output();
    await reapHelpers(`${MARKER}=${profile}`);
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) {
      throw new Error(
        `${o.chromium} exited with ${out.code}${
          out.signal ? ` (${out.signal})` : ""
        }: ${stderr.trim().split("\n").slice(-5).join(" | ")}`,
      );
    }
    return {
      dom: "dumpDom" in mode ? new TextDecoder().decode(out.stdout) : "",
      console: stderr.split("\n").filter((l) => /:CONSOLE[:(\]]/.test(l)),
    };
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => undefined);
  }
}

/** The variable that marks the processes of one browser. */
const MARKER = "REPORT_CHROMIUM_PROFILE";

/** Pids of the processes whose environment holds `marker` (`NAME=value`). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const environ = Deno.readTextFileSync(`/proc/${e.name}/environ`);
      if (environ.split("\0").includes(marker)) pids.push(Number(e.name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/**
 * Waits until the browser's helper processes (zygote, renderer, GPU) have
 * exited after it — they follow it within a moment — and kills any still
 * there after 5 s.
 */
async function reapHelpers(marker: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (processesWith(marker).length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const pid of processesWith(marker)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
}

/** What the page's own script reported, read from a dumped DOM. */
export interface RenderCheck {
  /** `<body data-rendered>`: `ok`, `error`, or `no` when the script didn't finish. */
  rendered: string;
  /** The page's height in CSS pixels, when the script measured it. */
  height?: number;
  /** The page's own list of errors (`#report-errors`). */
  errors: string[];
}

/** Reads the page's marker, height and error list from `dom`. */
export function renderCheck(dom: string): RenderCheck {
  const body = /<body([^>]*)>/.exec(dom)?.[1] ?? "";
  const attr = (name: string) =>
    new RegExp(`${name}="([^"]*)"`).exec(body)?.[1];
  const list = /<ul id="report-errors"[^>]*>([\s\S]*?)<\/ul>/.exec(dom)?.[1] ??
    "";
  const height = Number(attr("data-height"));
  return {
    rendered: attr("data-rendered") ?? "no",
    ...(Number.isFinite(height) && height > 0 ? { height } : {}),
    errors: [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1]!),
  };
}
