/**
 * HTTP helpers shared by the bad-input, isolation and limits suites: sending a
 * request and checking the JSON error shape, small upload steps, tallies
 * and the report files under `tests/reports/`.
 */

/** What came back from one request. */
export interface Answer {
  status: number;
  /** Parsed JSON body, or null when the body was not JSON. */
  // deno-lint-ignore no-explicit-any
  body: any;
  /** Why the body is not our error shape; null when it is (or for 2xx). */
  shapeProblem: string | null;
  headers: Headers;
}

/** Sends one request and reads the whole answer. */
export async function send(
  baseUrl: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: BodyInit } = {},
): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: init.headers,
    body: init.body,
  });
  const text = await res.text();
  // deno-lint-ignore no-explicit-any
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON: reported as a shape problem below */ }
  return {
    status: res.status,
    body,
    headers: res.headers,
    shapeProblem: res.status < 400
      ? null
      : path.startsWith("/v1")
      ? openAiShapeProblem(res.headers.get("content-type"), body, text)
      : errorShapeProblem(res.headers.get("content-type"), body, text),
  };
}

/**
 * Checks `{"error": {"code", "message"}, "detail"}` with `detail` equal to
 * the message; returns what is wrong, or null.
 */
export function errorShapeProblem(
  contentType: string | null,
  // deno-lint-ignore no-explicit-any
  body: any,
  text: string,
): string | null {
  if (!/^application\/json\b/.test(contentType ?? "")) {
    return `content-type ${contentType}; body ${
      JSON.stringify(text.slice(0, 80))
    }`;
  }
  if (
    body === null || typeof body !== "object" ||
    typeof body.error !== "object" || body.error === null
  ) return `no error object: ${text.slice(0, 120)}`;
  if (
    typeof body.error.code !== "string" || !/^[a-z_]+$/.test(body.error.code)
  ) {
    return `bad error.code: ${text.slice(0, 120)}`;
  }
  if (typeof body.error.message !== "string" || body.error.message === "") {
    return `bad error.message: ${text.slice(0, 120)}`;
  }
  if (body.detail !== body.error.message) {
    return `detail differs from error.message: ${text.slice(0, 120)}`;
  }
  return null;
}

/**
 * Checks OpenAI's error shape, used on `/v1/*`:
 * `{"error": {"message", "type", "param", "code"}}`; returns what is
 * wrong, or null.
 */
export function openAiShapeProblem(
  contentType: string | null,
  // deno-lint-ignore no-explicit-any
  body: any,
  text: string,
): string | null {
  if (!/^application\/json\b/.test(contentType ?? "")) {
    return `content-type ${contentType}; body ${
      JSON.stringify(text.slice(0, 80))
    }`;
  }
  const e = body?.error;
  if (typeof e !== "object" || e === null) {
    return `no error object: ${text.slice(0, 120)}`;
  }
  if (typeof e.message !== "string" || e.message === "") {
    return `bad error.message: ${text.slice(0, 120)}`;
  }
  if (typeof e.type !== "string" || !/^[a-z_]+$/.test(e.type)) {
    return `bad error.type: ${text.slice(0, 120)}`;
  }
  for (const k of ["param", "code"]) {
    if (!(k in e) || (e[k] !== null && typeof e[k] !== "string")) {
      return `bad error.${k}: ${text.slice(0, 120)}`;
    }
  }
  if ("detail" in body) return `native "detail" on /v1: ${text.slice(0, 120)}`;
  return null;
}

/** Counts answers by status and by category. */
export class Tally {
  readonly statuses: Record<string, number> = {};
  readonly categories: Record<string, number> = {};
  requests = 0;
  serverErrors = 0;
  shapeProblems = 0;

  /** Records one answer. */
  add(category: string, a: { status: number; shapeProblem: string | null }) {
    this.requests++;
    this.statuses[a.status] = (this.statuses[a.status] ?? 0) + 1;
    this.categories[category] = (this.categories[category] ?? 0) + 1;
    if (a.status >= 500) this.serverErrors++;
    if (a.shapeProblem) this.shapeProblems++;
  }

  /** `{400: n, 404: m}` rendered for a one-line summary. */
  statusLine(): string {
    return `{${
      Object.entries(this.statuses).sort(([a], [b]) => Number(a) - Number(b))
        .map(([s, n]) => `${s}: ${n}`).join(", ")
    }}`;
  }
}

/** Writes `tests/reports/<name>.json` (small, stable key order). */
export async function writeReport(
  name: string,
  report: Record<string, unknown>,
): Promise<string> {
  const dir = new URL("./reports/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  const file = new URL(`${name}.json`, dir);
  await Deno.writeTextFile(file, JSON.stringify(report, null, 2) + "\n");
  return file.pathname;
}

/** Starts an upload session; throws unless it answers 200. */
export async function initSession(
  baseUrl: string,
  headers: Record<string, string>,
  fileSize: number,
  filename = "a.wav",
): Promise<{ id: string; totalChunks: number; chunkSize: number }> {
  const a = await send(baseUrl, "POST", "/uploads/initialize", {
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ filename, file_size: fileSize }),
  });
  if (a.status !== 200) {
    throw new Error(`initialize: ${a.status} ${JSON.stringify(a.body)}`);
  }
  return {
    id: a.body.session_id,
    totalChunks: a.body.total_chunks,
    chunkSize: a.body.chunk_size,
  };
}

/** A multipart body with one file field. */
export function fileForm(
  field: string,
  bytes: Uint8Array,
  name = "a.wav",
): FormData {
  const f = new FormData();
  f.append(field, new Blob([bytes as BlobPart]), name);
  return f;
}

/** Uploads chunk `n` of `bytes`; returns the answer. */
export function putChunk(
  baseUrl: string,
  headers: Record<string, string>,
  session: { id: string; chunkSize: number },
  bytes: Uint8Array,
  n: number,
): Promise<Answer> {
  const part = bytes.slice(n * session.chunkSize, (n + 1) * session.chunkSize);
  return send(baseUrl, "POST", `/uploads/${session.id}/chunks/${n}`, {
    headers,
    body: fileForm("chunk_data", part, "chunk"),
  });
}

/** Uploads every chunk of `bytes` (throws unless each is 200). */
export async function putAllChunks(
  baseUrl: string,
  headers: Record<string, string>,
  session: { id: string; totalChunks: number; chunkSize: number },
  bytes: Uint8Array,
): Promise<void> {
  for (let n = 0; n < session.totalChunks; n++) {
    const a = await putChunk(baseUrl, headers, session, bytes, n);
    if (a.status !== 200) {
      throw new Error(`chunk ${n}: ${a.status} ${JSON.stringify(a.body)}`);
    }
  }
}
