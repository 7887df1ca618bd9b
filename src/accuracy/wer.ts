/**
 * Word error rate: word-level edit distance between a reference transcript
 * and a hypothesis, after lower-casing, dropping punctuation and writing
 * numbers as digits.
 *
 * @module
 */
import { words } from "../../perf/lib/words.js";

/**
 * The words accuracy compares, as the k6 scenarios read them (one
 * normalizer, plain JavaScript so k6 loads it too): lower-case, no
 * punctuation, spoken numbers as digits. "Hello, World!" → ["hello",
 * "world"]; "twelve steps" and "12 steps" → ["12", "steps"].
 */
export function normalizeWords(text: string): string[] {
  return words(text);
}

/**
 * Substitutions + deletions + insertions turning the reference's words into
 * the hypothesis' words (Levenshtein distance over words).
 */
export function wordErrors(reference: string, hypothesis: string): number {
  const ref = normalizeWords(reference);
  const hyp = normalizeWords(hypothesis);
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const cur = [i];
    for (let j = 1; j <= hyp.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[hyp.length]!;
}

/**
 * Corpus word error rate in percent: total word errors over total reference
 * words of `pairs`.
 *
 * @throws {RangeError} when the references hold no words.
 */
export function wordErrorRate(
  pairs: ReadonlyArray<{ reference: string; hypothesis: string }>,
): number {
  let errors = 0;
  let words = 0;
  for (const { reference, hypothesis } of pairs) {
    errors += wordErrors(reference, hypothesis);
    words += normalizeWords(reference).length;
  }
  if (words === 0) throw new RangeError("wordErrorRate: no reference words");
  return (100 * errors) / words;
}
