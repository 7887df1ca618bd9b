/** Small HTML helpers of the report page's sections. */
import { escapeXml } from "../_svg.ts";

/** Escapes text for HTML content and attribute values. */
export const esc: (s: string) => string = escapeXml;

/** Options of {@linkcode htmlTable}. */
export interface TableOptions {
  /** The table's class. */
  cls?: string;
  /** A class for the row at `i` (0 = the first body row). */
  rowClass?: (i: number) => string | undefined;
  /** Cells that get `class="num"` (right-aligned), by column. */
  numeric?: readonly number[];
}

/** A table of plain-text cells (escaped here). */
export function htmlTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  o: TableOptions = {},
): string {
  const num = new Set(o.numeric ?? []);
  const cell = (tag: string, text: string, i: number) =>
    `<${tag}${num.has(i) ? ' class="num"' : ""}>${esc(text)}</${tag}>`;
  return `<table${o.cls ? ` class="${o.cls}"` : ""}><thead><tr>${
    head.map((h, i) => cell("th", h, i)).join("")
  }</tr></thead><tbody>${
    rows.map((r, ri) => {
      const rc = o.rowClass?.(ri);
      return `<tr${rc ? ` class="${rc}"` : ""}>${
        r.map((c, i) => cell("td", c, i)).join("")
      }</tr>`;
    }).join("")
  }</tbody></table>`;
}
