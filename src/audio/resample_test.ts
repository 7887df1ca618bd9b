import assert from "node:assert/strict";
import { downmix, resample, toWhisperInput } from "./resample.ts";
import { sine, sineAmplitude, zeroCrossingFrequency } from "./_testing.ts";

Deno.test("resample is an exact pass-through at equal rates", () => {
  const input = sine(440, 16000, 0.1);
  assert.equal(resample(input, 16000, 16000), input);
  assert.equal(toWhisperInput([input], 16000), input);
});

Deno.test("resample converts sines to 16 kHz keeping frequency, amplitude and length", async (t) => {
  const cases = [
    { from: 44100, frequency: 440 },
    { from: 44100, frequency: 3000 },
    { from: 48000, frequency: 1000 },
    { from: 8000, frequency: 440 },
    { from: 8000, frequency: 3000 },
    { from: 22050, frequency: 5000 },
    { from: 11025, frequency: 1000 },
    { from: 44101, frequency: 1000 }, // no small rational ratio
  ];
  for (const { from, frequency } of cases) {
    await t.step(`${from} Hz, ${frequency} Hz sine`, () => {
      const out = resample(sine(frequency, from, 1, 0.5), from, 16000);
      assert.equal(out.length, 16000);
      // Ignore the filter's edge transients.
      const measured = zeroCrossingFrequency(out, 16000, 800, 15200);
      assert.ok(
        Math.abs(measured - frequency) < frequency * 0.005,
        `frequency ${measured}`,
      );
      const amplitude = sineAmplitude(out, 800, 15200);
      assert.ok(Math.abs(amplitude - 0.5) < 0.01, `amplitude ${amplitude}`);
    });
  }
});

Deno.test("resample output length is ceil(n * to / from)", () => {
  for (const n of [0, 1, 2, 3, 441, 1000, 44099]) {
    assert.equal(
      resample(new Float32Array(n), 44100).length,
      Math.ceil((n * 16000) / 44100),
    );
  }
  assert.equal(resample(new Float32Array(8000), 8000).length, 16000);
});

Deno.test("resample removes content above the 8 kHz target Nyquist", () => {
  for (const frequency of [9000, 12000, 20000]) {
    const out = resample(sine(frequency, 44100, 0.5, 0.5), 44100);
    const residue = sineAmplitude(out, 400, out.length - 400);
    assert.ok(residue < 0.005, `${frequency} Hz leaks ${residue}`);
  }
});

Deno.test("resample keeps DC unity gain and is finite at the edges", () => {
  const out = resample(new Float32Array(4410).fill(0.25), 44100);
  for (let i = 100; i < out.length - 100; i++) {
    assert.ok(Math.abs(out[i]! - 0.25) < 1e-4);
  }
  for (const v of out) assert.ok(Number.isFinite(v));
});

Deno.test("resample rejects non-integer or non-positive rates", () => {
  assert.throws(() => resample(new Float32Array(4), 0), RangeError);
  assert.throws(() => resample(new Float32Array(4), 44100.5), RangeError);
});

Deno.test("downmix averages channels", () => {
  const left = new Float32Array([1, 0.5, -1]);
  const right = new Float32Array([0, 0.5, 1]);
  assert.deepEqual([...downmix([left, right])], [0.5, 0.5, 0]);
  const three = downmix([left, right, new Float32Array([0.5, 0.5, 0.5])]);
  assert.ok(Math.abs(three[0]! - 0.5) < 1e-7);
  assert.equal(downmix([left]), left);
  assert.equal(downmix([]).length, 0);
});

Deno.test("toWhisperInput down-mixes then resamples stereo 44.1 kHz", () => {
  const left = sine(1000, 44100, 1, 0.5);
  const right = sine(1000, 44100, 1, 0.3);
  const out = toWhisperInput([left, right], 44100);
  assert.equal(out.length, 16000);
  assert.ok(Math.abs(sineAmplitude(out, 800, 15200) - 0.4) < 0.01);
});
