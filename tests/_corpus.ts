/**
 * A generated corpus of malformed requests against every endpoint, for the
 * bad-input suite. Each case names the statuses it may get; the generator
 * crosses families of bad values (sizes, chunk numbers, ids, headers, audio
 * bytes, file names) with the endpoints they apply to.
 *
 * The cases live in one module per endpoint family, and `corpus()` runs
 * their sections in a fixed order:
 *
 * - `_corpus_uploads.ts`: POST /uploads/initialize, chunks and finalize;
 * - `_corpus_jobs.ts`: crafted ids on every id-taking endpoint, POST /jobs,
 *   the GET /jobs queries, identity and headers, unknown routes;
 * - `_corpus_openai.ts`: the OpenAI-compatible routes and subtitle formats;
 * - `_corpus_helpers.ts`: what they share (the WAV builder, broken audio,
 *   file names, JSON and multipart bodies).
 */
import {
  chunkCases,
  finalizeCases,
  initializeCases,
} from "./_corpus_uploads.ts";
import {
  headerCases,
  jobPostCases,
  jobQueryCases,
  routeCases,
  unknownIdCases,
} from "./_corpus_jobs.ts";
import { openaiCases, subtitleCases } from "./_corpus_openai.ts";

export { badAudio, FILENAMES, wav, type WavSpec } from "./_corpus_helpers.ts";

/** One malformed request and the statuses it may answer with. */
export interface Case {
  /** Family, used in the summary (e.g. `initialize.file_size`). */
  category: string;
  /** What is wrong, for failure messages. */
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Built per request so streams and forms are fresh. */
  body?: () => BodyInit;
  /** Acceptable statuses (all 4xx). */
  expect: number[];
  /**
   * Rejected by the HTTP server before the app sees it (request head larger
   * than the server reads): a bare 4xx without our JSON body.
   */
  httpLayer?: boolean;
}

/** Resources the corpus aims at, created by the suite before running it. */
export interface CorpusContext {
  /** The identity every case is sent as. */
  user: string;
  chunkSize: number;
  maxUploadBytes: number;
  /** The caller's own open session, no chunk uploaded, `totalChunks` > 1. */
  openSession: { id: string; totalChunks: number; fileSize: number };
  /** The caller's own finalized session. */
  finalizedSession: string;
  /** The caller's own session whose chunks are all uploaded, holding `junk`. */
  junkSessions: { id: string; what: string; expect: number[] }[];
  /** The caller's own open session with one chunk missing. */
  incompleteSession: string;
  /** Another identity's session and job. */
  otherSession: string;
  otherJob: string;
  /** A valid WAV the caller may send (used with bad fields beside it). */
  validWav: Uint8Array;
}

/** Adds one case to the corpus (which sends it as `CorpusContext.user`). */
export type AddCase = (c: Case) => void;

/** Generates the whole corpus for `ctx`. */
export function corpus(ctx: CorpusContext): Case[] {
  const cases: Case[] = [];
  const me = { "x-user-id": ctx.user };
  const add = (c: Case) =>
    cases.push({ ...c, headers: { ...me, ...c.headers } });

  initializeCases(add, ctx);
  chunkCases(add, ctx);
  unknownIdCases(add, ctx);
  finalizeCases(add, ctx);
  jobPostCases(add, ctx);
  jobQueryCases(add, ctx);
  headerCases(add, ctx);
  routeCases(add, ctx);
  openaiCases(add, ctx);
  subtitleCases(add, ctx);
  return cases;
}
