import assert from "node:assert/strict";
import { type AudioFormat, sniffFormat } from "./sniff.ts";
import { encodeWav } from "./encode_wav.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("sniffFormat recognises each container from magic bytes", async (t) => {
  const cases: [string, Uint8Array, AudioFormat][] = [
    ["wav", encodeWav(new Float32Array(4), { sampleRate: 16000 }), "wav"],
    ["flac", enc("fLaC\0\0\0\x22"), "flac"],
    ["ogg", enc("OggS\0\x02"), "ogg"],
    ["m4a", enc("\0\0\0\x1cftypM4A "), "m4a"],
    ["mp4", enc("\0\0\0\x20ftypisom"), "m4a"],
    ["webm", bytes(0x1a, 0x45, 0xdf, 0xa3, 0x9f), "webm"],
    ["aiff", enc("FORM\0\0\0\x2eAIFFCOMM"), "aiff"],
    ["aiff-c", enc("FORM\0\0\0\x2eAIFCFVER"), "aiff"],
    ["caf", enc("caff\0\x01\0\0desc"), "caf"],
    ["mp3 with ID3v2", enc("ID3\x04\0\0\0\0\0\x0a"), "mp3"],
    ["mp3 MPEG-1 layer III frame", bytes(0xff, 0xfb, 0x90, 0x64), "mp3"],
    ["mp3 MPEG-2 layer III frame", bytes(0xff, 0xf3, 0x48, 0xc4), "mp3"],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => assert.equal(sniffFormat(input), expected));
  }
});

Deno.test("sniffFormat returns unknown for everything else", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["text", enc("hello, this is not audio")],
    ["RIFF but AVI", enc("RIFF\x10\0\0\0AVI LIST")],
    ["RIFF cut before the form type", enc("RIFF\x10\0\0\0")],
    ["IFF but not audio (ILBM image)", enc("FORM\0\0\0\x2eILBMBMHD")],
    ["FORM cut before the form type", enc("FORM\0\0\0\x2e")],
    ["PNG", bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)],
    ["AAC ADTS (layer bits 00)", bytes(0xff, 0xf1, 0x50, 0x80)],
    ["frame sync with bad bitrate", bytes(0xff, 0xfb, 0xf0, 0x64)],
    ["frame sync with reserved rate", bytes(0xff, 0xfb, 0x9c, 0x64)],
    ["lone 0xFF", bytes(0xff)],
    ["ID3 too short for a tag header", enc("ID3")],
    ["JSON", enc('{"audio": "x.wav"}')],
  ];
  for (const [name, input] of cases) {
    await t.step(name, () => assert.equal(sniffFormat(input), "unknown"));
  }
});

Deno.test("sniffFormat reads a subarray at a non-zero offset", () => {
  const backing = new Uint8Array(16);
  backing.set(enc("OggS"), 8);
  assert.equal(sniffFormat(backing.subarray(8)), "ogg");
});
