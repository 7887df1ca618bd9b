/**
 * Bad-input corpus, the chunked upload family: POST /uploads/initialize,
 * POST /uploads/{sid}/chunks/{n} and POST /uploads/{sid}/finalize.
 */
import type { AddCase, CorpusContext } from "./_corpus.ts";
import {
  BAD_MODELS,
  FILENAMES,
  form,
  json,
  JSON_TYPE,
} from "./_corpus_helpers.ts";

/**
 * POST /uploads/initialize: broken JSON, wrong content types, and every
 * field (file_size, filename, model_name, language) with bad values, plus
 * bodies above the JSON limit.
 */
export function initializeCases(add: AddCase, ctx: CorpusContext): void {
  const init = (
    category: string,
    name: string,
    body: unknown,
    expect: number[],
    headers: Record<string, string> = JSON_TYPE,
  ) =>
    add({
      category: `initialize.${category}`,
      name,
      method: "POST",
      path: "/uploads/initialize",
      headers,
      body: body === undefined ? undefined : json(body),
      expect,
    });
  init("json", "no body", undefined, [400]);
  const badJson = [
    "",
    "{",
    "}",
    "{'filename':'a','file_size':1}",
    '{"filename":"a","file_size":1',
    '{"filename":"a",,"file_size":1}',
    '{"filename":"a","file_size":01}',
    '{"filename":"a","file_size":NaN}',
    '{"filename":"a","file_size":Infinity}',
    '{"filename":"a","file_size":0x10}',
    '{"filename":"a" "file_size":1}',
    "undefined",
    "\u0000",
    "\uFEFF{}garbage",
    "[1,2",
    '{"a":"\\x41"}',
  ];
  badJson.forEach((b, i) => init("json", `invalid JSON #${i}`, b, [400]));
  for (const v of ["null", "1", '"text"', "[]", "true", "[{}]", "{}"]) {
    init("json", `JSON ${v}`, v, [422]);
  }
  for (
    const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
      "application/xml",
      "",
    ]
  ) {
    init(
      "content_type",
      `content-type "${type}"`,
      {
        filename: "a.wav",
        file_size: 10,
      },
      [400],
      { "content-type": type },
    );
  }
  const sizes: [string, unknown, number][] = [
    ["missing", undefined, 422],
    ["zero", 0, 422],
    ["negative", -1, 422],
    ["very negative", -1e12, 422],
    ["fractional", 1.5, 422],
    ["tiny fraction", 0.0001, 422],
    ["negative fraction", -0.5, 422],
    ["numeric string", "10", 422],
    ["non-numeric string", "abc", 422],
    ["empty string", "", 422],
    ["exponent string", "1e3", 422],
    ["null", null, 422],
    ["array", [10], 422],
    ["object", { n: 10 }, 422],
    ["boolean", true, 422],
    ["huge", 1e300, 422],
    ["above safe integer", 2 ** 53 + 2, 422],
    ["just above the limit", ctx.maxUploadBytes + 1, 413],
    ["max safe integer", Number.MAX_SAFE_INTEGER, 413],
    ["a terabyte", 2 ** 40, 413],
  ];
  for (const [name, file_size, status] of sizes) {
    init("file_size", `file_size ${name}`, { filename: "a.wav", file_size }, [
      status,
    ]);
  }
  const filenames: [string, unknown][] = [
    ["missing", undefined],
    ["empty", ""],
    ["number", 12],
    ["null", null],
    ["array", ["a.wav"]],
    ["object", { name: "a.wav" }],
    ["boolean", false],
    ["256 characters", "a".repeat(256)],
    ["10000 characters", "b".repeat(10000)],
    ["NUL", "a\u0000.wav"],
    ["newline", "a\n.wav"],
    ["tab", "a\t.wav"],
    ["DEL", "a\u007f.wav"],
    ["escape", "\u001b[31m.wav"],
  ];
  for (const [name, filename] of filenames) {
    init("filename", `filename ${name}`, { filename, file_size: 10 }, [422]);
  }
  // Unicode and traversal names are accepted as metadata, so they are sent
  // here beside a bad size: the name must not change the answer.
  for (const filename of FILENAMES.filter((f) => f.length > 0)) {
    init(
      "filename",
      `filename ${JSON.stringify(filename.slice(0, 20))} with size -1`,
      {
        filename,
        file_size: -1,
      },
      [422],
    );
  }
  for (const [name, model_name, status] of BAD_MODELS) {
    init("model", `model_name ${name}`, {
      filename: "a.wav",
      file_size: 10,
      model_name,
    }, [status]);
  }
  for (const language of ["fr", "auto", "EN", "english", "", "e", 1, null]) {
    init("language", `language ${JSON.stringify(language)}`, {
      filename: "a.wav",
      file_size: 10,
      language,
    }, [422]);
  }
  init("oversized", "70 KB JSON body", {
    filename: "a.wav",
    file_size: 10,
    pad: "x".repeat(70 * 1024),
  }, [413]);
  init("oversized", "2 MB JSON body", "[" + "1,".repeat(1_000_000) + "1]", [
    413,
  ]);
}

/**
 * POST /uploads/{sid}/chunks/{n} on the caller's open session: chunk numbers
 * that are not a valid index, then bodies that are not one chunk of the right
 * size in the right multipart field; and a chunk to a finalized session.
 */
export function chunkCases(add: AddCase, ctx: CorpusContext): void {
  const s = ctx.openSession;
  const lastSize = s.fileSize - ctx.chunkSize * (s.totalChunks - 1);
  const oneByte = form({ chunk_data: { bytes: new Uint8Array(1), name: "c" } });
  const chunkNumbers: [string, number][] = [
    ["-1", 400],
    ["-0", 400],
    ["1.5", 400],
    ["0.0", 400],
    ["abc", 400],
    ["1e3", 400],
    ["0x1", 400],
    ["+1", 400],
    [" 1", 400],
    ["1 ", 400],
    ["NaN", 400],
    ["Infinity", 400],
    ["null", 400],
    ["%2D1", 400],
    [String(s.totalChunks), 400],
    [String(s.totalChunks + 1), 400],
    ["4294967296", 400],
    ["99999999999", 400],
    ["9".repeat(400), 400],
    ["\u0661", 400], // Arabic-Indic digit one
  ];
  for (const [n, status] of chunkNumbers) {
    add({
      category: "chunk.number",
      name: `chunk number ${JSON.stringify(n.slice(0, 20))}`,
      method: "POST",
      path: `/uploads/${s.id}/chunks/${encodeURIComponent(n)}`,
      body: oneByte,
      expect: [status],
    });
  }
  const chunkBodies: [
    string,
    () => BodyInit,
    Record<string, string>,
    number | number[],
  ][] = [
    ["no body", () => "", {}, 400],
    ["JSON body", json({ chunk_data: "AAAA" }), JSON_TYPE, 400],
    ["text body", () => "hello", { "content-type": "text/plain" }, 400],
    ["missing field", form({ other: "x" }), {}, 422],
    [
      "wrong field name",
      form({ chunk: { bytes: new Uint8Array(ctx.chunkSize), name: "c" } }),
      {},
      422,
    ],
    ["empty multipart", form({}), {}, 422],
    [
      "multipart without boundary",
      () => "--x\r\n\r\n",
      { "content-type": "multipart/form-data" },
      400,
    ],
    [
      "garbled multipart",
      () => "--x\r\ncontent-disposition: form-data\r\n\r\nabc",
      { "content-type": "multipart/form-data; boundary=x" },
      422, // parsed, but without the field
    ],
    [
      "multipart truncated mid-part",
      () =>
        '--x\r\ncontent-disposition: form-data; name="chunk_data"; filename="c"\r\n\r\nabc',
      { "content-type": "multipart/form-data; boundary=x" },
      [400, 422], // the parser may drop the unterminated part
    ],
    [
      "zero-length chunk",
      form({ chunk_data: { bytes: new Uint8Array(0), name: "c" } }),
      {},
      400,
    ],
    [
      "chunk one byte short",
      form({
        chunk_data: { bytes: new Uint8Array(ctx.chunkSize - 1), name: "c" },
      }),
      {},
      400,
    ],
    [
      "chunk one byte long",
      form({
        chunk_data: { bytes: new Uint8Array(ctx.chunkSize + 1), name: "c" },
      }),
      {},
      400,
    ],
    [
      "chunk twice the size",
      form({
        chunk_data: { bytes: new Uint8Array(ctx.chunkSize * 2), name: "c" },
      }),
      {},
      400,
    ],
    [
      "oversized chunk body",
      form({
        chunk_data: {
          bytes: new Uint8Array(ctx.chunkSize + 70 * 1024),
          name: "c",
        },
      }),
      {},
      413,
    ],
    [
      "chunk as a text field",
      form({ chunk_data: "short text" }),
      {},
      400,
    ],
  ];
  for (const [name, body, headers, status] of chunkBodies) {
    add({
      category: "chunk.body",
      name,
      method: "POST",
      path: `/uploads/${s.id}/chunks/0`,
      headers,
      body,
      expect: Array.isArray(status) ? status : [status],
    });
  }
  add({
    category: "chunk.body",
    name: "last chunk with a full chunk's bytes",
    method: "POST",
    path: `/uploads/${s.id}/chunks/${s.totalChunks - 1}`,
    body: form({
      chunk_data: { bytes: new Uint8Array(lastSize + 1), name: "c" },
    }),
    expect: [400],
  });
  add({
    category: "chunk.body",
    name: "chunk to a finalized session",
    method: "POST",
    path: `/uploads/${ctx.finalizedSession}/chunks/0`,
    body: form({
      chunk_data: { bytes: new Uint8Array(ctx.chunkSize), name: "c" },
    }),
    expect: [409],
  });
}

/**
 * POST /uploads/{sid}/finalize on bad content: sessions with chunks missing
 * and the junk sessions (complete uploads that are not usable audio), and a
 * body above the JSON limit.
 */
export function finalizeCases(add: AddCase, ctx: CorpusContext): void {
  const s = ctx.openSession;
  add({
    category: "finalize.missing",
    name: "chunks missing",
    method: "POST",
    path: `/uploads/${ctx.incompleteSession}/finalize`,
    expect: [409],
  });
  add({
    category: "finalize.missing",
    name: "nothing uploaded",
    method: "POST",
    path: `/uploads/${s.id}/finalize`,
    expect: [409],
  });
  for (const j of ctx.junkSessions) {
    add({
      category: "finalize.audio",
      name: j.what,
      method: "POST",
      path: `/uploads/${j.id}/finalize`,
      expect: j.expect,
    });
  }
  add({
    category: "finalize.oversized",
    name: "70 KB body to finalize",
    method: "POST",
    path: `/uploads/${s.id}/finalize`,
    headers: JSON_TYPE,
    body: json({ pad: "x".repeat(70 * 1024) }),
    expect: [413],
  });
}
