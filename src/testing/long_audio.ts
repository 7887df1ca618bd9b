/**
 * Long recordings of known text for process-level tests, built from the
 * committed speech clips (assets/corpus and assets/clips, 16 kHz mono PCM16)
 * joined with pauses, so no test needs espeak-ng and the reference text and
 * the pauses' positions are known exactly.
 */
import {
  encodeWav,
  parseWav,
  readBase64File,
  toWhisperInput,
} from "../audio/mod.ts";

/** A long recording and what it contains. */
export interface LongRecording {
  /** 16 kHz mono PCM16 WAV. */
  wav: Uint8Array;
  /** The words spoken, in order. */
  text: string;
  /** Seconds of audio. */
  durationS: number;
  /** The pauses between clips, seconds: where cuts may fall. */
  pauses: { start_s: number; end_s: number }[];
  /** Each clip's place in the recording, seconds, and its words. */
  clips: {
    start_s: number;
    end_s: number;
    text: string;
    samples: Float32Array;
  }[];
}

const RATE = 16_000;

async function clips(): Promise<{ samples: Float32Array; text: string }[]> {
  const out: { samples: Float32Array; text: string }[] = [];
  for (const folder of ["corpus", "clips"]) {
    const dir = new URL(`../../assets/${folder}/`, import.meta.url);
    const names = [...Deno.readDirSync(dir)]
      .map((e) => e.name)
      .filter((n) => n.endsWith(".wav.b64"))
      .sort();
    for (const name of names) {
      const wav = await readBase64File(new URL(name, dir));
      const text = await Deno.readTextFile(
        new URL(name.replace(".wav.b64", ".txt"), dir),
      );
      const parsed = parseWav(wav);
      out.push({
        samples: toWhisperInput(parsed.samples, parsed.sampleRate),
        text: text.trim(),
      });
    }
  }
  return out;
}

/**
 * At least `seconds` of speech: the committed clips in order (repeated when
 * needed), each followed by a pause of 0.4–1.2 s (a fixed cycle).
 */
export async function longRecording(seconds: number): Promise<LongRecording> {
  const all = await clips();
  const parts: Float32Array[] = [];
  const texts: string[] = [];
  const pauses: LongRecording["pauses"] = [];
  const placed: LongRecording["clips"] = [];
  let at = 0;
  for (let i = 0; at < seconds * RATE; i++) {
    const clip = all[i % all.length]!;
    parts.push(clip.samples);
    texts.push(clip.text);
    placed.push({
      start_s: at / RATE,
      end_s: (at + clip.samples.length) / RATE,
      text: clip.text,
      samples: clip.samples,
    });
    at += clip.samples.length;
    const pause = Math.round((0.4 + 0.2 * (i % 5)) * RATE);
    parts.push(new Float32Array(pause));
    pauses.push({ start_s: at / RATE, end_s: (at + pause) / RATE });
    at += pause;
  }
  const samples = new Float32Array(at);
  let o = 0;
  for (const p of parts) {
    samples.set(p, o);
    o += p.length;
  }
  return {
    wav: encodeWav(samples, { sampleRate: RATE }),
    text: texts.join(" "),
    durationS: at / RATE,
    pauses,
    clips: placed,
  };
}
