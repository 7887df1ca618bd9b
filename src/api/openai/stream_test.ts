import { assertEquals } from "../../testing/assert.ts";
import { AppError } from "../../errors/mod.ts";
import type { JobRecord } from "../../queue/mod.ts";
import {
  parseSse,
  SSE_KEEP_ALIVE,
  sseData,
  type StreamSource,
  transcriptionEvents,
} from "./stream.ts";

/** A job record with the fields the stream reads. */
function job(fields: Partial<JobRecord>): JobRecord {
  return {
    status: "processing",
    transcript: null,
    audio_duration_s: 42.2,
    ...fields,
  } as JobRecord;
}

/**
 * A source that wakes once per entry of `wakes` (pieces done so far, and
 * the text those pieces make), then ends with `last` (or throws it);
 * `reads` counts the text reads.
 */
function scripted(
  wakes: [number, string][],
  last: JobRecord | Error,
): StreamSource & { reads: number } {
  const source = {
    reads: 0,
    async awaitFinal(
      _signal: AbortSignal,
      onProgress: (job: JobRecord) => Promise<void>,
    ) {
      for (const [done, text] of wakes) {
        await onProgress(job({ pieces_done: done, transcript: text }));
      }
      if (last instanceof Error) throw last;
      return last;
    },
    textSoFar: (j: JobRecord) => {
      source.reads++;
      return Promise.resolve(j.transcript ?? "");
    },
    failure: () => new AppError(504, "transcription_timeout", "too long"),
  };
  return source;
}

async function read(
  source: StreamSource,
  keepAliveMs = 60_000,
  clientGone = new AbortController().signal,
): Promise<string> {
  const stream = transcriptionEvents(source, {
    toAppError: (e) =>
      e instanceof AppError ? e : new AppError(500, "internal_error", "oops"),
    keepAliveMs,
    clientGone,
  });
  return await new Response(stream).text();
}

Deno.test("transcriptionEvents: a delta per growth of the text, the done event with the whole text", async () => {
  const source = scripted(
    [[0, ""], [1, "One two."], [1, "One two."], [2, "One two."], [
      3,
      "One two. Three.",
    ]],
    job({ status: "completed", transcript: "One two. Three. Four." }),
  );
  const text = await read(source);
  // Text is read only when a piece has finished since the last read.
  assertEquals(source.reads, 3);
  assertEquals(parseSse(text), [
    { type: "transcript.text.delta", delta: "One two." },
    { type: "transcript.text.delta", delta: " Three." },
    { type: "transcript.text.delta", delta: " Four." },
    {
      type: "transcript.text.done",
      text: "One two. Three. Four.",
      usage: { type: "duration", seconds: 43 },
    },
  ]);
});

Deno.test("transcriptionEvents: text that does not extend what was sent is not sent; the done event still has the whole text", async () => {
  const events = parseSse(
    await read(scripted(
      [[1, "One two."]],
      job({ status: "completed", transcript: "One, two. Three." }),
    )),
  );
  assertEquals(events, [
    { type: "transcript.text.delta", delta: "One two." },
    {
      type: "transcript.text.done",
      text: "One, two. Three.",
      usage: { type: "duration", seconds: 43 },
    },
  ]);
});

Deno.test("transcriptionEvents: a quiet wait writes keep-alive comments, which parseSse skips", async () => {
  const text = await read(
    scripted(
      [[0, ""], [0, ""]],
      job({ status: "completed", transcript: "Hi." }),
    ),
    0,
  );
  assertEquals(text.split(SSE_KEEP_ALIVE).length - 1, 2);
  assertEquals(parseSse(text).length, 2);
});

Deno.test("transcriptionEvents: a job that ends without text, or a throw, is one OpenAI error event", async () => {
  assertEquals(
    parseSse(
      await read(scripted([[1, "A."]], job({ status: "processing" }))),
    ),
    [{ type: "transcript.text.delta", delta: "A." }, {
      error: {
        message: "too long",
        type: "server_error",
        param: null,
        code: "transcription_timeout",
      },
    }],
  );
  assertEquals(parseSse(await read(scripted([], new Error("redis gone")))), [{
    error: {
      message: "oops",
      type: "server_error",
      param: null,
      code: "internal_error",
    },
  }]);
});

Deno.test("transcriptionEvents: once the client has gone, nothing more is written or reported", async () => {
  const reported: string[] = [];
  const source = {
    ...scripted([[1, "A."]], job({ status: "processing" })),
    onServerError: (e: AppError) => reported.push(e.code),
  };
  const gone = new AbortController();
  gone.abort();
  assertEquals(await read(source, 0, gone.signal), "");
  assertEquals(reported, []);
  // Still there: the same ending is an error event, and reported (a 5xx).
  const stayed = await read(source, 60_000);
  assertEquals(parseSse(stayed).length, 2);
  assertEquals(reported, ["transcription_timeout"]);
});

Deno.test("sseData and parseSse round-trip, and data spread over lines joins", () => {
  const text = sseData({ a: 1 }) + ": comment\n\n" +
    'data: {"b":\ndata: 2}\n\n';
  assertEquals(parseSse(text), [{ a: 1 }, { b: 2 }]);
});
