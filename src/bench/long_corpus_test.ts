import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../testing/assert.ts";
import { parseWav } from "../audio/mod.ts";
import { normalizeWords } from "../accuracy/mod.ts";
import {
  checkLongRecording,
  ensureLongRecording,
  EspeakMissingError,
  espeakVersion,
  LONG_RECORDINGS,
  LONG_SAMPLE_RATE,
  LONG_TEXT_DIR,
  longCacheKey,
  longStem,
  parseVoices,
  voiceLabel,
} from "./long_corpus.ts";

/**
 * Reference words of each committed text (≈ 2:00 and ≈ 7:59 at -s 160), as
 * the word error rate counts them: a spoken number is one word ("eighteen
 * seventy-two" is 1872).
 */
const EXPECTED_WORDS: Record<string, number> = { "2min": 331, "8min": 1352 };

Deno.test("long corpus texts exist with the expected word counts, numbers spelled out", async () => {
  for (const name of LONG_RECORDINGS) {
    const text = await Deno.readTextFile(join(LONG_TEXT_DIR, `${name}.txt`));
    assertEquals(normalizeWords(text).length, EXPECTED_WORDS[name], name);
    assert(!/\d/.test(text), `${name}: digits in the text`);
    assert(/[.,?!:;]/.test(text), `${name}: punctuation`);
    assert(text.split(/(?<=[.?!])\s/).length > 15, `${name}: sentences`);
  }
});

Deno.test("longCacheKey changes with the text, voice, speed and espeak-ng version", () => {
  const base = longCacheKey("Hello there.", "en-us", 160, "eSpeak NG 1.51");
  assertEquals(
    longCacheKey("Hello there.", "en-us", 160, "eSpeak NG 1.51"),
    base,
  );
  const variants = [
    longCacheKey("Hello there!", "en-us", 160, "eSpeak NG 1.51"),
    longCacheKey("Hello there.", "en-gb", 160, "eSpeak NG 1.51"),
    longCacheKey("Hello there.", "en-us", 175, "eSpeak NG 1.51"),
    longCacheKey("Hello there.", "en-us", 160, "eSpeak NG 1.52"),
  ];
  assertEquals(new Set([base, ...variants]).size, 5);
});

Deno.test("long corpus generation is deterministic and cached (needs espeak-ng)", async (t) => {
  let espeak: string;
  try {
    espeak = await espeakVersion();
  } catch (error) {
    if (error instanceof EspeakMissingError) {
      console.warn("espeak-ng not installed; determinism not checked");
      return;
    }
    throw error;
  }
  const tmp = await Deno.makeTempDir({ prefix: "long-corpus-test-" });
  try {
    const textDir = join(tmp, "texts");
    const dir = join(tmp, "out");
    await Deno.mkdir(textDir);
    await Deno.writeTextFile(
      join(textDir, "tiny.txt"),
      "The bridge was built in eighteen fifty. It stood for a century.\n",
    );
    const first = await ensureLongRecording("tiny", { dir, textDir, espeak });
    await t.step(
      "writes a 16 kHz mono PCM16 WAV, its text and sidecar",
      async () => {
        assert(first.generated);
        const wav = parseWav(await Deno.readFile(first.wavPath));
        assertEquals(wav.sampleRate, LONG_SAMPLE_RATE);
        assertEquals(wav.samples.length, 1);
        assertEquals(first.sidecar.words, 11); // "eighteen fifty" is one word, 1850
        assert(first.sidecar.duration_s > 2 && first.sidecar.duration_s < 8);
        assertEquals(
          await Deno.readTextFile(first.textPath),
          await Deno.readTextFile(join(textDir, "tiny.txt")),
        );
      },
    );
    await t.step("the same espeak-ng gives the same bytes", async () => {
      assertEquals(
        (await checkLongRecording("tiny", { dir, textDir })).status,
        "identical",
      );
    });
    await t.step("a second call uses the cache", async () => {
      const again = await ensureLongRecording("tiny", { dir, textDir, espeak });
      assert(!again.generated);
      assertEquals(again.sidecar.wav_sha256, first.sidecar.wav_sha256);
    });
    await t.step("a damaged WAV is regenerated to the same bytes", async () => {
      await Deno.writeFile(first.wavPath, new Uint8Array(100));
      const again = await ensureLongRecording("tiny", { dir, textDir, espeak });
      assert(again.generated);
      assertEquals(again.sidecar.wav_sha256, first.sidecar.wav_sha256);
    });
    await t.step(
      "another voice: its own files beside the corpus' own, other speech",
      async () => {
        const gb = await ensureLongRecording("tiny", {
          dir,
          textDir,
          espeak,
          voice: { voice: "en-gb", speed: 180 },
        });
        assert(gb.generated);
        assertEquals(gb.wavPath, join(dir, "tiny@en-gb-180.wav"));
        assertEquals(
          [gb.sidecar.voice, gb.sidecar.speed, gb.sidecar.words],
          ["en-gb", 180, 11],
        );
        assert(gb.sidecar.wav_sha256 !== first.sidecar.wav_sha256);
        assert(gb.sidecar.key !== first.sidecar.key);
        // Faster speech: shorter.
        assert(gb.sidecar.duration_s < first.sidecar.duration_s);
        const own = await ensureLongRecording("tiny", { dir, textDir, espeak });
        assert(!own.generated, "the corpus' own voice is still cached");
        const again = await ensureLongRecording("tiny", {
          dir,
          textDir,
          espeak,
          voice: { voice: "en-gb", speed: 180 },
        });
        assert(!again.generated);
      },
    );
    await t.step(
      "a voice espeak-ng doesn't know fails, naming it",
      async () => {
        const error = await assertRejects(() =>
          ensureLongRecording("tiny", {
            dir,
            textDir,
            espeak,
            voice: { voice: "xx-nosuchvoice", speed: 160 },
          })
        );
        assertMatch(String(error), /-v xx-nosuchvoice/);
      },
    );
    await t.step(
      "a changed text changes the key and the recording",
      async () => {
        await Deno.writeTextFile(
          join(textDir, "tiny.txt"),
          "A different one.\n",
        );
        const changed = await ensureLongRecording("tiny", {
          dir,
          textDir,
          espeak,
        });
        assert(changed.generated);
        assert(changed.sidecar.key !== first.sidecar.key);
        assert(changed.sidecar.wav_sha256 !== first.sidecar.wav_sha256);
      },
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("parseVoices reads VOICE:SPEED lists and names a bad entry", () => {
  assertEquals(parseVoices(""), []);
  assertEquals(parseVoices("en-gb:160, en-us+m3:140,en-gb:160"), [
    { voice: "en-gb", speed: 160 },
    { voice: "en-us+m3", speed: 140 },
  ]);
  for (
    const bad of [
      "en-gb",
      "en-gb:",
      ":160",
      "en gb:160",
      "en-gb:79",
      "en-gb:451",
      "en-gb:16.5",
      "-v:160",
      "en-gb:160:1",
    ]
  ) {
    const error = assertThrows(() => parseVoices(`en-us:180,${bad}`));
    assert(error instanceof RangeError, bad);
    assertMatch(
      error.message,
      new RegExp(`"${bad.trim().replace(/[.+]/g, "\\$&")}"`),
    );
  }
  assertEquals(voiceLabel({ voice: "en-us+m3", speed: 140 }), "en-us+m3:140");
});

Deno.test("longStem keeps the corpus' own voice's names and marks the others", () => {
  assertEquals(longStem("2min", { voice: "en-us", speed: 160 }), "2min");
  assertEquals(
    longStem("2min", { voice: "en-us", speed: 180 }),
    "2min@en-us-180",
  );
  assertEquals(
    longStem("8min", { voice: "en-us+m3", speed: 140 }),
    "8min@en-us+m3-140",
  );
});
