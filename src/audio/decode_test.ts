import assert from "node:assert/strict";
import { decodeAudio, measureAudio, probeAudio } from "./decode.ts";
import { encodeWav } from "./encode_wav.ts";
import { parseWav } from "./parse_wav.ts";
import {
  rejectsAudioError,
  sine,
  sineAmplitude,
  zeroCrossingFrequency,
} from "./_testing.ts";

const testdata = new URL("./testdata/", import.meta.url);
const fixture = (name: string) => Deno.readFile(new URL(name, testdata));
const missing = "/nonexistent/bin/ffmpeg";
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("decodeAudio passes 16 kHz mono WAV through unchanged", async () => {
  const wav = encodeWav(sine(440, 16000, 0.5), { sampleRate: 16000 });
  const audio = await decodeAudio(wav);
  assert.equal(audio.format, "wav");
  assert.equal(audio.sampleRate, 16000);
  assert.equal(audio.channels, 1);
  assert.equal(audio.durationS, 0.5);
  assert.deepEqual(audio.samples, parseWav(wav).samples[0]);
});

Deno.test("decodeAudio converts 44.1 kHz stereo WAV to 16 kHz mono", async () => {
  const wav = encodeWav(
    [sine(1000, 44100, 1, 0.6), sine(1000, 44100, 1, 0.2)],
    {
      sampleRate: 44100,
      bitsPerSample: 24,
    },
  );
  const audio = await decodeAudio(wav, { ffmpegPath: missing });
  assert.equal(audio.sampleRate, 44100);
  assert.equal(audio.channels, 2);
  assert.equal(audio.durationS, 1);
  assert.equal(audio.samples.length, 16000);
  assert.ok(Math.abs(sineAmplitude(audio.samples, 800, 15200) - 0.4) < 0.01);
});

Deno.test("decodeAudio decodes compressed formats through ffmpeg", async (t) => {
  // CAF's ALAC packet table comes after the audio: it decodes only from a
  // file ffmpeg can seek in, as M4A does.
  for (const ext of ["flac", "ogg", "mp3", "m4a", "webm", "aiff", "caf"]) {
    await t.step(ext, async () => {
      const audio = await decodeAudio(await fixture(`sine_44k_stereo.${ext}`));
      assert.equal(audio.format, ext);
      assert.equal(audio.channels, 2);
      assert.ok(Math.abs(audio.durationS - 0.5) < 0.06, `${audio.durationS}`);
      assert.equal(audio.durationS, audio.samples.length / 16000);
      const frequency = zeroCrossingFrequency(audio.samples, 16000, 1500, 6500);
      assert.ok(Math.abs(frequency - 1000) < 5, `frequency ${frequency}`);
      // Both channels carry the same 0.5 tone: the down-mix averages them.
      const amplitude = sineAmplitude(audio.samples, 1500, 6500);
      assert.ok(Math.abs(amplitude - 0.5) < 0.05, `amplitude ${amplitude}`);
    });
  }
});

Deno.test("decodeAudio reads telephone WAVs: G.711 in-process, other codecs through ffmpeg", async (t) => {
  const cases: [string, boolean, number][] = [
    // name, decoded without ffmpeg, amplitude tolerance
    ["alaw", true, 0.02],
    ["mulaw", true, 0.02],
    ["ima_adpcm", false, 0.05],
    ["gsm", false, 0.25], // a speech vocoder: the tone's level isn't kept
  ];
  for (const [codec, inProcess, tolerance] of cases) {
    await t.step(codec, async () => {
      const bytes = await fixture(`sine_8k_${codec}.wav`);
      const audio = await decodeAudio(
        bytes,
        inProcess ? { ffmpegPath: missing } : {},
      );
      assert.equal(audio.format, "wav");
      assert.equal(audio.channels, 1);
      assert.equal(audio.sampleRate, 8000);
      assert.ok(Math.abs(audio.durationS - 0.5) < 0.05, `${audio.durationS}`);
      const frequency = zeroCrossingFrequency(audio.samples, 16000, 1500, 6500);
      assert.ok(Math.abs(frequency - 1000) < 5, `frequency ${frequency}`);
      const amplitude = sineAmplitude(audio.samples, 1500, 6500);
      assert.ok(
        Math.abs(amplitude - 0.5) < tolerance,
        `amplitude ${amplitude}`,
      );
      const probe = await probeAudio(bytes);
      assert.equal(probe.durationS === null, !inProcess);
      const measured = await measureAudio(bytes, { limitS: 60 });
      assert.equal(measured.format, "wav");
      assert.ok(
        Math.abs(measured.durationS - 0.5) < 0.05,
        `${measured.durationS}`,
      );
    });
  }
  await t.step(
    "without ffmpeg, an ADPCM WAV is refused naming its codec",
    async () => {
      const bytes = await fixture("sine_8k_ima_adpcm.wav");
      for (const run of [decodeAudio, probeAudio]) {
        const error = await rejectsAudioError(
          run(bytes, { ffmpegPath: missing }),
          "wav_unsupported_format",
          415,
        );
        assert.match(error.message, /format tag 0x0011/);
        assert.match(error.message, /ffmpeg/);
      }
    },
  );
  await t.step(
    "a codec ffmpeg can't decode either: 415 naming the tag",
    async () => {
      // The ADPCM file with its format tag set to one no codec has.
      const bytes = (await fixture("sine_8k_ima_adpcm.wav")).slice();
      new DataView(bytes.buffer).setUint16(20, 0x7777, true);
      for (const run of [decodeAudio, measureAudio]) {
        const error = await rejectsAudioError(
          run(bytes, { limitS: 60 }),
          "wav_unsupported_format",
          415,
        );
        assert.match(error.message, /format tag 0x7777/);
        assert.match(error.message, /ffmpeg could not decode it either/);
      }
    },
  );
});

Deno.test("decodeAudio rejects bad uploads with typed errors", async (t) => {
  const flac = await fixture("sine_44k_stereo.flac");
  const ogg = await fixture("sine_44k_stereo.ogg");
  const twoSeconds = encodeWav(new Float32Array(32000), { sampleRate: 16000 });
  const cases: [string, Uint8Array, object, string, number][] = [
    ["empty", new Uint8Array(0), {}, "audio_empty", 422],
    ["header-only WAV", twoSeconds.slice(0, 44), {}, "audio_empty", 422],
    ["text", text("not audio at all"), {}, "unsupported_audio_format", 415],
    ["PDF", text("%PDF-1.7\n"), {}, "unsupported_audio_format", 415],
    [
      "bad WAV rate",
      twoSeconds.slice().fill(0, 24, 28),
      {},
      "wav_bad_sample_rate",
      422,
    ],
    ["WAV too long", twoSeconds, { maxDurationS: 1.5 }, "audio_too_long", 422],
    ["FLAC too long", flac, { maxDurationS: 0.25 }, "audio_too_long", 422],
    [
      "Ogg without ffmpeg",
      ogg,
      { ffmpegPath: missing },
      "ffmpeg_not_installed",
      415,
    ],
  ];
  for (const [name, bytes, options, code, status] of cases) {
    await t.step(name, async () => {
      await rejectsAudioError(decodeAudio(bytes, options), code, status);
    });
  }
});

Deno.test("probeAudio checks cheaply without decoding", async (t) => {
  await t.step("WAV: header facts and duration", async () => {
    const wav = encodeWav([new Float32Array(22050), new Float32Array(22050)], {
      sampleRate: 44100,
    });
    assert.deepEqual(await probeAudio(wav), {
      format: "wav",
      durationS: 0.5,
      sampleRate: 44100,
      channels: 2,
    });
  });
  await t.step("WAV does not need ffmpeg", async () => {
    const wav = encodeWav(new Float32Array(10), { sampleRate: 16000 });
    const probe = await probeAudio(wav, { ffmpegPath: missing });
    assert.equal(probe.format, "wav");
  });
  await t.step("compressed: sniffed, ffmpeg present", async () => {
    assert.deepEqual(await probeAudio(await fixture("sine_44k_stereo.mp3")), {
      format: "mp3",
      durationS: null,
      sampleRate: null,
      channels: null,
    });
  });
  const ogg = await fixture("sine_44k_stereo.ogg");
  const cases: [string, Uint8Array, object, string, number][] = [
    ["empty", new Uint8Array(0), {}, "audio_empty", 422],
    ["unknown", text("GIF89a"), {}, "unsupported_audio_format", 415],
    ["no ffmpeg", ogg, { ffmpegPath: missing }, "ffmpeg_not_installed", 415],
    [
      "WAV without samples",
      encodeWav(new Float32Array(0), { sampleRate: 16000 }),
      {},
      "audio_empty",
      422,
    ],
    [
      "truncated WAV",
      encodeWav(new Float32Array(10), { sampleRate: 16000 }).slice(0, 30),
      {},
      "wav_truncated",
      422,
    ],
    [
      "WAV too long",
      encodeWav(new Float32Array(16001), { sampleRate: 16000 }),
      { maxDurationS: 1 },
      "audio_too_long",
      422,
    ],
  ];
  for (const [name, bytes, options, code, status] of cases) {
    await t.step(name, async () => {
      await rejectsAudioError(probeAudio(bytes, options), code, status);
    });
  }
});
