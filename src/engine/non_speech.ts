/**
 * What whisper writes when there is nothing to transcribe. On silence,
 * noise or music the English models write annotations — "[BLANK_AUDIO]",
 * "[ Silence ]", "(bell dings)", "[Music]", "♪" — which are not words anyone
 * said; with those tokens suppressed (openai-whisper's default) they
 * hallucinate words instead ("you" seven times over 15 s of silence, here).
 * So audio without a sound is not decoded at all, and a segment that is only
 * annotation is dropped.
 */

/**
 * Peak level under which audio holds no sound, −70 dBFS: about 10 steps of
 * 16-bit audio, far below any recorded voice (and whisper normalizes
 * levels, so anything above it is decoded). A float32 value, as samples are.
 */
export const SILENCE_PEAK: number = Math.fround(10 ** (-70 / 20));

/** True when no sample of `pcm` reaches {@linkcode SILENCE_PEAK}. */
export function isSilent(pcm: Float32Array): boolean {
  for (let i = 0; i < pcm.length; i++) {
    const v = pcm[i]!;
    if (v >= SILENCE_PEAK || v <= -SILENCE_PEAK) return false;
  }
  return true;
}

/** Bracketed or parenthesized notes, `*sighs*`, and music signs. */
const ANNOTATIONS = /\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♩♪♫♬]/gu;

/**
 * True when `text` holds no word outside whisper's annotations: "[BLANK_AUDIO]",
 * "[ Silence ]", "(water running)", "♪♪", "- [Music]", ".", "" — but not
 * "(laughs) Yes." or "Open the door."
 */
export function isAnnotation(text: string): boolean {
  return !/[\p{L}\p{N}]/u.test(text.replace(ANNOTATIONS, ""));
}
