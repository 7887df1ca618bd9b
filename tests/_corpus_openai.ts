/**
 * Bad-input corpus, the OpenAI-compatible family: POST
 * /v1/audio/transcriptions, /v1/models and unknown /v1 routes, plus the
 * subtitle formats of native jobs.
 */
import type { AddCase, CorpusContext } from "./_corpus.ts";
import { badAudio, form, json, poster } from "./_corpus_helpers.ts";

/**
 * The OpenAI-compatible routes, whose errors come in OpenAI's shape: POST
 * /v1/audio/transcriptions without a usable file, with every broken-audio
 * sample and with bad fields; unknown model ids; /v1 routes and methods we
 * don't serve.
 */
export function openaiCases(add: AddCase, ctx: CorpusContext): void {
  const audio = badAudio(ctx.validWav);
  // Our 422 (a bad field or broken audio) is a 400 there.
  const v1 = poster(
    add,
    "v1",
    "/v1/audio/transcriptions",
    (s) => s === 422 ? 400 : s,
  );
  const sample = { bytes: ctx.validWav, name: "sample.wav" };
  v1("body", "no body", undefined, [400]);
  for (
    const type of ["application/json", "text/plain", "multipart/form-data"]
  ) {
    v1("body", `content-type "${type}"`, json({ file: "x" }), [400], {
      "content-type": type,
    });
  }
  v1("file", "no file field", form({ model: "whisper-1" }), [400]);
  v1("file", "file as a text field", form({ file: "just text" }), [400]);
  audio.forEach((a) =>
    v1(
      "audio",
      a.name,
      form({ file: { bytes: a.bytes, name: "a.wav" } }),
      a.expect,
    )
  );
  v1(
    "file",
    "oversized file",
    form({
      file: { bytes: new Uint8Array(ctx.maxUploadBytes + 1), name: "big.wav" },
    }),
    [413],
  );
  const fields: [string, Record<string, string>, number][] = [
    ["unknown model", { model: "tiny" }, 404],
    ["model too long", { model: "m".repeat(65) }, 400],
    ["language a word", { language: "english" }, 400],
    ["language upper case", { language: "EN" }, 400],
    ["language one letter", { language: "e" }, 400],
    ["language region", { language: "en-US" }, 400],
    ["language not English on an English-only model", { language: "fr" }, 400],
    ["response_format unknown", { response_format: "xml" }, 400],
    ["response_format upper case", { response_format: "JSON" }, 400],
    ["temperature negative", { temperature: "-0.1" }, 400],
    ["temperature over 1", { temperature: "2" }, 400],
    ["temperature not a number", { temperature: "warm" }, 400],
    ["temperature NaN", { temperature: "NaN" }, 400],
    ["temperature Infinity", { temperature: "Infinity" }, 400],
    ["granularity unknown", { "timestamp_granularities[]": "char" }, 400],
    ["granularity without verbose_json", {
      "timestamp_granularities[]": "word",
      response_format: "json",
    }, 400],
    ["stream not a boolean", { stream: "yes" }, 400],
    ["stream with srt", { stream: "true", response_format: "srt" }, 400],
    ["prompt too long", { prompt: "p".repeat(2001) }, 400],
  ];
  for (const [name, extra, status] of fields) {
    v1("fields", name, form({ file: sample, ...extra }), [status]);
  }
  for (const id of ["nope", "whisper-2", "x".repeat(300), "%00", "..%2f.env"]) {
    add({
      category: "v1.models",
      name: `GET /v1/models/${id.slice(0, 20)}`,
      method: "GET",
      path: `/v1/models/${id}`,
      expect: [404],
    });
  }
  for (
    const [method, path] of [
      ["GET", "/v1/audio/transcriptions"],
      ["DELETE", "/v1/models"],
      ["POST", "/v1/audio/translations"],
      ["POST", "/v1/chat/completions"],
      ["GET", "/v1"],
    ]
  ) {
    add({
      category: "v1.routes",
      name: `${method} ${path}`,
      method: method!,
      path: path!,
      expect: [404],
    });
  }
}

/**
 * GET /jobs/{id}?format=: unknown subtitle formats, and another identity's
 * job asked for as SRT.
 */
export function subtitleCases(add: AddCase, ctx: CorpusContext): void {
  // Subtitles of native jobs: a bad format, and another identity's job.
  for (const format of ["xml", "SRT", "", "srt%00"]) {
    add({
      category: "jobs.format",
      name: `format=${format}`,
      method: "GET",
      path: `/jobs/${ctx.otherJob}?format=${format}`,
      expect: [400],
    });
  }
  add({
    category: "jobs.format",
    name: "another identity's job as srt",
    method: "GET",
    path: `/jobs/${ctx.otherJob}?format=srt`,
    expect: [404],
  });
}
