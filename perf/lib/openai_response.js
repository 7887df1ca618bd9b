/**
 * Reading one answer of the OpenAI-compatible route
 * (`POST /v1/audio/transcriptions`, `response_format=json`): whether the user
 * got a transcript from the model they asked for, and the timings the
 * service reports in its headers. No k6 imports, so the Deno tests import it
 * too.
 */

/**
 * A header's value, whatever the case of its name (k6 canonicalizes names,
 * e.g. `X-Processing-Ms`).
 * @param {Record<string, string | undefined>} headers
 * @param {string} name
 * @returns {string | undefined}
 */
export function header(headers, name) {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers || {})) {
    if (k.toLowerCase() === wanted) return v;
  }
  return undefined;
}

/**
 * A header holding milliseconds: a finite number >= 0, else undefined.
 * @param {string | undefined} raw
 * @returns {number | undefined}
 */
export function msValue(raw) {
  if (raw === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parses `MODEL_ALIASES` (`alias=model,...`, the service's variable) into
 * alias → model.
 * @param {string | undefined} spec
 * @returns {Record<string, string>}
 */
export function parseAliases(spec) {
  const out = {};
  for (const entry of String(spec || "").split(",")) {
    if (entry.trim() === "") continue;
    const m = /^\s*([^=\s]+)\s*=\s*([^=\s]+)\s*$/.exec(entry);
    if (!m) {
      throw new Error(
        `MODEL_ALIASES must be alias=model,..., got "${spec}"`,
      );
    }
    out[m[1]] = m[2];
  }
  return out;
}

/**
 * The model a request for `asked` must be answered by: its alias's model,
 * else the name itself; undefined for `whisper-1` without an alias (the
 * service's default, whichever that is).
 * @param {string | undefined} asked
 * @param {Record<string, string>} [aliases]
 * @returns {string | undefined}
 */
export function expectedModel(asked, aliases = {}) {
  if (!asked) return undefined;
  if (Object.hasOwn(aliases, asked)) return aliases[asked];
  return asked === "whisper-1" ? undefined : asked;
}

/**
 * @typedef {object} TranscriptionAnswer
 * @property {boolean} ok a 200 with a transcript from the model asked for
 * @property {number} status
 * @property {string | undefined} text the transcript
 * @property {string | undefined} model `X-Model`: the model actually used
 * @property {string | undefined} jobId `X-Job-Id`
 * @property {number | undefined} processingMs `X-Processing-Ms`
 * @property {number | undefined} queueWaitMs `X-Queue-Wait-Ms`
 * @property {number | undefined} overheadMs the request's duration minus
 *   processing minus queue wait: the time the service spent on the request
 *   besides transcribing it (undefined without both headers)
 * @property {string[]} problems why it is not ok, or what it lacks
 */

/**
 * Reads one answer.
 *
 * @param {{status: number, headers: Record<string, string | undefined>,
 *   body: string | null | undefined, durationMs: number}} res the response;
 *   `durationMs` is k6's `timings.duration` (sending + waiting + receiving)
 * @param {{model?: string, aliases?: Record<string, string>}} [asked] the
 *   `model` field sent and the service's `MODEL_ALIASES`
 *   ({@linkcode expectedModel}: `whisper-1` matches any `X-Model`)
 * @returns {TranscriptionAnswer}
 */
export function readTranscription(res, asked = {}) {
  const problems = [];
  const model = header(res.headers, "X-Model");
  const jobId = header(res.headers, "X-Job-Id");
  const processingMs = msValue(header(res.headers, "X-Processing-Ms"));
  const queueWaitMs = msValue(header(res.headers, "X-Queue-Wait-Ms"));
  let body;
  try {
    body = JSON.parse(res.body ?? "");
  } catch {
    body = undefined;
  }
  let text;
  if (res.status === 200) {
    if (body && typeof body.text === "string") text = body.text;
    else problems.push("status 200 without a transcript (`text`) in the body");
    const expected = expectedModel(asked.model, asked.aliases);
    if (expected !== undefined && model !== undefined && model !== expected) {
      problems.push(
        `X-Model is ${model}, asked for ${asked.model}${
          expected === asked.model ? "" : ` (an alias of ${expected})`
        }`,
      );
    }
  } else {
    const e = body && typeof body.error === "object" && body.error
      ? body.error
      : {};
    problems.push(
      `status ${res.status}${e.type ? ` ${e.type}` : ""}${
        e.code ? ` (${e.code})` : ""
      }${e.message ? `: ${e.message}` : ""}`,
    );
  }
  const ok = problems.length === 0;
  if (ok && processingMs === undefined) {
    problems.push("X-Processing-Ms is missing or not a number");
  }
  if (ok && queueWaitMs === undefined) {
    problems.push("X-Queue-Wait-Ms is missing or not a number");
  }
  const overheadMs = processingMs !== undefined && queueWaitMs !== undefined
    ? res.durationMs - processingMs - queueWaitMs
    : undefined;
  return {
    ok,
    status: res.status,
    text,
    model,
    jobId,
    processingMs,
    queueWaitMs,
    overheadMs,
    problems,
  };
}
