/**
 * The accuracy corpus: clips of speech with known text, for word error rate.
 *
 * - `assets/sample` and `assets/clips/01..12`: the committed sample and
 *   twelve short sentences (espeak-ng, en-us+m3);
 * - `assets/corpus/NN`: {@linkcode GENERATED_CLIPS}, made by
 *   `deno task corpus:clips` with espeak-ng in several voices
 *   and speeds, 3–15 words each.
 *
 * Each clip is `<name>.wav.b64` (16 kHz mono PCM16 WAV, base64) beside
 * `<name>.txt` (the sentence spoken).
 *
 * @module
 */
import { loadAssetClip } from "../testing/clips.ts";

/** How one generated clip is spoken. */
export interface GeneratedClip {
  /** File name under `assets/corpus/`, without extension. */
  id: string;
  /** espeak-ng voice, e.g. `en-us+f3` (language + variant). */
  voice: string;
  /** Words per minute (espeak-ng's `-s`; its default is 175). */
  speed: number;
  /** The sentence. No digits or contractions: one spelling per word. */
  text: string;
}

const SENTENCES: readonly [voice: string, speed: number, text: string][] = [
  ["en-us+f3", 160, "Feed the cat."],
  ["en-gb+m1", 170, "It is raining again."],
  ["en-us+m7", 150, "Where did you park the car?"],
  ["en-gb-x-rp+f2", 165, "Lunch will be ready in a few minutes."],
  ["en-us+m1", 180, "He forgot his umbrella at the office yesterday."],
  ["en-gb+f4", 155, "Please send me the report before Friday afternoon."],
  ["en-us+m3", 175, "The bus was late, so I walked to work."],
  [
    "en-us+f1",
    160,
    "Our friends are painting their fence bright green this weekend.",
  ],
  ["en-gb+m3", 170, "Could you turn the music down a little, please?"],
  ["en-us+f3", 185, "I need to buy bread, milk and some eggs."],
  ["en-gb-x-rp+m2", 160, "The meeting has been moved to next Tuesday morning."],
  ["en-us+m7", 165, "She opened the letter and smiled."],
  [
    "en-gb+f3",
    175,
    "We should leave early to avoid the traffic on the bridge.",
  ],
  ["en-us+m2", 150, "The kitchen smells of fresh bread."],
  ["en-us+f4", 170, "My brother is learning to play the guitar."],
  [
    "en-gb+m1",
    160,
    "Do not forget to water the plants while we are away.",
  ],
  ["en-us+m3", 190, "The shop on the corner closes early today."],
  ["en-gb-x-rp+f3", 155, "See you tomorrow."],
  ["en-us+m1", 165, "The dog barked at the postman."],
  ["en-us+f2", 175, "Have you seen my glasses anywhere?"],
  ["en-gb+m7", 160, "It was too cold to swim in the lake."],
  ["en-us+f3", 150, "The library is quiet in the early morning."],
  ["en-gb+f1", 180, "We can meet at the station after work."],
  [
    "en-us+m3",
    165,
    "Please remember to lock the back door when you leave the house.",
  ],
  ["en-gb-x-rp+m1", 170, "The soup needs a little more salt and pepper."],
  [
    "en-us+f1",
    160,
    "My grandmother tells the best stories about her childhood on the farm.",
  ],
  ["en-us+m7", 175, "The flight was delayed because of the heavy snow."],
  ["en-gb+f3", 165, "Everyone clapped when the concert ended."],
  [
    "en-us+m2",
    170,
    "I like to read the newspaper with a cup of tea every morning before work.",
  ],
  [
    "en-gb+m3",
    160,
    "The teacher asked the students to write a short story about their holidays.",
  ],
  ["en-us+f4", 155, "Wash your hands before dinner."],
  ["en-us+m1", 185, "The river was calm and the sky was full of stars."],
  ["en-gb-x-rp+f2", 175, "Could you pass me the salt?"],
  [
    "en-us+f3",
    165,
    "We planted tomatoes, beans and carrots in the garden this spring.",
  ],
  ["en-gb+m1", 150, "The new bakery on the high street sells apple pie."],
  [
    "en-us+m3",
    160,
    "He fixed the broken chair with some glue and a few nails.",
  ],
  [
    "en-gb+f4",
    170,
    "After the long walk, we sat by the fire and drank hot chocolate.",
  ],
  ["en-us+m7", 180, "Turn off the lights."],
  [
    "en-us+f1",
    165,
    "The museum is closed on Mondays, but the park is open all week.",
  ],
  ["en-gb-x-rp+m2", 160, "My sister bought a red bicycle for her birthday."],
];

/** The generated clips, `assets/corpus/01..`, in order. */
export const GENERATED_CLIPS: readonly GeneratedClip[] = SENTENCES.map((
  [voice, speed, text],
  i,
) => ({ id: String(i + 1).padStart(2, "0"), voice, speed, text }));

/** The sample and `clips/01..12`: the corpus before the generated clips. */
export const ORIGINAL_CLIPS: readonly string[] = [
  "sample",
  ...Array.from(
    { length: 12 },
    (_, i) => `clips/${String(i + 1).padStart(2, "0")}`,
  ),
];

/**
 * Every clip of the corpus, as names under `assets/` for
 * `loadAssetClip`: {@linkcode ORIGINAL_CLIPS}, then `corpus/01..`.
 */
export const ACCURACY_CLIPS: readonly string[] = [
  ...ORIGINAL_CLIPS,
  ...GENERATED_CLIPS.map((c) => `corpus/${c.id}`),
];

/** One clip of the corpus, loaded. */
export interface CorpusClip {
  /** Name under `assets/`, e.g. `corpus/07`. */
  name: string;
  /** 16 kHz mono samples. */
  pcm: Float32Array;
  /** The reference text. */
  text: string;
}

/** Loads `names` (default: all of {@linkcode ACCURACY_CLIPS}). */
export async function loadAccuracyCorpus(
  names: readonly string[] = ACCURACY_CLIPS,
): Promise<CorpusClip[]> {
  const out: CorpusClip[] = [];
  for (const name of names) out.push({ name, ...await loadAssetClip(name) });
  return out;
}
