/**
 * The OpenAI-compatible API through the official JavaScript SDK
 * (`npm:openai`, pinned in deno.json) against a real stack: every response
 * format, the SDK's typed errors (which it raises only when our statuses
 * and bodies are right), API-key mode, and the README's JS and curl
 * examples run as a user would run them.
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertMatch,
  rejectsWith,
} from "../src/testing/assert.ts";
import { startStack } from "../src/stack/mod.ts";
import { transcribeThroughOpenAi } from "../src/bench/mod.ts";
import { hashKey } from "../src/api/mod.ts";
import { type Cue, parseSrt, parseVtt } from "../src/subtitles/mod.ts";
import { wordErrorRate } from "../src/accuracy/mod.ts";
import { sample, words } from "./_client.ts";
import { longRecording } from "../src/testing/long_audio.ts";
import { removeLogs } from "./chaos_helpers.ts";

const SAMPLE_S = 1.1;

/** Cues are in order, each inside the audio and not ending before it starts. */
function assertTimeline(
  cues: readonly { start: number; end: number }[],
  { max = SAMPLE_S } = {},
) {
  assert(cues.length >= 1, "no cues");
  let last = 0;
  for (const c of cues) {
    assert(c.start >= last - 1e-9, `cue at ${c.start} starts before ${last}`);
    assert(c.end >= c.start, `cue ends at ${c.end} before ${c.start}`);
    assert(c.end <= max + 0.01, `cue ends at ${c.end}, past the audio`);
    last = c.end;
  }
}

const cueText = (cues: Cue[]) => cues.map((c) => c.text).join(" ");

async function run(cmd: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("the official OpenAI JS SDK transcribes through /v1 in every format", async (t) => {
  const stack = await startStack({ workers: 2 });
  const dir = await Deno.makeTempDir({ prefix: "openai-sdk-" });
  let failure: unknown;
  try {
    const { wav, text } = await sample();
    const wavPath = `${dir}/sample.wav`;
    await Deno.writeFile(wavPath, wav);
    const file = () =>
      new File([wav as Uint8Array<ArrayBuffer>], "sample.wav", {
        type: "audio/wav",
      });
    const client = new OpenAI({
      baseURL: `${stack.baseUrl}/v1`,
      apiKey: "alice",
      maxRetries: 0,
    });
    /** A streamed transcription of `wav`, with the HTTP response. */
    const streamed = (wav: Uint8Array) =>
      client.audio.transcriptions.create({
        model: "whisper-1",
        file: new File([wav as Uint8Array<ArrayBuffer>], "long.wav"),
        stream: true,
      }).withResponse();

    await t.step("json (default): the sample's words", async () => {
      const r = await client.audio.transcriptions.create({
        model: "whisper-1",
        file: file(),
      });
      assertEquals(words(r.text), words(text));
    });

    await t.step("the model actually used is named in X-Model", async () => {
      const { response } = await client.audio.transcriptions.create({
        model: "whisper-1",
        file: file(),
      }).withResponse();
      assertEquals(response.headers.get("x-model"), "tiny.en-q8_0");
      assertMatch(response.headers.get("x-job-id") ?? "", /^[0-9a-f-]{36}$/);
      const job = await (await fetch(
        `${stack.baseUrl}/jobs/${response.headers.get("x-job-id")}`,
        { headers: { authorization: "Bearer alice" } },
      )).json();
      assertEquals(job.status, "completed");
      assertEquals(words(job.transcript), words(text));
    });

    await t.step("text", async () => {
      const r = await client.audio.transcriptions.create({
        model: "tiny.en-q8_0",
        file: file(),
        response_format: "text",
      });
      assertEquals(typeof r, "string");
      assertEquals(words(r as unknown as string), words(text));
    });

    await t.step(
      "srt and vtt: parsed, timestamps monotonic and within the audio",
      async () => {
        const srt = await client.audio.transcriptions.create({
          model: "whisper-1",
          file: file(),
          response_format: "srt",
        }) as unknown as string;
        const srtCues = parseSrt(srt);
        assertEquals(srtCues.map((c) => c.index), srtCues.map((_, i) => i + 1));
        assertTimeline(srtCues);
        assertEquals(words(cueText(srtCues)), words(text));
        const vtt = await client.audio.transcriptions.create({
          model: "whisper-1",
          file: file(),
          response_format: "vtt",
        }) as unknown as string;
        assertMatch(vtt, /^WEBVTT\n/);
        const vttCues = parseVtt(vtt);
        assertTimeline(vttCues);
        assertEquals(words(cueText(vttCues)), words(text));
      },
    );

    await t.step("verbose_json: segments, and words on request", async () => {
      const v = await client.audio.transcriptions.create({
        model: "whisper-1",
        file: file(),
        response_format: "verbose_json",
      });
      assertEquals(v.language, "english");
      assert(Math.abs(v.duration - SAMPLE_S) < 0.01, `duration ${v.duration}`);
      assertEquals(words(v.text), words(text));
      const segments = v.segments ?? [];
      assertTimeline(segments);
      assertEquals(segments.map((s) => s.id), segments.map((_, i) => i));
      for (const s of segments) {
        assert(s.tokens.length > 0 && s.tokens.every((x) => x < 50256));
        assert(s.avg_logprob < 0 && s.avg_logprob > -5, `${s.avg_logprob}`);
        assert(s.compression_ratio > 0);
      }
      assertEquals(v.words, undefined);
      const w = await client.audio.transcriptions.create({
        model: "whisper-1",
        file: file(),
        response_format: "verbose_json",
        timestamp_granularities: ["word"],
      });
      const ws = w.words ?? [];
      assertEquals(words(ws.map((x) => x.word).join(" ")), words(text));
      assertTimeline(ws);
      assertEquals(w.segments, undefined);
    });

    await t.step(
      "prompt and temperature are accepted and still transcribe",
      async () => {
        const r = await client.audio.transcriptions.create({
          model: "whisper-1",
          file: file(),
          prompt: "A short command spoken to a computer.",
          temperature: 0.2,
        });
        assertEquals(words(r.text), words(text));
      },
    );

    await t.step(
      "a long recording: split into pieces, SRT and words on one timeline",
      async () => {
        const rec = await longRecording(75);
        const long = () =>
          new File([rec.wav as Uint8Array<ArrayBuffer>], "long.wav");
        const { data, response } = await client.audio.transcriptions.create({
          model: "whisper-1",
          file: long(),
          response_format: "verbose_json",
          timestamp_granularities: ["word", "segment"],
        }).withResponse();
        const job = await (await fetch(
          `${stack.baseUrl}/jobs/${response.headers.get("x-job-id")}`,
          { headers: { authorization: "Bearer alice" } },
        )).json();
        assert(job.progress.pieces_total >= 3, JSON.stringify(job.progress));
        assert(Math.abs(data.duration - rec.durationS) < 0.01);
        const limit = { max: rec.durationS };
        assertTimeline(data.segments ?? [], limit);
        assertTimeline(data.words ?? [], limit);
        const wer = wordErrorRate([{
          reference: rec.text,
          hypothesis: data.text,
        }]);
        assert(wer < 25, `WER ${wer.toFixed(1)} %`);
        // Words and segments tell the same text.
        assertEquals(
          words((data.words ?? []).map((w) => w.word).join(" ")),
          words(data.text),
        );
        const srt = parseSrt(
          await client.audio.transcriptions.create({
            model: "whisper-1",
            file: long(),
            response_format: "srt",
          }) as unknown as string,
        );
        assertTimeline(srt, limit);
        assert(
          srt.at(-1)!.end > rec.durationS - 10,
          `last cue ends at ${srt.at(-1)!.end}`,
        );
        assertEquals(words(cueText(srt)), words(data.text));
      },
    );

    await t.step(
      "stream: a long recording's text arrives piece by piece, in order",
      async () => {
        const rec = await longRecording(200);
        const t0 = performance.now();
        const { data: stream, response } = await streamed(rec.wav);
        const events: { type: string; at: number; text: string }[] = [];
        for await (const e of stream) {
          events.push({
            type: e.type,
            at: performance.now() - t0,
            text: e.type === "transcript.text.delta" ? e.delta : e.text,
          });
        }
        const done = events.at(-1)!;
        const deltas = events.slice(0, -1);
        assertEquals(done.type, "transcript.text.done");
        assert(
          deltas.length >= 2 &&
            deltas.every((e) => e.type === "transcript.text.delta"),
          JSON.stringify(events.map((e) => [e.type, Math.round(e.at)])),
        );
        assertEquals(deltas.map((e) => e.text).join(""), done.text);
        // The first text came while later pieces were still running.
        assert(
          deltas[0]!.at < done.at - 500,
          `first delta at ${deltas[0]!.at} ms, done at ${done.at} ms`,
        );
        const wer = wordErrorRate([{
          reference: rec.text,
          hypothesis: done.text,
        }]);
        assert(wer < 25, `WER ${wer.toFixed(1)} %`);
        const job = await (await fetch(
          `${stack.baseUrl}/jobs/${response.headers.get("x-job-id")}`,
          { headers: { authorization: "Bearer alice" } },
        )).json();
        assert(job.progress.pieces_total >= 8, JSON.stringify(job.progress));
        assertEquals(job.transcript, done.text);
      },
    );

    await t.step(
      "stream: a job deleted on the way ends the stream with the SDK's APIError",
      async () => {
        const rec = await longRecording(75);
        const { data: stream, response } = await streamed(rec.wav);
        const id = response.headers.get("x-job-id");
        // 409 while a worker is taking the job (it says to retry).
        let status = 0;
        for (let i = 0; i < 50 && status !== 200; i++) {
          const r = await fetch(`${stack.baseUrl}/jobs/${id}`, {
            method: "DELETE",
            headers: { authorization: "Bearer alice" },
          });
          await r.body?.cancel();
          status = r.status;
          if (status === 409) await new Promise((r) => setTimeout(r, 50));
        }
        assertEquals(status, 200);
        const error = await rejectsWith(async () => {
          for await (const e of stream) {
            assert(e.type === "transcript.text.delta", `got ${e.type}`);
          }
        }, OpenAI.APIError);
        assertEquals(error.code, "job_not_found");
        assertMatch(error.message, new RegExp(`job ${id} was deleted`));
      },
    );

    await t.step(
      "bench:long --api openai's client: SRT cues and the job read back",
      async () => {
        const r = await transcribeThroughOpenAi(stack.baseUrl, wav, "s.wav");
        assertEquals(r.cues, 1);
        assertEquals(r.job.status, "completed");
        assertEquals(words(r.job.transcript), words(text));
        assert(r.wall_s > 0 && r.wall_s < 30);
      },
    );

    await t.step("models: the installed ones and whisper-1", async () => {
      const ids: string[] = [];
      for await (const m of client.models.list()) ids.push(m.id);
      assert(
        ids.includes("tiny.en-q8_0") && ids.includes("whisper-1"),
        `${ids}`,
      );
      const m = await client.models.retrieve("tiny.en-q8_0");
      assertEquals(m.object, "model");
      assert(m.created > 1_600_000_000, `created ${m.created}`);
    });

    await t.step(
      "SDK errors: unknown model, not audio, bad field, unknown model id",
      async () => {
        const unknown = await rejectsWith(
          () =>
            client.audio.transcriptions.create({ model: "tiny", file: file() }),
          OpenAI.NotFoundError,
        );
        assertEquals(unknown.status, 404);
        assertEquals(unknown.code, "model_not_found");
        assertEquals(unknown.param, "model");
        const notAudio = await rejectsWith(
          () =>
            client.audio.transcriptions.create({
              model: "whisper-1",
              file: new File([new TextEncoder().encode("just text")], "a.wav"),
            }),
          OpenAI.APIError,
        );
        assertEquals(notAudio.status, 415);
        assertEquals(notAudio.code, "unsupported_audio_format");
        assertEquals(notAudio.type, "invalid_request_error");
        const bad = await rejectsWith(
          () =>
            client.audio.transcriptions.create({
              model: "whisper-1",
              file: file(),
              temperature: 7,
            }),
          OpenAI.BadRequestError,
        );
        assertEquals(bad.param, "temperature");
        const gran = await rejectsWith(
          () =>
            client.audio.transcriptions.create({
              model: "whisper-1",
              file: file(),
              response_format: "json",
              timestamp_granularities: ["word"],
            }),
          OpenAI.BadRequestError,
        );
        assertEquals(gran.param, "timestamp_granularities");
        await rejectsWith(
          () => client.models.retrieve("nope"),
          OpenAI.NotFoundError,
        );
      },
    );

    await t.step("the README's JS and curl examples run", async () => {
      const env = {
        OPENAI_BASE_URL: `${stack.baseUrl}/v1`,
        OPENAI_API_KEY: "bob",
      };
      const js = await run(Deno.execPath(), [
        "run",
        "-A",
        "examples/openai_js.ts",
        wavPath,
        "--srt",
        `${dir}/out.srt`,
      ], env);
      assertEquals(js.code, 0, js.stderr);
      assertEquals(words(js.stdout), words(text));
      assertEquals(
        words(cueText(parseSrt(await Deno.readTextFile(`${dir}/out.srt`)))),
        words(text),
      );
      const streamed = await run(Deno.execPath(), [
        "run",
        "-A",
        "examples/openai_js.ts",
        wavPath,
        "--stream",
      ], env);
      assertEquals(streamed.code, 0, streamed.stderr);
      assertEquals(words(streamed.stdout), words(text));
      const curl = await run("bash", [
        "examples/openai_curl.sh",
        wavPath,
        "srt",
      ], env);
      assertEquals(curl.code, 0, curl.stderr);
      assertTimeline(parseSrt(curl.stdout));
      const bad = await run(
        "bash",
        ["examples/openai_curl.sh", "deno.json"],
        env,
      );
      assert(bad.code !== 0);
      assertEquals(
        JSON.parse(bad.stdout).error.code,
        "unsupported_audio_format",
      );
    });
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    await stack.stop();
    await Deno.remove(dir, { recursive: true });
    await removeLogs(stack, failure);
  }
});

Deno.test("API-key mode: the SDK's apiKey authenticates; a wrong key is AuthenticationError", async () => {
  const stack = await startStack({
    workers: 1,
    env: {
      AUTH_MODE: "api_key",
      API_KEYS: `erin=${hashKey("sk-erin-secret")}`,
    },
  });
  let failure: unknown;
  try {
    const { wav, text } = await sample();
    const file = () => new File([wav as Uint8Array<ArrayBuffer>], "sample.wav");
    const client = (apiKey: string) =>
      new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey, maxRetries: 0 });
    const { data, response } = await client("sk-erin-secret").audio
      .transcriptions.create({ model: "whisper-1", file: file() })
      .withResponse();
    assertEquals(words(data.text), words(text));
    // The job belongs to the key's identity: readable with the key only.
    const id = response.headers.get("x-job-id");
    const own = await fetch(`${stack.baseUrl}/jobs/${id}?format=text`, {
      headers: { authorization: "Bearer sk-erin-secret" },
    });
    assertEquals(own.status, 200);
    assertEquals(words(await own.text()), words(text));
    const wrong = await rejectsWith(
      () =>
        client("sk-wrong").audio.transcriptions.create({
          model: "whisper-1",
          file: file(),
        }),
      OpenAI.AuthenticationError,
    );
    assertEquals(wrong.status, 401);
    assertEquals(wrong.code, "invalid_api_key");
    await rejectsWith(
      () => client("sk-wrong").models.list(),
      OpenAI.AuthenticationError,
    );
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    await stack.stop();
    await removeLogs(stack, failure);
  }
});
