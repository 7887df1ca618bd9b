/**
 * Test fixtures shared by the API app tests (`app_*_test.ts`): an app wired to
 * a private Redis, request builders, the JSON error-shape assertion and a
 * finished transcription to complete jobs with.
 */
import { assertEquals } from "../testing/assert.ts";
import { ApiConfigSchema, parseEnv } from "../config/mod.ts";
import {
  connectRedis,
  JobEvents,
  Store,
  TranscribeQueue,
  waitConnected,
} from "../queue/mod.ts";
import { encodeWav, probeAudio } from "../audio/mod.ts";
import { testPrefix, testRedis } from "../testing/redis.ts";
import { createApp } from "./app.ts";

/** One second of a 16 kHz sine as a WAV file. */
export const WAV = encodeWav(
  new Float32Array(16000).map((_, i) => Math.sin(i / 10) * 0.3),
  {
    sampleRate: 16000,
  },
);

/**
 * Runs `fn` against an app on a private Redis (CHUNK_SIZE 4096, `env` on top),
 * then tears it all down.
 */
export async function withApp(
  env: Record<string, string>,
  fn: (app: ReturnType<typeof createApp>, store: Store) => Promise<void>,
): Promise<void> {
  const server = await testRedis();
  const redis = connectRedis(server.url);
  const bull = connectRedis(server.url, { forBullmq: true });
  const sub = connectRedis(server.url, { forBullmq: true });
  await waitConnected(redis);
  const prefix = testPrefix("app");
  const config = parseEnv(ApiConfigSchema, {
    REDIS_PREFIX: prefix,
    CHUNK_SIZE: "4096",
    ...env,
  });
  const store = new Store(redis, prefix);
  const queue = new TranscribeQueue(bull, prefix);
  const events = new JobEvents(sub, store.keys.jobEvents);
  await events.ready();
  const app = createApp({
    config,
    store,
    queue,
    events,
    installedModels: () => Promise.resolve(["tiny.en", "tiny.en-q8_0"]),
    checkAudio: async (bytes) => {
      const p = await probeAudio(bytes);
      return { durationS: p.durationS, format: p.format };
    },
  });
  try {
    await fn(app, store);
  } finally {
    await events.close();
    await queue.close();
    redis.disconnect();
    bull.disconnect();
    sub.disconnect();
    await server.stop();
  }
}

/** A JSON POST as `user`. */
export function json(body: unknown, user = "alice"): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", "x-user-id": user },
    body: JSON.stringify(body),
  };
}

/** A multipart chunk upload of `bytes` as `user`, in form field `field`. */
export function chunk(
  bytes: Uint8Array,
  user = "alice",
  field = "chunk_data",
): RequestInit {
  const form = new FormData();
  form.append(field, new Blob([bytes as BlobPart]), "chunk");
  return { method: "POST", headers: { "x-user-id": user }, body: form };
}

/** Asserts `res` is our JSON error with `status` and `code`. */
export async function expectError(
  res: Response,
  status: number,
  code: string,
): Promise<void> {
  const body = await res.json();
  assertEquals(res.status, status, JSON.stringify(body));
  assertEquals(body.error.code, code);
  assertEquals(typeof body.error.message, "string");
  assertEquals(body.detail, body.error.message);
}

/** A finished transcription with word timings, for completing jobs by hand. */
export const RESULT = {
  transcript: "Open the door.",
  segments: [{
    start: 0,
    end: 1,
    text: "Open the door.",
    tokens: [4946, 262, 3420, 13],
    avg_logprob: -0.49,
    words: [
      { word: "Open", start: 0.1, end: 0.3 },
      { word: "the", start: 0.3, end: 0.5 },
      { word: "door.", start: 0.5, end: 0.9 },
    ],
  }],
  processing_ms: 80,
  audio_duration_s: 1,
  model_name: "tiny.en-q8_0",
};

/** A transcription request for `/v1/audio/transcriptions`. */
export function v1Form(
  fields: Record<string, string> = {},
  user = "alice",
  signal?: AbortSignal,
): RequestInit {
  const form = new FormData();
  form.append("file", new Blob([WAV as BlobPart]), "a.wav");
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return {
    method: "POST",
    headers: { authorization: `Bearer ${user}` },
    body: form,
    signal,
  };
}
