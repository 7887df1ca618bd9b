/** Small helpers shared by the hand-written SVG charts of the toolkit. */

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
}

/** A short axis or tooltip label for `v` (3 significant figures or so). */
export function niceNumber(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 100
    ? v.toFixed(0)
    : a >= 10
    ? v.toFixed(1)
    : a >= 1
    ? v.toFixed(2)
    : v.toPrecision(2);
}

/** A step of 1, 2 or 5 × 10^k giving about `count` ticks up to `max`. */
export function tickStep(max: number, count: number): number {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** `t` with as many decimals as the tick step needs. */
export function tickLabel(t: number, step: number): string {
  return t.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}
