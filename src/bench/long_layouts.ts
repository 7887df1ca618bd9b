/**
 * `deno task bench:long`'s accuracy over cut layouts and voices: the same
 * speech after 0, 3, 6, … s of leading silence (which moves where the
 * pieces are cut), and the same text spoken in other espeak-ng voices, each
 * measured through the engine alone's pieces and, on the same audio, the
 * peer and our whole-file pass.
 *
 * @module
 */
import { join } from "node:path";
import { ConfigError } from "../errors/mod.ts";
import { decodeAudio, encodeWav } from "../audio/mod.ts";
import { normalizeWords, wordErrorRate } from "../accuracy/mod.ts";
import { withLeadingSilence } from "./long_engine.ts";
import {
  DEFAULT_LONG_VOICE,
  ensureLongRecording,
  type LongRecording,
  type LongVoice,
  voiceLabel,
} from "./long_corpus.ts";
import {
  type LayoutMeasure,
  type LayoutsSummary,
  type LayoutTranscripts,
  summarizeLayouts,
  summarizeVoices,
  type VoicesSummary,
} from "./long_report.ts";

/** A transcript's word error rate against `reference`, and both word counts. */
export function werAndWords(reference: string, hypothesis: string) {
  return {
    wer_pct: wordErrorRate([{ reference, hypothesis }]),
    words_out: normalizeWords(hypothesis).length,
    reference_words: normalizeWords(reference).length,
  };
}

/**
 * One layout's {@linkcode LayoutMeasure} from each system's text (`peer`
 * and `sequential` null when not run) against the reference `text`.
 */
export function layoutMeasure(
  offset_s: number,
  pieces: number,
  text: string,
  transcripts: LayoutTranscripts,
): LayoutMeasure {
  const wer = (hypothesis: string) =>
    wordErrorRate([{ reference: text, hypothesis }]);
  const maybe = (hypothesis: string | null) =>
    hypothesis == null ? null : wer(hypothesis);
  return {
    offset_s,
    pieces,
    engine: wer(transcripts.engine),
    peer: maybe(transcripts.peer),
    sequential: maybe(transcripts.sequential),
    transcripts,
  };
}

/** How each system transcribes one layout's audio (16 kHz mono). */
export interface LayoutSystems {
  /** The engine alone's pieces: their joined text and how many. */
  engine: (pcm: Float32Array) => Promise<{ text: string; pieces: number }>;
  /** The peer, given a WAV file's path; null when it doesn't run. */
  peer: ((wavPath: string) => Promise<string>) | null;
  /** Our whole-file pass; null when it doesn't run. */
  wholeFile: ((pcm: Float32Array) => Promise<string>) | null;
  /** A folder for the peer's WAVs (made on first use, removed by the caller). */
  tempDir: () => Promise<string>;
  say: (line: string) => void;
}

/**
 * One cut layout of `speech` (after `offset_s` of silence): each system's
 * WER against `text`. `label` names it in the progress line.
 */
export async function measureLayout(
  systems: LayoutSystems,
  label: string,
  speech: Float32Array,
  text: string,
  offset_s: number,
): Promise<LayoutMeasure> {
  const shifted = withLeadingSilence(speech, offset_s);
  const e = await systems.engine(shifted);
  const texts: LayoutTranscripts = {
    engine: e.text,
    peer: null,
    sequential: null,
  };
  if (systems.peer) {
    const path = join(await systems.tempDir(), `layout-${offset_s}s.wav`);
    await Deno.writeFile(path, encodeWav(shifted, { sampleRate: 16_000 }));
    texts.peer = await systems.peer(path);
    await Deno.remove(path);
  }
  if (systems.wholeFile) texts.sequential = await systems.wholeFile(shifted);
  const m = layoutMeasure(offset_s, e.pieces, text, texts);
  systems.say(
    `bench:long: ${label} after ${offset_s} s of silence: WER engine alone ${
      m.engine.toFixed(2)
    } % (${m.pieces} pieces)${
      m.peer == null ? "" : `, faster-whisper ${m.peer.toFixed(2)} %`
    }${
      m.sequential == null ? "" : `, whole-file ${m.sequential.toFixed(2)} %`
    }`,
  );
  return m;
}

/**
 * Speaks every recording's text in each of `voices` (the corpus' own voice
 * left out), before anything is measured, so a voice espeak-ng doesn't
 * know stops the bench at once. Keyed by {@linkcode voiceKey}.
 *
 * @throws {ConfigError} (exit 2) naming the voice espeak-ng can't speak.
 */
export async function speakVoices(
  recordings: readonly LongRecording[],
  voices: readonly LongVoice[],
  espeak: string,
  say: (line: string) => void,
): Promise<Map<string, LongRecording>> {
  const voiced = new Map<string, LongRecording>();
  for (const r of recordings) {
    for (const v of otherVoices(voices)) {
      const spoken = await ensureLongRecording(r.name, { espeak, voice: v })
        .catch((error) => {
          throw new ConfigError(
            `--voices ${voiceLabel(v)}: espeak-ng can't speak it: ${
              (error as Error).message
            }`,
            { cause: error },
          );
        });
      say(
        `bench:long: ${r.name} (${voiceLabel(v)}): ${
          spoken.sidecar.duration_s.toFixed(1)
        } s${spoken.generated ? " (generated)" : ""}`,
      );
      voiced.set(voiceKey(r.name, v), spoken);
    }
  }
  return voiced;
}

/** `voices` without the corpus' own. */
function otherVoices(voices: readonly LongVoice[]): LongVoice[] {
  const own = voiceLabel(DEFAULT_LONG_VOICE);
  return voices.filter((v) => voiceLabel(v) !== own);
}

/** The key of recording `name` spoken in `voice` in {@linkcode speakVoices}. */
function voiceKey(name: string, voice: LongVoice): string {
  return `${name} ${voiceLabel(voice)}`;
}

/**
 * Every cut layout of `recording`'s text in each other voice spoken by
 * {@linkcode speakVoices}, and the means over the voices with `own` (the
 * corpus' own voice's summary) first.
 */
export async function measureVoices(
  systems: LayoutSystems,
  recording: string,
  text: string,
  own: LayoutsSummary,
  voices: readonly LongVoice[],
  voiced: ReadonlyMap<string, LongRecording>,
  layouts: number,
  onVoice: (summary: LayoutsSummary) => Promise<void>,
): Promise<VoicesSummary> {
  const summaries: LayoutsSummary[] = [own];
  const names = [voiceLabel(DEFAULT_LONG_VOICE)];
  for (const v of otherVoices(voices)) {
    const spoken = voiced.get(voiceKey(recording, v))!;
    const speech = (await decodeAudio(await Deno.readFile(spoken.wavPath)))
      .samples;
    const measures: LayoutMeasure[] = [];
    for (let k = 0; k < layouts; k++) {
      measures.push(
        await measureLayout(
          systems,
          `${recording} (${voiceLabel(v)})`,
          speech,
          text,
          3 * k,
        ),
      );
    }
    const summary = {
      ...summarizeLayouts(recording, measures),
      voice: voiceLabel(v),
    };
    summaries.push(summary);
    names.push(voiceLabel(v));
    await onVoice(summary);
  }
  return summarizeVoices(recording, names, summaries);
}
