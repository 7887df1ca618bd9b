/** Helpers for the report's tests: reading tables back out of the HTML. */

/** The cells of every row of the tables in `html` (head rows included), as text. */
export function tableRows(html: string): string[][] {
  const text = (s: string) =>
    s.replace(/<[^>]+>/g, "").replaceAll("&lt;", "<").replaceAll(
      "&quot;",
      '"',
    ).replaceAll("&amp;", "&");
  return [...html.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) =>
      text(c[1]!)
    )
  );
}
