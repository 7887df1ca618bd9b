/**
 * Helpers shared by the audio unit tests (not part of the public surface).
 */
import assert from "node:assert/strict";
import { InvalidAudioError } from "../errors/mod.ts";

/** A sine wave of `seconds` at `rate` Hz. */
export function sine(
  frequency: number,
  rate: number,
  seconds: number,
  amplitude = 0.5,
): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) {
    out[i] = amplitude * Math.sin((2 * Math.PI * frequency * i) / rate);
  }
  return out;
}

/** Peak amplitude estimated from the RMS of a sine, over `[from, to)`. */
export function sineAmplitude(
  samples: Float32Array,
  from = 0,
  to = samples.length,
): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / (to - from)) * Math.SQRT2;
}

/** Frequency estimated from rising zero crossings over `[from, to)`. */
export function zeroCrossingFrequency(
  samples: Float32Array,
  rate: number,
  from = 0,
  to = samples.length,
): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = from + 1; i < to; i++) {
    if (samples[i - 1]! < 0 && samples[i]! >= 0) {
      if (first < 0) first = i;
      else count++;
      last = i;
    }
  }
  return (count * rate) / (last - first);
}

/** Asserts `error` is an InvalidAudioError with `code` (and `status`). */
export function assertAudioError(
  error: unknown,
  code: string,
  status?: number,
): InvalidAudioError {
  assert.ok(
    error instanceof InvalidAudioError,
    `expected InvalidAudioError(${code}), got ${error}`,
  );
  assert.equal(error.code, code, error.message);
  if (status !== undefined) assert.equal(error.status, status);
  return error;
}

/** Runs `fn`, which must throw an InvalidAudioError with `code`. */
export function throwsAudioError(
  fn: () => unknown,
  code: string,
  status?: number,
): InvalidAudioError {
  try {
    fn();
  } catch (error) {
    return assertAudioError(error, code, status);
  }
  assert.fail(`expected InvalidAudioError(${code}), nothing was thrown`);
}

/** Awaits `promise`, which must reject with an InvalidAudioError `code`. */
export async function rejectsAudioError(
  promise: Promise<unknown>,
  code: string,
  status?: number,
): Promise<InvalidAudioError> {
  try {
    await promise;
  } catch (error) {
    return assertAudioError(error, code, status);
  }
  assert.fail(`expected InvalidAudioError(${code}), the promise resolved`);
}

/** A deterministic PRNG (mulberry32), so property loops are reproducible. */
export { seededRandom } from "../stats/mod.ts";
