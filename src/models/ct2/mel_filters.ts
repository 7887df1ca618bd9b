/**
 * The Slaney-style mel filterbank Whisper uses (librosa's default: Slaney mel
 * scale, not HTK, with "slaney" area normalisation). whisper.cpp reads it from
 * the model file; CTranslate2 models carry none, so the converter computes it.
 */

/** Options of {@linkcode melFilters}. */
export interface MelFilterOptions {
  /** @default 16000 */
  sampleRate?: number;
  /** @default 400 */
  nFft?: number;
  /** @default 80 */
  nMels?: number;
  /** @default 0 */
  fMin?: number;
  /** @default sampleRate / 2 */
  fMax?: number;
}

// Slaney mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

/** Hertz to Slaney mels. */
export function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ
    ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP
    : hz / F_SP;
}

/** Slaney mels to hertz. */
export function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL
    ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL))
    : F_SP * mel;
}

/**
 * The mel filterbank as a row-major `nMels × (nFft / 2 + 1)` table: row `m`
 * holds the weight of each FFT bin in mel band `m`. Computed in double
 * precision, stored as f32.
 */
export function melFilters(options: MelFilterOptions = {}): Float32Array {
  const sampleRate = options.sampleRate ?? 16000;
  const nFft = options.nFft ?? 400;
  const nMels = options.nMels ?? 80;
  const fMin = options.fMin ?? 0;
  const fMax = options.fMax ?? sampleRate / 2;
  const nBins = Math.floor(nFft / 2) + 1;

  const binHz = Array.from(
    { length: nBins },
    (_, k) => (k * sampleRate) / nFft,
  );
  const melLo = hzToMel(fMin);
  const melHi = hzToMel(fMax);
  // nMels + 2 band edges, evenly spaced on the mel scale.
  const edges = Array.from(
    { length: nMels + 2 },
    (_, i) => melToHz(melLo + ((melHi - melLo) * i) / (nMels + 1)),
  );

  const out = new Float32Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const lo = edges[m]!;
    const mid = edges[m + 1]!;
    const hi = edges[m + 2]!;
    // Slaney normalisation: every triangle has the same area.
    const norm = 2 / (hi - lo);
    for (let k = 0; k < nBins; k++) {
      const f = binHz[k]!;
      const rising = (f - lo) / (mid - lo);
      const falling = (hi - f) / (hi - mid);
      out[m * nBins + k] = Math.max(0, Math.min(rising, falling)) * norm;
    }
  }
  return out;
}
