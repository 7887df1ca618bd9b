/**
 * Accuracy of a transcript against the sample's known text: lower-case words
 * without punctuation, every expected word present. No k6 imports, so the
 * Deno tests import it too.
 */

/**
 * Lower-case words without punctuation.
 * @param {unknown} text
 * @returns {string[]}
 */
export function words(text) {
  return String(text || "").toLowerCase().replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/).filter((w) => w.length > 0);
}

/**
 * Whether `transcript` has every word of `expected` (a list from
 * {@linkcode words}).
 * @param {readonly string[]} expected
 * @param {unknown} transcript
 * @returns {boolean}
 */
export function hasExpectedWords(expected, transcript) {
  const got = words(transcript);
  return expected.every((w) => got.includes(w));
}
