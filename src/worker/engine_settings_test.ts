import { parseEnv, WorkerConfigSchema } from "../config/mod.ts";
import { audioCtxFor } from "../engine/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { engineSettings } from "./engine_settings.ts";

const config = (env: Record<string, string> = {}) =>
  parseEnv(WorkerConfigSchema, env);

Deno.test("engineSettings: whole jobs take AUDIO_CTX_MIN_LOGPROB, pieces PIECE_MIN_LOGPROB", () => {
  // Defaults: the engine's gate for whole jobs, none for pieces.
  assertEquals(engineSettings(config(), 1).minAvgLogprob, undefined);
  assertEquals(engineSettings(config(), 14, true).minAvgLogprob, -Infinity);
  const c = config({
    AUDIO_CTX_MIN_LOGPROB: "-0.5",
    PIECE_MIN_LOGPROB: "-0.9",
  });
  assertEquals(engineSettings(c, 1).minAvgLogprob, -0.5);
  assertEquals(engineSettings(c, 14, true).minAvgLogprob, -0.9);
  assertEquals(
    engineSettings(config({ AUDIO_CTX_MIN_LOGPROB: "off" }), 1).minAvgLogprob,
    -Infinity,
  );
});

Deno.test("engineSettings: pieces fall back to higher temperatures unless PIECE_FALLBACK is off; whole jobs never", () => {
  assertEquals(engineSettings(config(), 14, true).fallback, true);
  assertEquals(engineSettings(config(), 1).fallback, false);
  for (const off of ["0", "false"]) {
    const c = config({ PIECE_FALLBACK: off });
    assertEquals(engineSettings(c, 14, true).fallback, false);
  }
  assertEquals(
    engineSettings(config({ PIECE_FALLBACK: "1" }), 20, false).fallback,
    false,
  );
  const error = assertThrows(() => config({ PIECE_FALLBACK: "maybe" }));
  assert(error instanceof ConfigError, String(error));
  assert(error.message.includes("PIECE_FALLBACK"), error.message);
});

Deno.test("engineSettings: threads, the sized context and flash attention from the configuration", () => {
  const s = engineSettings(config({ WHISPER_THREADS: "2" }), 14.2, true);
  assertEquals(s.threads, 2);
  assertEquals(s.audioCtx, audioCtxFor(14.2));
  assertEquals(s.flashAttn, false);
  const t = engineSettings(
    config({
      AUDIO_CTX_FLOOR: "128",
      AUDIO_CTX_MARGIN_S: "2",
      FLASH_ATTN: "full-context",
    }),
    1,
  );
  assertEquals(t.audioCtx, audioCtxFor(1, { floor: 128, margin: 2 }));
  assertEquals(t.flashAttn, "full-context");
  assertEquals(engineSettings(config({ AUDIO_CTX: "full" }), 5).audioCtx, 0);
  assertEquals(
    engineSettings(config({ FLASH_ATTN: "on" }), 5).flashAttn,
    true,
  );
});
