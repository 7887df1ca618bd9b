/**
 * Progress display on stderr: a redrawn bar on a terminal, a line every 10 %
 * otherwise (CI logs stay short).
 */

const encoder = new TextEncoder();

/** A progress bar for one long step. */
export class ProgressBar {
  #lastDecile = -1;
  #tty = Deno.stderr.isTerminal();
  #done = false;

  constructor(readonly label: string) {}

  /** Shows `fraction` (0..1) done, with an optional detail. */
  update(fraction: number, detail = ""): void {
    if (this.#done) return;
    const f = Math.max(
      0,
      Math.min(1, Number.isFinite(fraction) ? fraction : 0),
    );
    const pct = Math.floor(f * 100);
    if (this.#tty) {
      const width = 30;
      const filled = Math.round(f * width);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      const text = `\r${this.label} ${bar} ${
        String(pct).padStart(3)
      }% ${detail}`.slice(0, 120);
      Deno.stderr.writeSync(encoder.encode(text.padEnd(120)));
      return;
    }
    const decile = Math.floor(pct / 10);
    if (decile > this.#lastDecile) {
      this.#lastDecile = decile;
      Deno.stderr.writeSync(
        encoder.encode(`${this.label}: ${pct}% ${detail}\n`),
      );
    }
  }

  /** Ends the bar with a final message. */
  finish(message: string): void {
    if (this.#done) return;
    this.#done = true;
    Deno.stderr.writeSync(
      encoder.encode(
        `${this.#tty ? "\r" : ""}${this.label}: ${message}`.padEnd(
          this.#tty ? 120 : 0,
        ) + "\n",
      ),
    );
  }
}

/** Formats a byte count as MiB with one decimal. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
