/** Subtitle timestamps: `HH:MM:SS,mmm` (SRT) and `HH:MM:SS.mmm` (WebVTT). */

/** Formats `seconds` (≥ 0) as `HH:MM:SS<sep>mmm`, rounded to the millisecond. */
export function formatTimestamp(seconds: number, sep: "," | "."): string {
  const total = Math.round(Math.max(0, seconds) * 1000);
  const ms = total % 1000;
  const s = Math.floor(total / 1000) % 60;
  const m = Math.floor(total / 60_000) % 60;
  const h = Math.floor(total / 3_600_000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(h)}:${two(m)}:${two(s)}${sep}${String(ms).padStart(3, "0")}`;
}

/**
 * Reads `HH:MM:SS,mmm` or `HH:MM:SS.mmm` (WebVTT also allows `MM:SS.mmm`)
 * as seconds; throws a `SyntaxError` naming the text otherwise.
 */
export function parseTimestamp(text: string, sep: "," | "."): number {
  const m = sep === ","
    ? /^(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})$/.exec(text)
    : /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/.exec(text);
  if (!m) throw new SyntaxError(`not a timestamp: "${text.slice(0, 40)}"`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) +
    Number(m[4]) / 1000;
}
