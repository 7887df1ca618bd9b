/**
 * Bad-input corpus, the native job family: unknown, foreign and crafted ids
 * on every id-taking endpoint, POST /jobs, the GET /jobs queries, identity
 * and header limits, and routes that don't exist.
 */
import type { AddCase, CorpusContext } from "./_corpus.ts";
import {
  BAD_MODELS,
  badAudio,
  FILENAMES,
  form,
  json,
  JSON_TYPE,
  poster,
} from "./_corpus_helpers.ts";

/**
 * Unknown, foreign and crafted ids on every id-taking endpoint (session
 * status, chunk, finalize, job, job wait, delete): random and malformed ids,
 * another identity's session and job, and Redis key suffixes, all 404.
 */
export function unknownIdCases(add: AddCase, ctx: CorpusContext): void {
  const s = ctx.openSession;
  const ids: [string, string][] = [
    ["random uuid", crypto.randomUUID()],
    ["upper-case uuid", crypto.randomUUID().toUpperCase()],
    ["not a uuid", "abc"],
    ["another identity's session", ctx.otherSession],
    ["another identity's job", ctx.otherJob],
    ["tombstone key suffix", `${ctx.otherSession}:seen`],
    ["own tombstone key suffix", `${s.id}:seen`],
    ["chunks key suffix", `${s.id}:chunks`],
    ["glob", "*"],
    ["traversal", "..%2F..%2Fetc%2Fpasswd"],
    ["NUL", "%00"],
    ["bad percent-encoding", "%E0%A4%A"],
    ["unicode", encodeURIComponent("\u{1F600}")],
    ["10 KB id", "a".repeat(10 * 1024)],
  ];
  const valid = form({
    chunk_data: { bytes: new Uint8Array(ctx.chunkSize), name: "c" },
  });
  for (const [name, id] of ids) {
    const sessionIsJob = id === ctx.otherJob;
    add({
      category: "unknown.session_status",
      name,
      method: "GET",
      path: `/uploads/${id}`,
      expect: [404],
    });
    add({
      category: "unknown.chunk",
      name,
      method: "POST",
      path: `/uploads/${id}/chunks/0`,
      body: valid,
      expect: [404],
    });
    add({
      category: "unknown.finalize",
      name,
      method: "POST",
      path: `/uploads/${id}/finalize`,
      expect: [404],
    });
    if (!sessionIsJob) {
      add({
        category: "unknown.job",
        name,
        method: "GET",
        path: `/jobs/${id}`,
        expect: [404],
      });
    }
    add({
      category: "unknown.job_wait",
      name,
      method: "GET",
      path: `/jobs/${id}?wait=1`,
      expect: [404],
    });
    add({
      category: "unknown.delete",
      name,
      method: "DELETE",
      path: `/jobs/${id}`,
      expect: [404],
    });
  }
  add({
    category: "unknown.job",
    name: "another identity's job",
    method: "GET",
    path: `/jobs/${ctx.otherJob}`,
    expect: [404],
  });
}

/**
 * POST /jobs: every broken-audio sample (under the odd file names, then as
 * x.wav), bodies that are not a multipart form with a `file`, bad model and
 * language fields beside a valid WAV, and files above MAX_UPLOAD_BYTES.
 */
export function jobPostCases(add: AddCase, ctx: CorpusContext): void {
  const job = poster(add, "jobs", "/jobs");
  const audio = badAudio(ctx.validWav);
  audio.forEach((a, i) => {
    const filename = FILENAMES[i % FILENAMES.length]!;
    job(
      "audio",
      `${a.name} named ${JSON.stringify(filename.slice(0, 16))}`,
      form({
        file: { bytes: a.bytes, name: filename },
      }),
      a.expect,
    );
  });
  for (const a of audio.slice(0, 12)) {
    job(
      "audio_wav_name",
      `${a.name} named x.wav`,
      form({
        file: { bytes: a.bytes, name: "x.wav" },
      }),
      a.expect,
    );
  }
  const w = { bytes: ctx.validWav, name: "a.wav" };
  job("form", "no body", undefined, [400]);
  job("form", "JSON body", json({ file: "AAAA" }), [400], JSON_TYPE);
  job("form", "urlencoded body", () => "file=abc", [400], {
    "content-type": "application/x-www-form-urlencoded",
  });
  job("form", "missing file field", form({ model_name: "tiny.en" }), [422]);
  job("form", "file as a text field", form({ file: "RIFF....WAVE" }), [422]);
  job("form", "wrong field name", form({ audio: w }), [422]);
  job("form", "empty multipart", form({}), [422]);
  job("form", "multipart without boundary", () => "abc", [400], {
    "content-type": "multipart/form-data",
  });
  job(
    "form",
    "truncated multipart",
    () =>
      '--x\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF',
    [400, 422], // the parser may drop the unterminated part
    { "content-type": "multipart/form-data; boundary=x" },
  );
  for (const [name, model_name] of BAD_MODELS) {
    if (typeof model_name !== "string" || model_name === "") continue;
    job("model", `model_name ${name}`, form({ file: w, model_name }), [422]);
  }
  for (const language of ["fr", "auto", "EN", "english", "e"]) {
    job("language", `language ${language}`, form({ file: w, language }), [422]);
  }
  job(
    "oversized",
    "file above MAX_UPLOAD_BYTES",
    form({
      file: { bytes: new Uint8Array(ctx.maxUploadBytes + 1), name: "a.wav" },
    }),
    [413],
  );
  job(
    "oversized",
    "body far above MAX_UPLOAD_BYTES",
    form({
      file: {
        bytes: new Uint8Array(ctx.maxUploadBytes + 200 * 1024),
        name: "a.wav",
      },
    }),
    [413],
  );
}

/**
 * GET /jobs/{id}?wait= with out-of-range or non-numeric waits, and
 * GET /jobs?limit=&cursor= with bad limits and cursors.
 */
export function jobQueryCases(add: AddCase, ctx: CorpusContext): void {
  for (
    const wait of [
      "-1",
      "31",
      "1000",
      "abc",
      "",
      "NaN",
      "Infinity",
      "1e400",
      "-0.5",
      "30.5",
    ]
  ) {
    add({
      category: "jobs.wait",
      name: `wait=${wait}`,
      method: "GET",
      path: `/jobs/${ctx.otherJob}?wait=${encodeURIComponent(wait)}`,
      expect: [400, 404],
    });
  }
  for (
    const q of [
      "limit=0",
      "limit=-1",
      "limit=101",
      "limit=1.5",
      "limit=abc",
      "limit=1e999",
      "limit=",
      "cursor=abc",
      "cursor=-1",
      "cursor=1.5",
      "cursor=12345678901234567",
      "cursor=",
      "limit=5&cursor=x",
    ]
  ) {
    add({
      category: "jobs.list",
      name: q,
      method: "GET",
      path: `/jobs?${q}`,
      expect: [400],
    });
  }
}

/**
 * Identity and headers: malformed X-User-ID values spread over a few
 * endpoints, and oversized headers on each of them (those the app answers
 * 431, and those the HTTP server rejects before the app sees them).
 */
export function headerCases(add: AddCase, ctx: CorpusContext): void {
  const s = ctx.openSession;
  const w = { bytes: ctx.validWav, name: "a.wav" };
  const badUsers = [
    "has space",
    "a".repeat(129),
    "caf\u00e9",
    'quote"d',
    "slash/ed",
    "semi;colon",
    "tab\there",
    "<script>",
    "*",
  ];
  const endpoints: [string, string, (() => BodyInit) | undefined][] = [
    ["POST", "/uploads/initialize", json({ filename: "a", file_size: 1 })],
    ["GET", `/uploads/${s.id}`, undefined],
    ["GET", "/jobs", undefined],
    ["POST", "/jobs", form({ file: w })],
  ];
  badUsers.forEach((user, i) => {
    const [method, path, body] = endpoints[i % endpoints.length]!;
    add({
      category: "headers.user_id",
      name: `X-User-ID ${
        JSON.stringify(user.slice(0, 20))
      } on ${method} ${path}`,
      method,
      path,
      headers: { ...JSON_TYPE, "x-user-id": user },
      body,
      expect: [400],
    });
  });
  for (const [method, path, body] of endpoints) {
    for (const kb of [20, 48]) {
      add({
        category: "headers.oversized",
        name: `${kb} KB of headers on ${method} ${path}`,
        method,
        path,
        headers: { ...JSON_TYPE, "x-padding": "p".repeat(kb * 1024) },
        body,
        expect: [431],
      });
    }
    add({
      category: "headers.oversized_http_layer",
      name: `200 KB of headers on ${method} ${path}`,
      method,
      path,
      headers: { ...JSON_TYPE, "x-padding": "p".repeat(200 * 1024) },
      body,
      expect: [400, 431],
      httpLayer: true,
    });
  }
  add({
    category: "headers.oversized",
    name: "400 small headers (more than the HTTP server reads)",
    method: "GET",
    path: "/jobs",
    httpLayer: true,
    headers: Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`x-h-${i}`, "v".repeat(40)]),
    ),
    expect: [400, 431],
  });
}

/**
 * Routes and methods that don't exist (some on real paths), all 404.
 */
export function routeCases(add: AddCase, ctx: CorpusContext): void {
  const s = ctx.openSession;
  for (
    const [method, path] of [
      ["PUT", "/jobs"],
      ["PATCH", `/jobs/${ctx.otherJob}`],
      ["GET", "/uploads"],
      ["GET", "/uploads/initialize"],
      ["DELETE", `/uploads/${s.id}`],
      ["GET", `/uploads/${s.id}/chunks/0`],
      ["POST", `/uploads/${s.id}/chunks`],
      ["GET", "/admin"],
      ["GET", "/.env"],
      ["GET", "/jobs/a/b"],
    ]
  ) {
    add({
      category: "routes",
      name: `${method} ${path}`,
      method: method!,
      path: path!,
      expect: [404],
    });
  }
}
