/**
 * A generated corpus of malformed requests against every endpoint, for the
 * bad-input suite. Each case names the statuses it may get; the generator
 * crosses families of bad values (sizes, chunk numbers, ids, headers, audio
 * bytes, file names) with the endpoints they apply to.
 */

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

const enc = new TextEncoder();

/** Fields of a synthetic WAV header; anything may be out of range. */
export interface WavSpec {
  tag?: number;
  channels?: number;
  sampleRate?: number;
  bits?: number;
  /** Bytes of sample data written. */
  dataBytes?: number;
  /** Declared size of the data chunk (default: dataBytes). */
  dataSize?: number;
  /** Declared fmt chunk size (default 16, or 40 when extensible). */
  fmtSize?: number;
  /** Write a WAVE_FORMAT_EXTENSIBLE chunk with this sub-format tag. */
  extensibleSub?: number;
  /** Corrupt the sub-format GUID. */
  badGuid?: boolean;
  /** Leave out the fmt or data chunk. */
  omit?: "fmt" | "data";
  /** Put data before fmt. */
  dataFirst?: boolean;
  /** The four bytes at 8 (default "WAVE"). */
  wave?: string;
  /** Cut the file to this many bytes. */
  truncateAt?: number;
}

/** Builds a (possibly broken) WAV file from `spec`. */
export function wav(spec: WavSpec = {}): Uint8Array {
  const channels = spec.channels ?? 1;
  const sampleRate = spec.sampleRate ?? 16000;
  const bits = spec.bits ?? 16;
  const dataBytes = spec.dataBytes ?? 3200;
  const ext = spec.extensibleSub !== undefined;
  const fmtSize = spec.fmtSize ?? (ext ? 40 : 16);
  const fmtBody = new Uint8Array(Math.max(fmtSize, ext ? 40 : 16));
  const f = new DataView(fmtBody.buffer);
  f.setUint16(0, ext ? 0xfffe : spec.tag ?? 1, true);
  f.setUint16(2, channels & 0xffff, true);
  f.setUint32(4, sampleRate >>> 0, true);
  const align = Math.max(1, channels * Math.ceil(bits / 8));
  f.setUint32(8, (sampleRate * align) >>> 0, true);
  f.setUint16(12, align & 0xffff, true);
  f.setUint16(14, bits & 0xffff, true);
  if (ext) {
    f.setUint16(16, 22, true);
    f.setUint16(18, bits & 0xffff, true);
    f.setUint32(20, 0, true);
    f.setUint16(24, spec.extensibleSub!, true);
    const tail = [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71];
    tail.forEach((b, i) => f.setUint8(26 + i, spec.badGuid ? b ^ 0x5a : b));
  }
  const fmtChunk = chunk("fmt ", fmtBody.subarray(0, fmtSize), fmtSize);
  const data = new Uint8Array(dataBytes);
  for (let i = 0; i < dataBytes; i++) data[i] = (i * 37) & 0xff;
  const dataChunk = chunk("data", data, spec.dataSize ?? dataBytes);
  const parts = spec.omit === "fmt"
    ? [dataChunk]
    : spec.omit === "data"
    ? [fmtChunk]
    : spec.dataFirst
    ? [dataChunk, fmtChunk]
    : [fmtChunk, dataChunk];
  const size = 12 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  out.set(enc.encode("RIFF"), 0);
  new DataView(out.buffer).setUint32(4, size - 8, true);
  out.set(enc.encode((spec.wave ?? "WAVE").slice(0, 4).padEnd(4)), 8);
  let at = 12;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return spec.truncateAt === undefined ? out : out.slice(0, spec.truncateAt);
}

function chunk(id: string, body: Uint8Array, declared: number): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  out.set(enc.encode(id), 0);
  new DataView(out.buffer).setUint32(4, declared >>> 0, true);
  out.set(body, 8);
  return out;
}

/** Non-audio and broken-audio uploads with the statuses they must get. */
export function badAudio(
  valid: Uint8Array,
): { name: string; bytes: Uint8Array; expect: number[] }[] {
  const out: { name: string; bytes: Uint8Array; expect: number[] }[] = [];
  const add = (name: string, bytes: Uint8Array, expect: number[]) =>
    out.push({ name, bytes, expect });
  add("zero-length", new Uint8Array(0), [422]);
  add("text", enc.encode("just some text, not audio"), [415]);
  add("json", enc.encode('{"filename":"a.wav"}'), [415]);
  add("html", enc.encode("<!doctype html><title>x</title>"), [415]);
  add("png", Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0), [
    415,
  ]);
  add("zip", Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0, 0, 0), [415]);
  add("elf", Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0), [415]);
  add("nul bytes", new Uint8Array(4096), [415]);
  add("one byte", Uint8Array.of(0x52), [415]);
  add(
    "pseudo-random",
    Uint8Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 251),
    [415],
  );
  // Magic numbers of formats ffmpeg decodes, followed by garbage.
  const garbage = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff);
  const magic = (m: number[]) => {
    const b = garbage.slice();
    b.set(m, 0);
    return b;
  };
  add("fake mp3 frame", magic([0xff, 0xfb, 0x90, 0x00]), [422]);
  add("fake id3", magic([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0]), [422]);
  add("fake flac", magic([0x66, 0x4c, 0x61, 0x43]), [422]);
  add("fake ogg", magic([0x4f, 0x67, 0x67, 0x53]), [422]);
  add("fake m4a", magic([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]), [422]);
  add("fake webm", magic([0x1a, 0x45, 0xdf, 0xa3]), [422]);
  // Truncated headers: every cut through the 44-byte header of a real file.
  for (const cut of [1, 4, 8, 11, 12, 16, 20, 24, 28, 36, 40, 43, 44, 45]) {
    add(
      `valid WAV cut at ${cut} bytes`,
      valid.slice(0, cut),
      cut < 12 ? [415] : [422],
    );
  }
  add("RIFF but not WAVE", wav({ wave: "AVI " }), [415]);
  add("RIFF WAVE only", wav({}).slice(0, 12), [422]);
  add("no fmt chunk", wav({ omit: "fmt" }), [422]);
  add("no data chunk", wav({ omit: "data" }), [422]);
  add("fmt chunk 8 bytes", wav({ fmtSize: 8 }), [422]);
  add("fmt longer than file", wav({ fmtSize: 16, truncateAt: 30 }), [422]);
  add("empty data chunk", wav({ dataBytes: 0 }), [422]);
  add("data smaller than a frame", wav({ channels: 2, dataBytes: 3 }), [422]);
  for (const channels of [0, 9, 16, 255, 65535]) {
    add(`${channels} channels`, wav({ channels }), [422]);
  }
  for (const sampleRate of [0, 1, 8, 999, 384001, 1e6, 0xffffffff]) {
    add(`sample rate ${sampleRate}`, wav({ sampleRate }), [422]);
  }
  for (const bits of [0, 1, 4, 7, 12, 20, 48, 64, 65535]) {
    add(`${bits}-bit PCM`, wav({ bits }), [415]);
  }
  for (const bits of [8, 16, 24]) {
    add(`${bits}-bit float`, wav({ tag: 3, bits }), [415]);
  }
  for (const tag of [0, 2, 6, 7, 0x11, 0x55, 0xffff]) {
    add(`format tag 0x${tag.toString(16)}`, wav({ tag }), [415]);
  }
  add(
    "extensible with a foreign GUID",
    wav({ extensibleSub: 1, badGuid: true }),
    [
      415,
    ],
  );
  add("extensible sub-format 0x55", wav({ extensibleSub: 0x55 }), [415]);
  add(
    "extensible fmt cut to 20 bytes",
    wav({ extensibleSub: 1, fmtSize: 20 }),
    [
      422,
    ],
  );
  return out;
}

/** File names that must stay metadata: unicode, traversal, control, huge. */
export const FILENAMES = [
  "../../etc/passwd",
  "..\\..\\windows\\system32\\config\\sam",
  "/etc/shadow",
  "C:\\boot.ini",
  "%2e%2e%2fetc%2fpasswd",
  "\u{1F600}\u{1F3B5}.wav",
  "\u0645\u0631\u062D\u0628\u0627.wav",
  "\u202Evaw.exe",
  "na\u00EFve caf\u00E9.wav",
  "a".repeat(1000) + ".wav",
  "",
  ".",
  "CON",
];

function json(body: unknown): () => BodyInit {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return () => text;
}

function form(
  fields: Record<string, string | { bytes: Uint8Array; name: string }>,
): () => BodyInit {
  return () => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v === "string") f.append(k, v);
      else f.append(k, new Blob([v.bytes as BlobPart]), v.name);
    }
    return f;
  };
}

const JSON_TYPE = { "content-type": "application/json" };

/** Generates the whole corpus for `ctx`. */
export function corpus(ctx: CorpusContext): Case[] {
  const cases: Case[] = [];
  const me = { "x-user-id": ctx.user };
  const add = (c: Case) =>
    cases.push({ ...c, headers: { ...me, ...c.headers } });

  // ---- POST /uploads/initialize ---------------------------------------
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
  const models: [string, unknown, number][] = [
    ["unknown", "large-v3", 422],
    ["traversal", "../../etc/passwd", 422],
    ["multilingual not installed", "tiny", 422],
    ["upper case", "TINY.EN", 422],
    ["empty", "", 422],
    ["65 characters", "m".repeat(65), 422],
    ["number", 1, 422],
    ["null", null, 422],
    ["array", ["tiny.en"], 422],
  ];
  for (const [name, model_name, status] of models) {
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

  // ---- POST /uploads/{sid}/chunks/{n} ------------------------------------
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

  // ---- unknown, foreign and crafted ids on every id-taking endpoint -----
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

  // ---- POST /uploads/{sid}/finalize on bad content ----------------------
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

  // ---- POST /jobs ---------------------------------------------------------
  /** Cases posting to `path`, under category `<prefix>.…`. */
  const poster = (
    prefix: string,
    path: string,
    mapStatus: (status: number) => number = (s) => s,
  ) =>
  (
    category: string,
    name: string,
    body: (() => BodyInit) | undefined,
    expect: number[],
    headers: Record<string, string> = {},
  ) =>
    add({
      category: `${prefix}.${category}`,
      name,
      method: "POST",
      path,
      headers,
      body,
      expect: expect.map(mapStatus),
    });
  const job = poster("jobs", "/jobs");
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
  for (const [name, model_name] of models) {
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

  // ---- GET /jobs/{id}?wait= and GET /jobs?limit=&cursor= -----------------
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

  // ---- identity and headers ----------------------------------------------
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

  // ---- routes and methods that don't exist --------------------------------
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

  // ---- the OpenAI-compatible routes (errors in OpenAI's shape) ------------
  // Our 422 (a bad field or broken audio) is a 400 there.
  const v1 = poster(
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
    ["stream", { stream: "true" }, 400],
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
  return cases;
}
