import assert from "node:assert/strict";
import {
  collectAll,
  decodeWithFfmpeg,
  ffmpegAvailable,
  requireFfmpeg,
  toFloats,
} from "./ffmpeg.ts";
import { sniffFormat } from "./sniff.ts";
import {
  rejectsAudioError,
  sineAmplitude,
  zeroCrossingFrequency,
} from "./_testing.ts";

const testdata = new URL("./testdata/", import.meta.url);
const fixture = (name: string) => Deno.readFile(new URL(name, testdata));
const missing = "/nonexistent/bin/ffmpeg";

Deno.test("decodeWithFfmpeg decodes every compressed fixture to 16 kHz mono", async (t) => {
  for (const ext of ["flac", "ogg", "mp3", "m4a", "webm"]) {
    await t.step(ext, async () => {
      const bytes = await fixture(`sine_44k_stereo.${ext}`);
      const format = sniffFormat(bytes);
      assert.equal(format, ext === "ogg" ? "ogg" : ext);
      if (format === "wav" || format === "unknown") throw new Error(format);
      const out = await decodeWithFfmpeg(bytes, { format });
      // 0.5 s of audio; lossy codecs add priming/padding samples.
      assert.ok(
        out.samples.length >= 7900 && out.samples.length <= 8800,
        `${out.samples.length} samples`,
      );
      const frequency = zeroCrossingFrequency(out.samples, 16000, 1500, 6500);
      assert.ok(Math.abs(frequency - 1000) < 5, `frequency ${frequency}`);
      const amplitude = sineAmplitude(out.samples, 1500, 6500);
      assert.ok(Math.abs(amplitude - 0.5) < 0.05, `amplitude ${amplitude}`);
      assert.equal(out.channels, 2);
      assert.equal(out.sampleRate, ext === "webm" ? 48000 : 44100);
    });
  }
});

Deno.test("decodeWithFfmpeg reads an M4A whose index is at the end of a large file", async () => {
  // Through a pipe ffmpeg cannot seek back to a trailing moov atom; the
  // module writes M4A to a temporary file instead.
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/long.m4a`;
    const made = await new Deno.Command("ffmpeg", {
      args: [
        ...["-hide_banner", "-loglevel", "error", "-f", "lavfi"],
        ...["-i", "sine=frequency=440:sample_rate=44100:duration=60"],
        ...["-c:a", "aac", "-b:a", "128k", path],
      ],
      stdin: "null",
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const out = await decodeWithFfmpeg(await Deno.readFile(path), {
      format: "m4a",
    });
    assert.ok(Math.abs(out.samples.length / 16000 - 60) < 0.2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeWithFfmpeg stops at limitS seconds", async () => {
  const bytes = await fixture("sine_44k_stereo.flac");
  const out = await decodeWithFfmpeg(bytes, { format: "flac", limitS: 0.25 });
  assert.equal(out.samples.length, 4000);
});

Deno.test("decodeWithFfmpeg reports a corrupt file with ffmpeg's diagnostic", async () => {
  const bytes = await fixture("sine_44k_stereo.flac");
  const corrupt = bytes.slice(0, 64); // fLaC header, no frames
  corrupt.fill(0x5a, 8);
  const error = await rejectsAudioError(
    decodeWithFfmpeg(corrupt, { format: "flac" }),
    "audio_decode_failed",
    422,
  );
  assert.match(error.message, /ffmpeg could not decode the flac .*: .*pipe:0/);
});

Deno.test("decodeWithFfmpeg fails on a bare container signature", async () => {
  const error = await rejectsAudioError(
    decodeWithFfmpeg(new TextEncoder().encode("OggS"), { format: "ogg" }),
    "audio_decode_failed",
    422,
  );
  assert.match(error.message, /pipe:0/);
});

Deno.test("decodeWithFfmpeg fails as audio_empty when a valid file holds no samples", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/empty.flac`;
    const made = await new Deno.Command("ffmpeg", {
      args: [
        ...["-hide_banner", "-loglevel", "error", "-f", "lavfi"],
        ...["-i", "anullsrc=r=16000:cl=mono", "-t", "0", path],
      ],
      stdin: "null",
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    await rejectsAudioError(
      decodeWithFfmpeg(await Deno.readFile(path), { format: "flac" }),
      "audio_empty",
      422,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeWithFfmpeg kills ffmpeg on timeout", async () => {
  const bytes = await fixture("sine_44k_stereo.flac");
  await rejectsAudioError(
    decodeWithFfmpeg(bytes, { format: "flac", timeoutMs: 0 }),
    "audio_decode_timeout",
    422,
  );
});

Deno.test("decodeWithFfmpeg without ffmpeg is a 415 naming how to install it", async () => {
  const bytes = await fixture("sine_44k_stereo.ogg");
  const error = await rejectsAudioError(
    decodeWithFfmpeg(bytes, { format: "ogg", ffmpegPath: missing }),
    "ffmpeg_not_installed",
    415,
  );
  assert.match(error.message, /ffmpeg/);
  assert.match(error.message, /apt-get install ffmpeg/);
});

Deno.test("ffmpegAvailable and requireFfmpeg detect the binary", async () => {
  assert.equal(await ffmpegAvailable(), true);
  assert.equal(await ffmpegAvailable(missing), false);
  await requireFfmpeg();
  await rejectsAudioError(requireFfmpeg(missing), "ffmpeg_not_installed", 415);
});

/** A stream of `count` chunks of `size` bytes, each a view of a 64 KiB buffer as a child's stdout gives them. */
function chunkStream(count: number, size: number, onCancel?: () => void) {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === count) return controller.close();
      const chunk = new Uint8Array(new ArrayBuffer(65536), 0, size);
      chunk.fill(i++ % 251);
      controller.enqueue(chunk);
    },
    cancel: onCancel,
  });
}

Deno.test("collectAll joins small chunks into one buffer of exactly their length", async () => {
  const out = new Uint8Array(await collectAll(chunkStream(3000, 2304), 1e8));
  assert.equal(out.buffer.byteLength, 3000 * 2304);
  assert.equal(out.buffer.resizable, false);
  for (const i of [0, 1, 250, 251, 2999]) {
    assert.equal(out[i * 2304], i % 251, `chunk ${i}`);
    assert.equal(out[i * 2304 + 2303], i % 251, `chunk ${i}`);
  }
  assert.equal((await collectAll(chunkStream(0, 1), 10)).byteLength, 0);
});

Deno.test("collectAll refuses more than its limit and cancels the stream", async () => {
  let cancelled = false;
  await assert.rejects(
    collectAll(chunkStream(10, 1000, () => cancelled = true), 9500),
    (error: unknown) =>
      error instanceof RangeError && /more than 9500 bytes/.test(error.message),
  );
  assert.ok(cancelled);
  // Exactly at the limit is fine.
  assert.equal(
    (await collectAll(chunkStream(10, 1000), 10000)).byteLength,
    1e4,
  );
});

Deno.test("toFloats reads f32le in place and zeroes NaN and infinities", () => {
  const bytes = new ArrayBuffer(5 * 4 + 3); // a partial sample at the end
  const view = new DataView(bytes);
  [0.5, NaN, -0.25, Infinity, -Infinity].forEach((v, i) =>
    view.setFloat32(i * 4, v, true)
  );
  const floats = toFloats(bytes);
  assert.deepEqual([...floats], [0.5, 0, -0.25, 0, 0]);
});
