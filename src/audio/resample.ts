/**
 * Down-mixing and sample-rate conversion to Whisper's input: 16 kHz mono.
 *
 * The converter is a polyphase windowed-sinc (Kaiser window), with the
 * cutoff lowered to the target Nyquist when down-sampling, so it doubles as
 * the anti-alias filter.
 */

/** The sample rate Whisper expects, in Hz. */
export const WHISPER_SAMPLE_RATE = 16000;

/** Zero crossings of the sinc kept on each side (at the filter cutoff). */
const ZERO_CROSSINGS = 12;
/** Cutoff as a fraction of the lower Nyquist frequency. */
const ROLLOFF = 0.92;
/** Kaiser window shape: about 80 dB stop-band attenuation. */
const KAISER_BETA = 8;
/** Most filter phases kept; rarer ratios round the phase to 1/MAX_PHASES. */
const MAX_PHASES = 1024;

/**
 * Averages channels into one.
 *
 * @param channels Planar channels of equal length.
 * @returns The mono signal; the input array itself when there is one channel.
 */
export function downmix(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  if (channels.length === 1) return channels[0]!;
  const length = channels[0]!.length;
  const out = new Float32Array(length);
  if (channels.length === 2) {
    const left = channels[0]!;
    const right = channels[1]!;
    for (let i = 0; i < length; i++) out[i] = (left[i]! + right[i]!) * 0.5;
    return out;
  }
  for (const channel of channels) {
    for (let i = 0; i < length; i++) out[i]! += channel[i]!;
  }
  const scale = 1 / channels.length;
  for (let i = 0; i < length; i++) out[i]! *= scale;
  return out;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

interface Kernel {
  /** Number of phases (fractional positions). */
  phases: number;
  /** Taps per phase. */
  taps: number;
  /** Offset of the first tap relative to floor(position). */
  first: number;
  /** `phases * taps` coefficients, phase-major. */
  coefficients: Float32Array;
}

const kernels = new Map<string, Kernel>();

function kernelFor(fromRate: number, toRate: number): Kernel {
  const key = `${fromRate}:${toRate}`;
  const cached = kernels.get(key);
  if (cached) return cached;
  const ratio = toRate / fromRate;
  const scale = Math.min(1, ratio);
  const cutoff = 0.5 * scale * ROLLOFF; // cycles per input sample
  const half = Math.ceil(ZERO_CROSSINGS / scale);
  const taps = 2 * half;
  const first = -half + 1;
  const exact = toRate / gcd(fromRate, toRate);
  const phases = Math.min(exact, MAX_PHASES);
  const coefficients = new Float32Array(phases * taps);
  const norm = besselI0(KAISER_BETA);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const x = first + j - frac; // distance from the output position
      const r = x / (half + 1);
      const window = Math.abs(r) >= 1
        ? 0
        : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / norm;
      const arg = 2 * cutoff * x;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      const h = 2 * cutoff * sinc * window;
      coefficients[p * taps + j] = h;
      sum += h;
    }
    // Unity gain at DC for every phase.
    for (let j = 0; j < taps; j++) coefficients[p * taps + j]! /= sum;
  }
  const kernel = { phases, taps, first, coefficients };
  kernels.set(key, kernel);
  return kernel;
}

/**
 * Converts a mono signal from `fromRate` to `toRate`.
 *
 * The output holds `ceil(length * toRate / fromRate)` samples. Samples
 * outside the input are taken as silence.
 *
 * @param samples Mono input.
 * @param fromRate Input rate in Hz (a positive integer).
 * @param toRate Output rate in Hz (a positive integer).
 * @default toRate 16000
 * @returns The input array itself when the rates are equal.
 */
export function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number = WHISPER_SAMPLE_RATE,
): Float32Array {
  if (
    !Number.isInteger(fromRate) || !Number.isInteger(toRate) ||
    fromRate <= 0 || toRate <= 0
  ) {
    throw new RangeError(
      `resample: rates must be positive integers, got ${fromRate} -> ${toRate}`,
    );
  }
  if (fromRate === toRate) return samples;
  const length = samples.length;
  const outLength = Math.ceil((length * toRate) / fromRate);
  const out = new Float32Array(outLength);
  const { phases, taps, first, coefficients } = kernelFor(fromRate, toRate);
  const step = fromRate / toRate;
  for (let n = 0; n < outLength; n++) {
    const t = n * step;
    let base = Math.floor(t);
    let phase = Math.round((t - base) * phases);
    if (phase === phases) {
      phase = 0;
      base++;
    }
    const start = base + first;
    const c0 = phase * taps;
    let acc = 0;
    if (start >= 0 && start + taps <= length) {
      for (let j = 0; j < taps; j++) {
        acc += coefficients[c0 + j]! * samples[start + j]!;
      }
    } else {
      const lo = Math.max(0, -start);
      const hi = Math.min(taps, length - start);
      for (let j = lo; j < hi; j++) {
        acc += coefficients[c0 + j]! * samples[start + j]!;
      }
    }
    out[n] = acc;
  }
  return out;
}

/**
 * Down-mixes planar channels and converts them to 16 kHz mono.
 *
 * @returns The first channel itself when the input is already 16 kHz mono.
 */
export function toWhisperInput(
  channels: readonly Float32Array[],
  sampleRate: number,
): Float32Array {
  return resample(downmix(channels), sampleRate, WHISPER_SAMPLE_RATE);
}
