/**
 * A streamed transcription (`stream=true`): server-sent events as OpenAI's
 * API sends them — `transcript.text.delta` each time the text grows, then
 * one `transcript.text.done` with the whole text — so a client sees a long
 * recording's text arrive as its first pieces finish, not only at the end.
 * A failure after the events began is an event `{"error": {…}}` in OpenAI's
 * error shape, which the SDKs raise as an APIError.
 *
 * @module
 */
import type { JobRecord } from "../../queue/mod.ts";
import { AppError, openAiError } from "../../errors/mod.ts";

/** What a stream needs from the job logic. */
export interface StreamSource {
  /**
   * Waits for the job to end (`JobService.awaitFinal`), calling
   * `onProgress` each time it wakes before then; null when the job is gone.
   */
  awaitFinal(
    signal: AbortSignal,
    onProgress: (job: JobRecord) => Promise<void>,
  ): Promise<JobRecord | null>;
  /** The text of the job's first pieces that are all done. */
  textSoFar(job: JobRecord): Promise<string>;
  /** The error a job that ended without text answers with. */
  failure(job: JobRecord | null): AppError;
  /** Reports an error that is ours (5xx) — the stream only carries it. */
  onServerError?(e: AppError, cause: unknown): void;
}

/** One server-sent event carrying `data` as JSON. */
export function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/**
 * The data of each event in `text`, a stream as {@linkcode sseData} writes
 * it (comments skipped): for clients and tests.
 */
export function parseSse(text: string): unknown[] {
  return text.split("\n\n").flatMap((block) => {
    const data = block.split("\n").filter((l) => l.startsWith("data: "))
      .map((l) => l.slice(6)).join("\n");
    return data ? [JSON.parse(data)] : [];
  });
}

/** A comment line: keeps an idle connection from looking dead to proxies. */
export const SSE_KEEP_ALIVE = ": keep-alive\n\n";

/**
 * The events of one job's transcription, written as its text grows. A
 * delta is only ever appended text (a piece's text never changes once
 * done), so the deltas joined are the done event's text. `toAppError` maps
 * an unexpected throw (the store down…) to the error event sent;
 * `clientGone` aborts when the client disconnects, as does cancelling the
 * stream.
 */
export function transcriptionEvents(
  source: StreamSource,
  options: {
    toAppError: (error: unknown) => AppError;
    keepAliveMs: number;
    clientGone: AbortSignal;
  },
): ReadableStream<Uint8Array> {
  const { toAppError, keepAliveMs } = options;
  const encoder = new TextEncoder();
  const cancelled = new AbortController();
  const gone = AbortSignal.any([cancelled.signal, options.clientGone]);
  let sent = "";
  let lastWrite = Date.now();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (gone.aborted) return;
        controller.enqueue(encoder.encode(text));
        lastWrite = Date.now();
      };
      const grow = (text: string) => {
        if (text.length > sent.length && text.startsWith(sent)) {
          write(sseData({
            type: "transcript.text.delta",
            delta: text.slice(sent.length),
          }));
          sent = text;
        }
      };
      const run = async () => {
        try {
          let done = 0;
          const job = await source.awaitFinal(gone, async (j) => {
            // The text grows only when a piece has finished.
            if (j.pieces_done > done) {
              done = j.pieces_done;
              grow(await source.textSoFar(j));
            }
            if (Date.now() - lastWrite >= keepAliveMs) write(SSE_KEEP_ALIVE);
          });
          if (job?.status !== "completed") throw source.failure(job);
          const text = job.transcript ?? "";
          grow(text);
          const usage = {
            type: "duration",
            seconds: Math.ceil(job.audio_duration_s ?? 0),
          };
          write(sseData({ type: "transcript.text.done", text, usage }));
        } catch (error) {
          if (!gone.aborted) {
            const e = toAppError(error);
            if (e.status >= 500) source.onServerError?.(e, error);
            write(sseData(openAiError(e).body));
          }
        }
        if (!cancelled.signal.aborted) controller.close();
      };
      void run();
    },
    cancel() {
      cancelled.abort();
    },
  });
}
