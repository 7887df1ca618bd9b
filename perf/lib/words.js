/**
 * The words of a transcript as accuracy compares them, and whether a
 * transcript holds a clip's known words. No k6 imports: the k6 scenarios
 * and the Deno side (`src/accuracy/wer.ts`) share this one normalizer.
 *
 * Lower-case, no punctuation, and numbers written one way: spoken numbers
 * become digits ("one hundred and twelve" → "112", "twenty-first" →
 * "21st", "eighteen seventy two" → "1872"), digit groups lose their commas
 * ("1,872" → "1872") and "%" reads "percent" — so "twelve" against "12" is
 * no error, as in the usual way of scoring Whisper.
 */

const UNITS = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS = [
  "",
  "",
  "twenty",
  "thirty",
  "forty",
  "fifty",
  "sixty",
  "seventy",
  "eighty",
  "ninety",
];
const ORDINAL_UNITS = [
  "zeroth",
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
  "eleventh",
  "twelfth",
  "thirteenth",
  "fourteenth",
  "fifteenth",
  "sixteenth",
  "seventeenth",
  "eighteenth",
  "nineteenth",
];
const ORDINAL_TENS = TENS.map((t) => (t ? t.slice(0, -1) + "ieth" : ""));
const SCALES = { thousand: 1e3, million: 1e6, billion: 1e9 };

/** @type {Map<string, {kind: string, value: number, ordinal?: boolean}>} */
const NUMBER_WORDS = new Map();
UNITS.forEach((w, v) => NUMBER_WORDS.set(w, { kind: "small", value: v }));
TENS.forEach((w, v) =>
  w && NUMBER_WORDS.set(w, { kind: "tens", value: 10 * v })
);
ORDINAL_UNITS.forEach((w, v) =>
  NUMBER_WORDS.set(w, { kind: "small", value: v, ordinal: true })
);
ORDINAL_TENS.forEach((w, v) =>
  w && NUMBER_WORDS.set(w, { kind: "tens", value: 10 * v, ordinal: true })
);
NUMBER_WORDS.set("hundred", { kind: "hundred", value: 100 });
NUMBER_WORDS.set("hundredth", { kind: "hundred", value: 100, ordinal: true });
for (const [w, v] of Object.entries(SCALES)) {
  NUMBER_WORDS.set(w, { kind: "scale", value: v });
  NUMBER_WORDS.set(w + "th", { kind: "scale", value: v, ordinal: true });
}

/** 0–9 for "zero" … "nine", else -1. */
function digitWord(word) {
  const d = UNITS.indexOf(word ?? "");
  return d < 10 ? d : -1;
}

/** "st", "nd", "rd" or "th" for `n`: 1st, 12th, 22nd. */
function ordinalSuffix(n) {
  const last2 = n % 100;
  if (last2 >= 11 && last2 <= 13) return "th";
  return ["th", "st", "nd", "rd"][n % 10] ?? "th";
}

/**
 * Reads one spoken number from `w[i]` on; returns its value, whether it was
 * an ordinal, whether it used a scale word (hundred, thousand, …), and the
 * index after it; null when `w[i]` starts none.
 * @param {readonly string[]} w
 * @param {number} i
 */
function readNumber(w, i) {
  let total = 0;
  let current = 0;
  let last = "start";
  let scaled = false;
  let j = i;
  const next = (k) => NUMBER_WORDS.get(w[k] ?? "");
  // "a hundred", "a thousand": "a" counts as one only before a scale word.
  if (w[j] === "a" && ["hundred", "scale"].includes(next(j + 1)?.kind)) {
    current = 1;
    last = "small";
    j++;
  }
  for (; j < w.length; j++) {
    let n = next(j);
    if (!n && w[j] === "and" && (last === "hundred" || last === "scale")) {
      const after = next(j + 1);
      if (after && (after.kind === "small" || after.kind === "tens")) {
        j++;
        n = after;
      }
    }
    if (!n) break;
    if (n.kind === "small" || n.kind === "tens") {
      // "seventy one": a unit after a tens word; otherwise a new number.
      const afterTens = last === "tens" && n.kind === "small" &&
        n.value >= 1 && n.value <= 9;
      if (!afterTens && !["start", "hundred", "scale"].includes(last)) break;
      current += n.value;
      last = n.kind;
    } else if (n.kind === "hundred") {
      if (last === "hundred" || last === "start" || current >= 100) break;
      current = (current || 1) * 100;
      last = "hundred";
      scaled = true;
    } else {
      if (last === "start" || (last === "scale" && current === 0)) break;
      total += (current || 1) * n.value;
      current = 0;
      last = "scale";
      scaled = true;
    }
    if (n.ordinal) {
      j++;
      return { value: total + current, ordinal: true, scaled, end: j };
    }
  }
  if (j === i) return null;
  return { value: total + current, ordinal: false, scaled, end: j };
}

/**
 * `words` with spoken numbers as digits: "one hundred and twelve" → "112",
 * "seventy one" → "71", "third" → "3rd", "eighteen seventy two" → "1872"
 * (two numbers of 10–99 in a row read as a year), "three point five" →
 * "3.5". Words that aren't numbers are kept as they are.
 * @param {readonly string[]} words lower-case words
 * @returns {string[]}
 */
export function spokenNumbersToDigits(words) {
  const out = [];
  let i = 0;
  while (i < words.length) {
    const n = readNumber(words, i);
    if (!n) {
      out.push(words[i]);
      i++;
      continue;
    }
    let text = String(n.value);
    i = n.end;
    const pair = !n.ordinal && !n.scaled && n.value >= 10 && n.value < 100
      ? readNumber(words, i)
      : null;
    if (pair && !pair.scaled && pair.value >= 10 && pair.value < 100) {
      text += String(pair.value);
      i = pair.end;
      if (pair.ordinal) text += ordinalSuffix(pair.value);
    } else if (n.ordinal) {
      text += ordinalSuffix(n.value);
    } else if (words[i] === "point" && digitWord(words[i + 1]) >= 0) {
      text += ".";
      for (i++; digitWord(words[i]) >= 0; i++) text += digitWord(words[i]);
    }
    out.push(text);
  }
  return out;
}

/**
 * Lower-case words without punctuation, numbers as digits:
 * "Hello, World!" → ["hello", "world"]; "Twelve steps." → ["12", "steps"].
 * @param {unknown} text
 * @returns {string[]}
 */
export function words(text) {
  // "Café" → "cafe": letters lose their accents (the class below is a–z);
  // "1,000,000" → "1000000": a comma before a group of three digits goes.
  const plain = String(text || "").normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/(\d),(?=\d{3}(?!\d))/g, "$1");
  return spokenNumbersToDigits(
    plain.replace(/%/g, " percent ").replace(/[^a-z0-9'. ]+/g, " ")
      .split(/\s+/)
      .map((w) => w.replace(/^\.+|\.+$/g, ""))
      .flatMap((w) => (/^\d+\.\d+$/.test(w) ? [w] : w.split(".")))
      .filter((w) => w.length > 0),
  );
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
