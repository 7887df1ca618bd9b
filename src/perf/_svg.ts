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
