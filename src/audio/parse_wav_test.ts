import assert from "node:assert/strict";
import { InvalidAudioError } from "../errors/mod.ts";
import { parseWav, readWavHeader } from "./parse_wav.ts";
import { encodeWav } from "./encode_wav.ts";
import { seededRandom, sine, throwsAudioError } from "./_testing.ts";

/** A ramp from -1 to just under 1, exercising the full range. */
function ramp(length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = -1 + (2 * i) / length;
  return out;
}

/** A copy of `bytes` changed by `edit`. */
function patched(
  bytes: Uint8Array,
  edit: (view: DataView, bytes: Uint8Array) => void,
): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function chunk(id: string, body: Uint8Array, size = body.length): Uint8Array {
  const header = new Uint8Array(8);
  header.set(ascii(id));
  new DataView(header.buffer).setUint32(4, size, true);
  const pad = body.length & 1 ? new Uint8Array(1) : new Uint8Array(0);
  return concat(header, body, pad);
}

/** RIFF/WAVE around the given chunks, with a correct RIFF size. */
function riff(...chunks: Uint8Array[]): Uint8Array {
  const body = concat(ascii("WAVE"), ...chunks);
  return concat(chunk("RIFF", body));
}

/** The fmt and data chunks of a canonical 16-bit file. */
function canonicalChunks(
  samples = ramp(8),
): { fmt: Uint8Array; data: Uint8Array } {
  const wav = encodeWav(samples, { sampleRate: 16000 });
  return { fmt: wav.slice(12, 36), data: wav.slice(36) };
}

const stereo16 = encodeWav([ramp(100), sine(1000, 16000, 100 / 16000)], {
  sampleRate: 16000,
});

Deno.test("parseWav decodes every supported sample format", async (t) => {
  const input = ramp(256);
  const cases: { bits: number; format: "pcm" | "float"; tolerance: number }[] =
    [
      { bits: 8, format: "pcm", tolerance: 1 / 128 },
      { bits: 16, format: "pcm", tolerance: 1 / 32768 },
      { bits: 24, format: "pcm", tolerance: 1 / 8388608 },
      { bits: 32, format: "pcm", tolerance: 1e-7 },
      { bits: 32, format: "float", tolerance: 0 },
      { bits: 64, format: "float", tolerance: 0 },
    ];
  for (const extensible of [false, true]) {
    for (const { bits, format, tolerance } of cases) {
      const name = `${bits}-bit ${format}${extensible ? " extensible" : ""}`;
      await t.step(name, () => {
        const wav = parseWav(
          encodeWav(input, {
            sampleRate: 22050,
            bitsPerSample: bits,
            format,
            extensible,
          }),
        );
        assert.equal(wav.sampleRate, 22050);
        assert.equal(wav.channels, 1);
        assert.equal(wav.bitsPerSample, bits);
        assert.equal(wav.format, format);
        assert.equal(wav.frames, input.length);
        assert.equal(wav.clamped, false);
        assert.equal(wav.samples.length, 1);
        const out = wav.samples[0]!;
        assert.equal(out.length, input.length);
        for (let i = 0; i < input.length; i++) {
          assert.ok(
            Math.abs(out[i]! - input[i]!) <= tolerance + 1e-9,
            `sample ${i}: ${out[i]} vs ${input[i]}`,
          );
        }
        assert.equal(out[0], -1); // full negative scale
      });
    }
  }
});

/** An 8 kHz mono WAV of G.711 `tag` (6 A-law, 7 µ-law) holding `codes`. */
function g711Wav(tag: number, codes: Uint8Array, extensible = false) {
  const wav = encodeWav(new Float32Array(codes.length), {
    sampleRate: 8000,
    bitsPerSample: 8,
    extensible,
  });
  new DataView(wav.buffer).setUint16(extensible ? 44 : 20, tag, true);
  wav.set(codes, wav.length - codes.length);
  return wav;
}

Deno.test("parseWav decodes G.711 A-law and µ-law as ffmpeg does, all 256 codes", async (t) => {
  const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const [law, tag] of [["alaw", 6], ["mulaw", 7]] as const) {
    for (const extensible of [false, true]) {
      await t.step(`${law}${extensible ? " extensible" : ""}`, async () => {
        const bytes = g711Wav(tag, codes, extensible);
        const wav = parseWav(bytes);
        assert.equal(wav.format, law);
        assert.equal(wav.bitsPerSample, 8);
        assert.equal(wav.frames, 256);
        // ffmpeg's own G.711 decoder, to 16-bit samples at the same rate.
        const child = new Deno.Command("ffmpeg", {
          args: ["-hide_banner", "-loglevel", "error", "-i", "pipe:0"]
            .concat(["-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"]),
          stdin: "piped",
          stdout: "piped",
          stderr: "inherit",
        }).spawn();
        const writer = child.stdin.getWriter();
        await writer.write(bytes);
        await writer.close();
        const out = await child.output();
        assert.ok(out.success, "ffmpeg decoded the file");
        const reference = new Int16Array(
          out.stdout.buffer,
          out.stdout.byteOffset,
          256,
        );
        const ours = Array.from(wav.samples[0]!, (v) => v * 32768);
        assert.deepEqual(ours, Array.from(reference));
      });
    }
  }
  await t.step("the ends of each scale", () => {
    const mulaw = parseWav(g711Wav(7, Uint8Array.of(0x00, 0x80, 0xff, 0x7f)));
    assert.deepEqual(
      Array.from(mulaw.samples[0]!, (v) => v * 32768),
      [-32124, 32124, 0, 0],
    );
    const alaw = parseWav(g711Wav(6, Uint8Array.of(0x2a, 0xaa, 0xd5, 0x55)));
    assert.deepEqual(
      Array.from(alaw.samples[0]!, (v) => v * 32768),
      [-32256, 32256, 8, -8],
    );
  });
});

Deno.test("parseWav keeps stereo channels apart (planar output)", () => {
  const wav = parseWav(stereo16);
  assert.equal(wav.channels, 2);
  assert.equal(wav.frames, 100);
  assert.equal(wav.samples.length, 2);
  assert.ok(Math.abs(wav.samples[0]![10]! - ramp(100)[10]!) < 1e-4);
  const tone = sine(1000, 16000, 100 / 16000);
  assert.ok(Math.abs(wav.samples[1]![10]! - tone[10]!) < 1e-4);
});

Deno.test("parseWav accepts up to 8 channels", () => {
  const channels = Array.from({ length: 8 }, (_, c) => ramp(10).fill(c / 10));
  const wav = parseWav(encodeWav(channels, { sampleRate: 48000 }));
  assert.equal(wav.channels, 8);
  assert.ok(Math.abs(wav.samples[7]![3]! - 0.7) < 1e-4);
});

Deno.test("parseWav decodes a subarray with a non-zero byteOffset", () => {
  const wav = encodeWav(ramp(10), { sampleRate: 16000 });
  const backing = new Uint8Array(wav.length + 3);
  backing.set(wav, 3);
  assert.equal(parseWav(backing.subarray(3)).frames, 10);
});

Deno.test("parseWav walks chunks robustly", async (t) => {
  const { fmt, data } = canonicalChunks();
  await t.step("skips unknown chunks, odd sizes padded", () => {
    const wav = parseWav(
      riff(
        chunk("JUNK", new Uint8Array(3)),
        fmt,
        chunk("LIST", ascii("INFOISFT\x05\0\0\0sox!\0")),
        chunk("fact", new Uint8Array(4)),
        data,
      ),
    );
    assert.equal(wav.frames, 8);
  });
  await t.step("accepts data before fmt", () => {
    assert.equal(parseWav(riff(data, fmt)).frames, 8);
  });
  await t.step("ignores chunks and garbage after data", () => {
    const wav = parseWav(
      concat(riff(fmt, data, chunk("LIST", new Uint8Array(6))), ascii("xyz")),
    );
    assert.equal(wav.frames, 8);
    assert.equal(wav.clamped, false);
  });
  await t.step("clamps a data chunk larger than the file", () => {
    const big = patched(
      riff(fmt, data),
      (v, b) => v.setUint32(b.length - 16 - 4, 1_000_000, true),
    );
    const wav = parseWav(big);
    assert.equal(wav.frames, 8);
    assert.equal(wav.clamped, true);
  });
  await t.step("reads a streaming data size 0xFFFFFFFF to the end", () => {
    const streaming = patched(riff(fmt, data), (v) => {
      v.setUint32(4, 0xffffffff, true);
      v.setUint32(40, 0xffffffff, true);
    });
    const wav = parseWav(streaming);
    assert.equal(wav.frames, 8);
    assert.equal(wav.clamped, true);
  });
  await t.step("ignores a wrong RIFF size", () => {
    const wrong = patched(riff(fmt, data), (v) => v.setUint32(4, 4, true));
    assert.equal(parseWav(wrong).frames, 8);
  });
  await t.step("drops a trailing partial frame", () => {
    const file = riff(fmt, chunk("data", concat(data.slice(8), ascii("x"))));
    assert.equal(parseWav(file).frames, 8);
  });
  await t.step("readWavHeader reports the data offset without decoding", () => {
    const info = readWavHeader(
      riff(chunk("JUNK", new Uint8Array(4)), fmt, data),
    );
    assert.equal(info.dataOffset, 12 + 12 + 24 + 8);
    assert.equal(info.frames, 8);
    assert.equal("samples" in info, false);
  });
});

Deno.test("parseWav rejects malformed and unsupported files with specific codes", async (t) => {
  const mono = encodeWav(ramp(16), { sampleRate: 16000 });
  const ext = encodeWav(ramp(16), { sampleRate: 16000, extensible: true });
  const { fmt, data } = canonicalChunks();
  const set = (offset: number, value: number, width: 2 | 4) =>
    patched(
      mono,
      (v) =>
        width === 2
          ? v.setUint16(offset, value, true)
          : v.setUint32(offset, value, true),
    );
  const cases: [string, Uint8Array, string, number][] = [
    ["empty", new Uint8Array(0), "audio_empty", 422],
    ["header only (no samples)", mono.slice(0, 44), "audio_empty", 422],
    ["half a frame of data", mono.slice(0, 45), "audio_empty", 422],
    [
      "data chunk of size 0",
      riff(fmt, chunk("data", new Uint8Array(0))),
      "audio_empty",
      422,
    ],
    [
      "non-audio text",
      ascii("this is definitely not a wav file"),
      "wav_not_riff",
      422,
    ],
    [
      "RIFF but not WAVE",
      patched(mono, (_, b) => b.set(ascii("AVI "), 8)),
      "wav_not_riff",
      422,
    ],
    ["shorter than the RIFF header", mono.slice(0, 7), "wav_truncated", 422],
    ["RIFF header only", mono.slice(0, 12), "wav_truncated", 422],
    ["cut inside fmt", mono.slice(0, 30), "wav_truncated", 422],
    ["cut inside the data header", mono.slice(0, 40), "wav_truncated", 422],
    ["no fmt chunk", riff(data), "wav_missing_fmt", 422],
    [
      "no data chunk",
      riff(fmt, chunk("LIST", new Uint8Array(4))),
      "wav_missing_data",
      422,
    ],
    ["sample rate 0", set(24, 0, 4), "wav_bad_sample_rate", 422],
    ["sample rate 999", set(24, 999, 4), "wav_bad_sample_rate", 422],
    ["sample rate 384001", set(24, 384001, 4), "wav_bad_sample_rate", 422],
    ["sample rate 10^9", set(24, 1e9, 4), "wav_bad_sample_rate", 422],
    ["sample rate 2^32-1", set(24, 0xffffffff, 4), "wav_bad_sample_rate", 422],
    ["channels 0", set(22, 0, 2), "wav_bad_channels", 422],
    ["channels 9", set(22, 9, 2), "wav_bad_channels", 422],
    ["channels 65535", set(22, 65535, 2), "wav_bad_channels", 422],
    ["12 bits per sample", set(34, 12, 2), "wav_unsupported_bits", 415],
    ["0 bits per sample", set(34, 0, 2), "wav_unsupported_bits", 415],
    ["7 bits per sample", set(34, 7, 2), "wav_unsupported_bits", 415],
    ["64-bit integer PCM", set(34, 64, 2), "wav_unsupported_bits", 415],
    [
      "16-bit float",
      patched(set(20, 3, 2), (v) => v.setUint16(34, 16, true)),
      "wav_unsupported_bits",
      415,
    ],
    ["format tag 2 (MS ADPCM)", set(20, 2, 2), "wav_unsupported_format", 415],
    [
      "format tag 0x55 (MP3 in WAV)",
      set(20, 0x55, 2),
      "wav_unsupported_format",
      415,
    ],
    ["format tag 0", set(20, 0, 2), "wav_unsupported_format", 415],
    ["16-bit µ-law", set(20, 7, 2), "wav_unsupported_bits", 415],
    ["16-bit A-law", set(20, 6, 2), "wav_unsupported_bits", 415],
    [
      "fmt chunk of 14 bytes",
      riff(chunk("fmt ", fmt.slice(8, 22)), data),
      "wav_bad_fmt",
      422,
    ],
    [
      "EXTENSIBLE fmt of 18 bytes",
      riff(chunk("fmt ", concat(fmt.slice(8), new Uint8Array(2))), data).map((
        b,
        i,
      ) => i === 20 ? 0xfe : i === 21 ? 0xff : b),
      "wav_bad_fmt",
      422,
    ],
    [
      "EXTENSIBLE with a foreign GUID",
      patched(ext, (v) => v.setUint8(50, 0x42)),
      "wav_unsupported_format",
      415,
    ],
    [
      "EXTENSIBLE with sub-format ADPCM",
      patched(ext, (v) => v.setUint16(44, 2, true)),
      "wav_unsupported_format",
      415,
    ],
    [
      "fmt larger than the file",
      patched(mono.slice(0, 40), (v) => v.setUint32(16, 4000, true)),
      "wav_truncated",
      422,
    ],
  ];
  for (const [name, input, code, status] of cases) {
    await t.step(name, () => {
      const error = throwsAudioError(() => parseWav(input), code, status);
      assert.ok(error.message.length > 10, "message names the problem");
      throwsAudioError(() => readWavHeader(input), code, status);
    });
  }
});

Deno.test("parseWav reports a truncation at every offset of the header", () => {
  // 16-bit stereo: header 44 bytes, 4 bytes per frame.
  for (let length = 0; length <= stereo16.length; length++) {
    const cut = stereo16.slice(0, length);
    if (length === 0 || (length >= 44 && length < 48)) {
      throwsAudioError(() => parseWav(cut), "audio_empty", 422);
    } else if (length < 44) {
      throwsAudioError(() => parseWav(cut), "wav_truncated", 422);
    } else {
      const wav = parseWav(cut);
      assert.equal(wav.frames, Math.floor((length - 44) / 4));
      assert.equal(wav.clamped, length < stereo16.length);
    }
  }
});

Deno.test("parseWav only ever throws InvalidAudioError (seeded random inputs)", () => {
  const random = seededRandom(0x5eed);
  const int = (n: number) => Math.floor(random() * n);
  const seeds = [
    stereo16,
    encodeWav(ramp(33), { sampleRate: 44100, bitsPerSample: 24 }),
    encodeWav(ramp(9), { sampleRate: 8000, format: "float", extensible: true }),
    encodeWav([ramp(5), ramp(5), ramp(5)], {
      sampleRate: 96000,
      bitsPerSample: 8,
    }),
  ];
  const codes = new Map<string, number>();
  let decoded = 0;
  const iterations = 5000;
  for (let i = 0; i < iterations; i++) {
    let input: Uint8Array;
    const kind = i % 4;
    if (kind === 0) {
      // Pure noise, sometimes with a RIFF/WAVE prefix.
      input = new Uint8Array(int(200));
      for (let j = 0; j < input.length; j++) input[j] = int(256);
      if (random() < 0.5 && input.length >= 12) {
        input.set(ascii("RIFF"), 0);
        input.set(ascii("WAVE"), 8);
      }
    } else {
      // A valid file with random byte edits, truncation or extension.
      input = seeds[int(seeds.length)]!.slice();
      const edits = 1 + int(kind === 1 ? 2 : 8);
      for (let e = 0; e < edits; e++) {
        const at = int(Math.min(input.length, kind === 3 ? 48 : input.length));
        input[at] = random() < 0.3 ? 0xff : int(256);
      }
      if (random() < 0.4) input = input.slice(0, int(input.length + 1));
      if (random() < 0.1) input = concat(input, new Uint8Array(int(9)));
    }
    try {
      const wav = parseWav(input);
      decoded++;
      assert.ok(wav.frames >= 1);
      assert.equal(wav.samples.length, wav.channels);
      for (const channel of wav.samples) {
        assert.equal(channel.length, wav.frames);
        for (const v of channel) assert.ok(Number.isFinite(v));
      }
    } catch (error) {
      assert.ok(
        error instanceof InvalidAudioError,
        `iteration ${i}: threw ${error} for ${input.length} bytes`,
      );
      assert.ok(error.status === 415 || error.status === 422);
      codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
    }
  }
  // The loop really explored both outcomes and several failure kinds.
  assert.ok(decoded > 100, `only ${decoded} inputs decoded`);
  // wav_malformed would mean an unexpected internal error was wrapped.
  assert.equal(codes.get("wav_malformed"), undefined);
  assert.ok(codes.size >= 6, `codes seen: ${[...codes.keys()].join(", ")}`);
});
