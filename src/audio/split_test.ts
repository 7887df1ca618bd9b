import fc from "fast-check";
import { seededRandom as random } from "./_testing.ts";
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../testing/assert.ts";
import { parseWav, toWhisperInput } from "./mod.ts";
import {
  DEFAULT_MAX_PIECE_S,
  type Piece,
  pieceSeconds,
  splitAtPauses,
} from "./split.ts";

const RATE = 16000;
const MAX_LENGTH = DEFAULT_MAX_PIECE_S * RATE;
/** Analysis frame at the default 10 ms: cuts fall in frame middles. */
const FRAME = 160;

const haveEspeak = await new Deno.Command("espeak-ng", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().then((out) => out.success, () => false);

/** Asserts `pieces` cover `n` samples in order, each 1..maxLength long. */
function assertCovers(pieces: Piece[], n: number, maxLength: number): void {
  if (n === 0) return assertEquals(pieces, []);
  assertEquals(pieces[0]!.start, 0);
  assertEquals(pieces.at(-1)!.end, n);
  for (const [i, p] of pieces.entries()) {
    assert(p.end > p.start, `piece ${i} is empty: ${JSON.stringify(p)}`);
    assert(p.end - p.start <= maxLength, `piece ${i} is ${p.end - p.start}`);
    if (i > 0) assertEquals(p.start, pieces[i - 1]!.end);
  }
}

/**
 * The length of the run of exact zeros that holds sample `at`, or starts or
 * ends within one frame of it (a cut falls in a frame's middle).
 */
function zeroRunAround(
  samples: Float32Array,
  at: number,
  frame: number,
): number {
  let from = at;
  while (from > 0 && at - from < frame && samples[from] !== 0) from--;
  if (samples[from] !== 0) {
    from = at;
    while (from < samples.length && from - at < frame && samples[from] !== 0) {
      from++;
    }
  }
  if (samples[from] !== 0) return 0;
  let start = from;
  while (start > 0 && samples[start - 1] === 0) start--;
  let end = from;
  while (end < samples.length && samples[end] === 0) end++;
  return end - start;
}

/** The cuts: every piece end but the last. */
function cutsOf(pieces: Piece[]): number[] {
  return pieces.slice(0, -1).map((p) => p.end);
}

function rms(samples: Float32Array, from: number, to: number): number {
  from = Math.max(0, from);
  to = Math.min(samples.length, to);
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / (to - from));
}

/** Median RMS of the 10 ms frames louder than a tenth of the loudest. */
function loudFrameRms(samples: Float32Array): number {
  const frames: number[] = [];
  for (let i = 0; i < samples.length; i += FRAME) {
    frames.push(rms(samples, i, i + FRAME));
  }
  const loudest = Math.max(...frames);
  const loud = frames.filter((r) => r > loudest / 10).sort((a, b) => a - b);
  return loud[Math.floor(loud.length / 2)]!;
}

interface Span {
  start: number;
  end: number;
}

/** The span of `spans` that holds `at` with `margin` samples to spare. */
function spanHolding(
  spans: Span[],
  at: number,
  margin: number,
): Span | undefined {
  return spans.find((s) => at - s.start >= margin && s.end - at >= margin);
}

/**
 * A "word": a 150 Hz buzz with noise, `seconds` long, with 10 ms ramps.
 */
function word(seconds: number, amplitude: number, next: () => number) {
  const out = new Float32Array(Math.round(seconds * RATE));
  const ramp = RATE / 100;
  for (let i = 0; i < out.length; i++) {
    const envelope = Math.min(1, i / ramp, (out.length - 1 - i) / ramp);
    const tone = Math.sin((2 * Math.PI * 150 * i) / RATE) +
      0.5 * Math.sin((2 * Math.PI * 450 * i) / RATE);
    out[i] = amplitude * envelope * (0.6 * tone + 0.4 * (2 * next() - 1));
  }
  return out;
}

/** Samples built from words and silences, with the silences' spans. */
class Recording {
  readonly parts: Float32Array[] = [];
  readonly silences: Span[] = [];
  length = 0;

  add(part: Float32Array): this {
    this.parts.push(part);
    this.length += part.length;
    return this;
  }

  silence(seconds: number): this {
    const start = this.length;
    this.add(new Float32Array(Math.round(seconds * RATE)));
    this.silences.push({ start, end: this.length });
    return this;
  }

  /** The samples, with white noise of `noise` RMS over everything. */
  samples(noise = 0, seed = 1): Float32Array {
    const out = new Float32Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    if (noise > 0) {
      const next = random(seed);
      const peak = noise * Math.sqrt(3); // uniform noise of RMS `noise`
      for (let i = 0; i < out.length; i++) out[i]! += peak * (2 * next() - 1);
    }
    return out;
  }
}

/**
 * Sentences of 2–6 s of words (0.12–0.5 s) with 40–120 ms word gaps, and
 * sentence gaps of 0.3–1.5 s, up to `seconds`. The sentence gaps are
 * `long`; every silence is in `silences`.
 */
function syntheticSpeech(seconds: number, amplitude: number, seed: number) {
  const next = random(seed);
  const recording = new Recording();
  const long: Span[] = [];
  recording.silence(0.2);
  while (recording.length < seconds * RATE) {
    const sentenceEnd = recording.length + (2 + 4 * next()) * RATE;
    recording.add(word(0.12 + 0.38 * next(), amplitude, next));
    while (recording.length < sentenceEnd) {
      recording.silence(0.04 + 0.08 * next());
      recording.add(word(0.12 + 0.38 * next(), amplitude, next));
    }
    recording.silence(0.3 + 1.2 * next());
    long.push(recording.silences.at(-1)!);
  }
  return { recording, long };
}

/** Speaks `text` with espeak-ng, returned at 16 kHz mono. */
async function speak(text: string, dir: string, name: string) {
  const path = join(dir, `${name}.wav`);
  const child = new Deno.Command("espeak-ng", {
    args: ["-v", "en-us", "-s", "160", "-w", path],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // The text goes through stdin, so no sentence is read as an option.
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const wav = parseWav(await Deno.readFile(path));
  return toWhisperInput(wav.samples, wav.sampleRate);
}

/** `samples` without the near-silence at either end. */
function trimmed(samples: Float32Array): Float32Array {
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]!) <= 0.01) first++;
  let last = samples.length;
  while (last > first && Math.abs(samples[last - 1]!) <= 0.01) last--;
  return samples.subarray(first, last);
}

const PARAGRAPHS = [
  "The harbour town woke slowly on winter mornings. Fishing boats rocked " +
  "against the stone wall while gulls argued over the nets. By eight o'clock " +
  "the bakery had opened, and the smell of warm bread drifted down to the " +
  "water. Old Martin sat on his bench and counted the boats going out, as he " +
  "had done every day for forty years.",
  "Nobody remembered when the lighthouse had last been painted. Its red " +
  "stripes had faded to the colour of dry clay, and the iron railing at the " +
  "top was brown with rust. Still, every evening the lamp turned on at dusk, " +
  "sweeping its long white arm across the bay. Sailors said they could see " +
  "it from twenty miles away on a clear night.",
  "In the spring a young engineer arrived with a leather bag and a folder of " +
  "drawings. She walked the length of the harbour twice, measuring the wall " +
  "and writing numbers in a small notebook. The children followed her at a " +
  "distance, curious but too shy to ask questions. At the end of the week she " +
  "called a meeting in the village hall.",
  "The plan was simple. A new wall would be built beyond the old one, and the " +
  "harbour would be deep enough for larger ships. Some people cheered, and " +
  "others shook their heads and muttered about the cost. Martin listened " +
  "without a word. When the meeting ended, he walked home along the shore and " +
  "watched the lamp begin to turn.",
  "Work began in the summer. Trucks carried rock from the quarry on the hill, " +
  "and a crane stood over the water like a tall grey bird. The noise was " +
  "terrible at first, but the town grew used to it. By autumn the new wall " +
  "reached halfway across the bay, and the fishermen admitted that the " +
  "water inside was calmer than it had ever been.",
];

Deno.test({
  name: "splitAtPauses cuts espeak-ng speech only in pauses",
  ignore: !haveEspeak,
  async fn(t) {
    if (!haveEspeak) console.warn("espeak-ng is not installed: skipped");
    const dir = await Deno.makeTempDir({ prefix: "split-test-" });
    try {
      await t.step("a long reading: quiet around every cut", async () => {
        const speech = await speak(PARAGRAPHS.join("\n\n"), dir, "reading");
        const seconds = speech.length / RATE;
        assert(seconds > 90 && seconds < 150, `${seconds} s of speech`);
        const pieces = splitAtPauses(speech);
        assertCovers(pieces, speech.length, MAX_LENGTH);
        assert(pieces.length >= 4, `${pieces.length} pieces`);
        const loud = loudFrameRms(speech);
        for (const cut of cutsOf(pieces)) {
          const around = rms(speech, cut - 800, cut + 800); // ±50 ms
          assert(
            around < 0.02 * loud,
            `cut at ${cut / RATE} s: RMS ${around} vs loud frames ${loud}`,
          );
        }
      });

      await t.step(
        "sentences with known gaps: every cut in a gap",
        async () => {
          const sentences = PARAGRAPHS.join(" ").replaceAll(",", "")
            .split(/(?<=\.) /);
          assert(sentences.length > 20, `${sentences.length} sentences`);
          const spoken = await Promise.all(
            sentences.map((s, i) => speak(s, dir, `sentence${i}`)),
          );
          const gaps = [0.4, 0.7, 1.0, 0.5, 1.5, 0.35];
          const recording = new Recording().silence(0.3);
          for (const [i, speech] of spoken.entries()) {
            recording.add(trimmed(speech)).silence(gaps[i % gaps.length]!);
          }
          const samples = recording.samples();
          const pieces = splitAtPauses(samples);
          assertCovers(pieces, samples.length, MAX_LENGTH);
          assert(pieces.length >= 4, `${pieces.length} pieces`);
          for (const cut of cutsOf(pieces)) {
            assert(
              spanHolding(recording.silences, cut, 0.1 * RATE),
              `cut at ${cut / RATE} s is not 0.1 s inside a gap`,
            );
          }
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("splitAtPauses cuts synthetic speech in sentence gaps at any level and noise", async (t) => {
  const cases = [
    { name: "clean", amplitude: 0.5, noise: 0 },
    { name: "quiet recording", amplitude: 0.003, noise: 0 },
    { name: "loud recording", amplitude: 0.95, noise: 0 },
    { name: "background noise at -30 dB", amplitude: 0.3, noise: 0.006 },
    { name: "background noise at -15 dB", amplitude: 0.3, noise: 0.035 },
    { name: "quiet and noisy", amplitude: 0.01, noise: 0.0005 },
  ];
  for (const [seed, { name, amplitude, noise }] of cases.entries()) {
    await t.step(name, () => {
      const { recording, long } = syntheticSpeech(200, amplitude, seed + 1);
      const samples = recording.samples(noise, seed + 100);
      const pieces = splitAtPauses(samples);
      assertCovers(pieces, samples.length, MAX_LENGTH);
      assert(pieces.length >= 7, `${pieces.length} pieces`);
      for (const cut of cutsOf(pieces)) {
        // Every window holds sentence gaps (>= 0.3 s), each more than twice
        // as long as a word gap (<= 0.12 s): the cut is in one of them.
        assert(
          spanHolding(long, cut, 0.1 * RATE),
          `cut at ${cut / RATE} s is not 0.1 s inside a sentence gap`,
        );
      }
    });
  }
});

Deno.test("splitAtPauses prefers a late pause unless an earlier one is clearly longer", async (t) => {
  /** 45 s of words with 60 ms gaps, and the given pauses (start, length). */
  function withPauses(pauses: [number, number][]) {
    const next = random(7);
    const recording = new Recording();
    const found: Span[] = [];
    for (const [at, seconds] of pauses) {
      while (recording.length < at * RATE) {
        recording.add(word(0.2 + 0.2 * next(), 0.5, next)).silence(0.06);
      }
      recording.silence(seconds);
      found.push(recording.silences.at(-1)!);
    }
    while (recording.length < 45 * RATE) {
      recording.add(word(0.2 + 0.2 * next(), 0.5, next)).silence(0.06);
    }
    const pieces = splitAtPauses(recording.samples());
    assertCovers(pieces, recording.length, MAX_LENGTH);
    assertEquals(pieces.length, 2);
    return { cut: pieces[0]!.end, pauses: found };
  }

  await t.step("a 1 s pause at 21 s beats a 0.15 s one at 27 s", () => {
    const { cut, pauses } = withPauses([[21, 1], [27, 0.15]]);
    assert(spanHolding([pauses[0]!], cut, 0.25 * RATE), `cut ${cut / RATE}`);
  });

  await t.step("a 0.3 s pause at 27 s beats a 1 s one at 21 s", () => {
    const { cut, pauses } = withPauses([[21, 1], [27, 0.3]]);
    assert(spanHolding([pauses[1]!], cut, 0.1 * RATE), `cut ${cut / RATE}`);
  });

  await t.step(
    "of two long pauses the later wins, 0.25 s before its end",
    () => {
      // Under 2 s: a longer pause is a gap (step 5, tested below).
      const { cut, pauses } = withPauses([[21, 0.8], [26, 1.9]]);
      const late = pauses[1]!;
      assert(spanHolding([late], cut, 0.25 * RATE), `cut ${cut / RATE}`);
      assert(late.end - cut <= 0.25 * RATE + FRAME, `cut ${cut / RATE}`);
    },
  );

  await t.step("by default no piece is under two thirds of the longest", () => {
    // Window [20 s, 30 s]: the 1 s pause at 17 s is out of it.
    const { cut, pauses } = withPauses([[17, 1], [27, 0.15]]);
    assert(spanHolding([pauses[1]!], cut, 0.05 * RATE), `cut ${cut / RATE}`);
  });

  await t.step("the minimum length wins over an earlier, longer pause", () => {
    // A 1.9 s pause at 10 s is before minPieceS (20 s): out of the window.
    const { cut, pauses } = withPauses([[10, 1.9], [20, 0.2]]);
    assert(spanHolding([pauses[1]!], cut, 0.05 * RATE), `cut ${cut / RATE}`);
  });
});

Deno.test("splitAtPauses cuts silence and steady sound near the longest piece, deterministically", async (t) => {
  const next = random(3);
  const noise = (seconds: number, amplitude: number) =>
    Float32Array.from(
      { length: seconds * RATE },
      () => amplitude * (2 * next() - 1),
    );
  const cases: [string, Float32Array][] = [
    ["100 s of zeros", new Float32Array(100 * RATE)],
    ["100 s of very low noise", noise(100, 1e-4)],
    [
      "95 s of a 440 Hz sine",
      Float32Array.from(
        { length: 95 * RATE },
        (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / RATE),
      ),
    ],
    ["100 s of loud white noise", noise(100, 0.8)],
  ];
  for (const [name, samples] of cases) {
    await t.step(name, () => {
      const pieces = splitAtPauses(samples);
      assertCovers(pieces, samples.length, MAX_LENGTH);
      assertEquals(pieces.length, 4);
      for (const p of pieces.slice(0, -1)) {
        // Cuts fall in frame middles: at most one frame short of the max.
        assert(p.end - p.start > MAX_LENGTH - FRAME, JSON.stringify(p));
      }
      assertEquals(splitAtPauses(samples.slice()), pieces);
    });
  }
});

Deno.test("splitAtPauses cuts a gap at both ends, so no piece holds seconds of it beside speech", async (t) => {
  /** Speech, a gap of `gap` (silence, then low noise), speech again. */
  function meeting(silenceS: number, noiseS: number, noise: number) {
    const next = random(5);
    const recording = new Recording();
    const talk = (seconds: number) => {
      const until = recording.length + seconds * RATE;
      while (recording.length < until) {
        recording.add(word(0.2 + 0.2 * next(), 0.5, next)).silence(0.08);
      }
    };
    talk(20);
    const speechEnd = recording.length - 0.08 * RATE;
    recording.silence(silenceS);
    const quiet = new Float32Array(Math.round(noiseS * RATE)).map(() =>
      noise * (2 * next() - 1)
    );
    recording.add(quiet);
    const speechStart = recording.length;
    talk(20);
    return { samples: recording.samples(), speechEnd, speechStart };
  }
  const cases: [string, number, number, number][] = [
    // name, silence s, noise s, noise peak (−54 dBFS: a room 40 dB under speech)
    ["45 s of silence, then 20 s of low noise", 45, 20, 0.002],
    ["a 3 s silence", 3, 0, 0],
    ["8 s of low noise", 0, 8, 0.002],
  ];
  for (const [name, silenceS, noiseS, noise] of cases) {
    await t.step(name, () => {
      const { samples, speechEnd, speechStart } = meeting(
        silenceS,
        noiseS,
        noise,
      );
      for (const maxPieceS of [15, 30]) {
        const pieces = splitAtPauses(samples, { maxPieceS });
        assertCovers(pieces, samples.length, maxPieceS * RATE);
        const cuts = cutsOf(pieces);
        // 0.25 s after the speech stops, and 0.25 s before it resumes.
        assert(
          cuts.some((c) => Math.abs(c - (speechEnd + 0.25 * RATE)) <= FRAME),
          `${maxPieceS} s: no cut 0.25 s into the gap: ${
            cuts.map((c) => c / RATE)
          }`,
        );
        assert(
          cuts.some((c) => Math.abs(c - (speechStart - 0.25 * RATE)) <= FRAME),
          `${maxPieceS} s: no cut 0.25 s before the speech: ${
            cuts.map((c) => c / RATE)
          }`,
        );
        // Every piece inside the gap is gap only.
        for (const p of pieces) {
          if (p.start >= speechEnd && p.end <= speechStart) continue;
          const inGap = Math.max(
            0,
            Math.min(p.end, speechStart) - Math.max(p.start, speechEnd),
          );
          assert(
            inGap <= 0.26 * RATE,
            `piece ${p.start / RATE}–${p.end / RATE} holds ${
              inGap / RATE
            } s of the gap`,
          );
        }
      }
    });
  }
  await t.step("a recording's opening quiet stays with its first words", () => {
    const { recording } = syntheticSpeech(60, 0.5, 11);
    const speech = recording.samples();
    const opened = new Float32Array(5 * RATE + speech.length);
    opened.set(speech, 5 * RATE);
    const pieces = splitAtPauses(opened);
    assert(pieces[0]!.end > 6 * RATE, `first cut ${pieces[0]!.end / RATE}`);
  });
});

Deno.test("splitAtPauses handles lengths around maxPieceS", () => {
  assertEquals(splitAtPauses(new Float32Array(0)), []);
  assertEquals(splitAtPauses(new Float32Array(10 * RATE)), [
    { start: 0, end: 10 * RATE },
  ]);
  assertEquals(splitAtPauses(new Float32Array(MAX_LENGTH)), [
    { start: 0, end: MAX_LENGTH },
  ]);
  const over = splitAtPauses(new Float32Array(MAX_LENGTH + 1));
  assertEquals(over.length, 2);
  assertCovers(over, MAX_LENGTH + 1, MAX_LENGTH);
  const one = splitAtPauses(new Float32Array(1), { maxPieceS: 1 / RATE });
  assertEquals(one, [{ start: 0, end: 1 }]);
  const samples = splitAtPauses(new Float32Array(5), { maxPieceS: 2 / RATE });
  assertCovers(samples, 5, 2);
});

Deno.test("splitAtPauses honours a custom maxPieceS and minPieceS", () => {
  const { recording } = syntheticSpeech(60, 0.5, 11);
  const samples = recording.samples();
  const pieces = splitAtPauses(samples, { maxPieceS: 10 });
  assertCovers(pieces, samples.length, 10 * RATE);
  assert(pieces.length >= 6, `${pieces.length} pieces`);
  for (const p of pieces.slice(0, -1)) {
    const min = Math.round((10 * 2 / 3) * RATE);
    assert(p.end - p.start >= min, `default minPieceS: ${p.end}`);
    // A 3.3 s window need not hold a sentence's end: any pause will do.
    const pauses = recording.silences;
    assert(spanHolding(pauses, p.end, 0.02 * RATE), `cut ${p.end / RATE}`);
  }
  const tight = splitAtPauses(samples, { maxPieceS: 10, minPieceS: 9 });
  for (const p of tight.slice(0, -1)) {
    const length = p.end - p.start;
    assert(length >= 9 * RATE && length <= 10 * RATE, `${length}`);
  }
  const at8k = splitAtPauses(samples.filter((_, i) => i % 2 === 0), {
    sampleRate: 8000,
    frameMs: 20,
  });
  assertCovers(at8k, Math.ceil(samples.length / 2), 30 * 8000);
  assertEquals(pieceSeconds({ start: 8000, end: 24000 }), {
    start_s: 0.5,
    end_s: 1.5,
  });
  assertEquals(pieceSeconds({ start: 8000, end: 24000 }, 8000), {
    start_s: 1,
    end_s: 3,
  });
});

Deno.test("splitAtPauses rejects bad options with a RangeError naming the option", async (t) => {
  const samples = new Float32Array(100);
  const cases: [string, Parameters<typeof splitAtPauses>[1]][] = [
    ["maxPieceS", { maxPieceS: 0 }],
    ["maxPieceS", { maxPieceS: -5 }],
    ["maxPieceS", { maxPieceS: NaN }],
    ["maxPieceS", { maxPieceS: Infinity }],
    ["maxPieceS", { maxPieceS: 1e-6 }], // under one sample
    ["minPieceS", { minPieceS: 31 }],
    ["minPieceS", { maxPieceS: 10, minPieceS: 10.5 }],
    ["minPieceS", { minPieceS: -1 }],
    ["minPieceS", { minPieceS: NaN }],
    ["sampleRate", { sampleRate: 0 }],
    ["sampleRate", { sampleRate: NaN }],
    ["frameMs", { frameMs: 0 }],
    ["frameMs", { frameMs: -10 }],
  ];
  for (const [option, options] of cases) {
    const label = Object.entries(options ?? {}).map(([k, v]) => `${k}=${v}`);
    await t.step(`${option}: ${label.join(", ")}`, () => {
      const error = assertThrows(() => splitAtPauses(samples, options));
      assert(error instanceof RangeError, String(error));
      assertMatch(error.message, new RegExp(`\\b${option}\\b`));
    });
  }
});

Deno.test("splitAtPauses always covers the input with pieces within the limits", () => {
  fc.assert(
    fc.property(
      fc.record({
        length: fc.integer({ min: 0, max: 60_000 }),
        sampleRate: fc.integer({ min: 1000, max: 48_000 }),
        maxPieceS: fc.double({ min: 1e-3, max: 20, noNaN: true }),
        minFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        frameMs: fc.double({ min: 0.1, max: 50, noNaN: true }),
        kind: fc.constantFrom("zeros", "noise", "bursts", "sine"),
        seed: fc.integer(),
      }),
      ({ length, sampleRate, maxPieceS, minFraction, frameMs, kind, seed }) => {
        const next = random(seed);
        const samples = new Float32Array(length);
        let on = next() < 0.5;
        for (let i = 0; i < length; i++) {
          if (next() < 2e-4) on = !on;
          if (kind === "noise") samples[i] = 2 * next() - 1;
          if (kind === "bursts" && on) samples[i] = 0.5 * (2 * next() - 1);
          if (kind === "sine") samples[i] = Math.sin(i / 7);
        }
        const minPieceS = maxPieceS * minFraction;
        const options = { sampleRate, maxPieceS, minPieceS, frameMs };
        const pieces = splitAtPauses(samples, options);
        const maxLength = Math.round(maxPieceS * sampleRate);
        assertCovers(pieces, length, maxLength);
        // Shorter than minPieceS only when cut at a gap's edge (step 5), and
        // never under 0.25 s. A gap is 2 s or more of quiet: between bursts
        // (exact zeros), or steady noise, quiet by the piece's own threshold
        // (step 1) until a louder stretch "resumes". A steady sine or silence
        // never resumes, so it has no gap edges.
        const minLength = Math.round(minPieceS * sampleRate);
        const frame = Math.max(1, Math.round((frameMs * sampleRate) / 1000));
        const quarter = Math.max(1, Math.round(250 / frameMs)) * frame;
        for (const p of pieces.slice(0, -1)) {
          if (p.end - p.start >= minLength) continue;
          const at = `piece ${JSON.stringify(p)} (minimum ${minLength})`;
          assert(kind === "bursts" || kind === "noise", `${kind}: ${at}`);
          assert(p.end - p.start >= quarter, `${at}: under 0.25 s`);
          // Near a silence between bursts, the cut lies inside it.
          const near = samples.subarray(
            Math.max(0, p.end - 2 * sampleRate),
            p.end + 2 * sampleRate,
          );
          if (kind === "bursts" && near.includes(0)) {
            // A gap as the splitter counts it (2 s in whole frames), less
            // its edge frames, which may hold a few quiet burst samples.
            const gap = Math.max(1, Math.round(2000 / frameMs)) * frame;
            const edges = Math.max(3 * frame, Math.round(0.005 * sampleRate));
            const pause = zeroRunAround(samples, p.end, frame);
            assert(pause >= gap - edges, `${at}: pause ${pause} < ${gap}`);
          }
        }
        assertEquals(splitAtPauses(samples, options), pieces);
      },
    ),
    {
      numRuns: 300,
      // Short pieces at a gap's edge: found by CI (bursts), by a run of
      // 30,000 (steady noise), and by a test run (a gap of 2 s less a
      // sample in whole frames, with one quiet burst sample at its edge).
      examples: [[{
        length: 2606,
        sampleRate: 1000,
        maxPieceS: 0.4515,
        minFraction: 0.6766334440753045,
        frameMs: 4.711425206124853,
        kind: "bursts" as const,
        seed: -216424992,
      }], [{
        length: 8730,
        sampleRate: 3141,
        maxPieceS: 0.7171283030881884,
        minFraction: 0.4956714761376249,
        frameMs: 1.7510347023241006,
        kind: "noise" as const,
        seed: 987009050,
      }], [{
        length: 12576,
        sampleRate: 4825,
        maxPieceS: 0.4284974093264253,
        minFraction: 0.9999999999999988,
        frameMs: 0.2073075926405805,
        kind: "bursts" as const,
        seed: 344235124,
      }]],
    },
  );
});
