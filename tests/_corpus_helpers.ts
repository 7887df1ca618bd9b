/**
 * What the bad-input corpus sections share: a WAV builder that can break any
 * header field, the broken-audio and file-name families, JSON and multipart
 * body builders, the bad model names and the `poster` case builder.
 */
import type { AddCase } from "./_corpus.ts";

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

/** A JSON body (a string is sent as is, so it may be broken JSON). */
export function json(body: unknown): () => BodyInit {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return () => text;
}

/** A multipart body: text fields and files (`bytes` sent under `name`). */
export function form(
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

/** The `content-type` header of a JSON body. */
export const JSON_TYPE = { "content-type": "application/json" };

/**
 * Bad `model_name` values with the status POST /uploads/initialize gives
 * them; POST /jobs sends the non-empty strings among them too.
 */
export const BAD_MODELS: [string, unknown, number][] = [
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

/**
 * Cases posting to `path`, under category `<prefix>.…`; `mapStatus` turns the
 * expected statuses into the route's own.
 */
export function poster(
  add: AddCase,
  prefix: string,
  path: string,
  mapStatus: (status: number) => number = (s) => s,
) {
  return (
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
}
