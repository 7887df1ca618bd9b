/**
 * The configurable limits against a real stack configured through the
 * environment: largest upload (MAX_UPLOAD_BYTES, 413), longest audio
 * (MAX_AUDIO_DURATION_S, 413, WAV and compressed), open sessions per
 * identity (MAX_SESSIONS_PER_USER, 429 + Retry-After) and session lifetime
 * (SESSION_TTL_S, 410 for the owner, 404 for others) and the upload bytes
 * the API reads at once (UPLOAD_MEMORY_BYTES, 429). Also: bad values stop
 * the API with exit code 2, and docs/configuration.md documents each limit with its
 * default. Writes the figures to `tests/reports/limits.json`.
 */
import { pollFor, withStack } from "./chaos_helpers.ts";
import { flacTone } from "./_audio.ts";
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../src/testing/assert.ts";
import { encodeWav, ffmpegAvailable } from "../src/audio/mod.ts";
import { ApiConfigSchema, parseEnv, PROJECT_ROOT } from "../src/config/mod.ts";
import { ConfigError } from "../src/errors/mod.ts";
import {
  fileForm,
  initSession,
  putAllChunks,
  putChunk,
  send,
  writeReport,
} from "./_corpus_http.ts";

const LIMITS = {
  CHUNK_SIZE: 4096,
  MAX_UPLOAD_BYTES: 200_000,
  MAX_AUDIO_DURATION_S: 8,
  SESSION_TTL_S: 4,
  MAX_SESSIONS_PER_USER: 3,
  UPLOAD_MEMORY_BYTES: 150_000,
};

/** A mono WAV of `seconds` of a quiet tone. */
function tone(seconds: number, sampleRate: number, bitsPerSample: number) {
  const n = Math.round(seconds * sampleRate);
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) samples[i] = 0.1 * Math.sin(i / 5);
  return encodeWav(samples, { sampleRate, bitsPerSample });
}

Deno.test("limits are configured through the environment and enforced", async (t) => {
  const env = Object.fromEntries(
    Object.entries(LIMITS).map(([k, v]) => [k, String(v)]),
  );
  const figures: Record<string, unknown> = { suite: "limits", config: LIMITS };
  try {
    await withStack({ workers: 1, env }, async (stack) => {
      const base = stack.baseUrl;
      const cancel = async (user: string, id: string) => {
        await send(base, "DELETE", `/jobs/${id}`, {
          headers: { "x-user-id": user },
        });
      };
      await t.step(
        "SESSION_TTL_S bounds a session: expired answers 410 to its owner",
        async () => {
          const owner = { "x-user-id": "ttl-owner" };
          const other = { "x-user-id": "ttl-other" };
          const wav = tone(0.5, 16000, 16);
          const before = Date.now();
          const s = await initSession(base, owner, wav.length);
          const status = await send(base, "GET", `/uploads/${s.id}`, {
            headers: owner,
          });
          const ttlMs = Date.parse(status.body.expires_at) - before;
          assert(
            Math.abs(ttlMs - LIMITS.SESSION_TTL_S * 1000) < 1500,
            `expires_at is ${ttlMs} ms ahead`,
          );
          assertEquals((await putChunk(base, owner, s, wav, 0)).status, 200);
          // A finalized session's job outlives the session.
          const kept = await initSession(base, owner, wav.length);
          await putAllChunks(base, owner, kept, wav);
          const fin = await send(base, "POST", `/uploads/${kept.id}/finalize`, {
            headers: owner,
          });
          assertEquals(fin.status, 200);
          let expiredAfterMs = 0;
          const deadline = Date.now() + LIMITS.SESSION_TTL_S * 1000 + 10_000;
          while (Date.now() < deadline) {
            const a = await send(base, "GET", `/uploads/${s.id}`, {
              headers: owner,
            });
            if (a.status === 410) {
              expiredAfterMs = Date.now() - before;
              assertEquals(a.body.error.code, "session_expired");
              break;
            }
            assertEquals(a.status, 200);
            await new Promise((r) => setTimeout(r, 100));
          }
          assert(expiredAfterMs > 0, "the session never expired");
          assert(
            expiredAfterMs >= LIMITS.SESSION_TTL_S * 1000 - 1000,
            `expired after ${expiredAfterMs} ms`,
          );
          const tries: [string, string, (() => BodyInit)?][] = [
            ["GET", `/uploads/${s.id}`],
            [
              "POST",
              `/uploads/${s.id}/chunks/1`,
              () => fileForm("chunk_data", wav.slice(4096, 8192)),
            ],
            ["POST", `/uploads/${s.id}/finalize`],
          ];
          for (const [method, path, body] of tries) {
            const mine = await send(base, method, path, {
              headers: owner,
              body: body?.(),
            });
            assertEquals([path, mine.status], [path, 410]);
            const theirs = await send(base, method, path, {
              headers: other,
              body: body?.(),
            });
            assertEquals([path, theirs.status], [path, 404]);
          }
          const job = await send(base, "GET", `/jobs/${fin.body.job_id}`, {
            headers: owner,
          });
          assertEquals(job.status, 200);
          figures.session_ttl = {
            expired_within_s: Math.ceil(expiredAfterMs / 1000),
            owner_status: 410,
            other_identity_status: 404,
            job_outlives_session: true,
          };
        },
      );

      await t.step(
        "MAX_SESSIONS_PER_USER caps open sessions per identity",
        async () => {
          const dora = { "x-user-id": "dora" };
          const started = Date.now();
          const open = [];
          for (let i = 0; i < LIMITS.MAX_SESSIONS_PER_USER; i++) {
            open.push(await initSession(base, dora, 10));
          }
          const refused = await send(base, "POST", "/uploads/initialize", {
            headers: { ...dora, "content-type": "application/json" },
            body: JSON.stringify({ filename: "a.wav", file_size: 10 }),
          });
          assertEquals(refused.status, 429, JSON.stringify(refused.body));
          assertEquals(refused.body.error.code, "overloaded");
          assertMatch(refused.headers.get("retry-after") ?? "", /^\d+$/);
          // Another identity is not affected.
          await initSession(base, { "x-user-id": "eve" }, 10);
          // Finalizing one frees its slot (checked well within the TTL).
          const wav = tone(0.2, 16000, 16);
          const s = await initSession(
            base,
            { "x-user-id": "frank" },
            wav.length,
          );
          await putAllChunks(base, { "x-user-id": "frank" }, s, wav);
          for (let i = 1; i < LIMITS.MAX_SESSIONS_PER_USER; i++) {
            await initSession(base, { "x-user-id": "frank" }, 10);
          }
          const full = await send(base, "POST", "/uploads/initialize", {
            headers: {
              "x-user-id": "frank",
              "content-type": "application/json",
            },
            body: JSON.stringify({ filename: "a.wav", file_size: 10 }),
          });
          assertEquals(full.status, 429);
          const fin = await send(base, "POST", `/uploads/${s.id}/finalize`, {
            headers: { "x-user-id": "frank" },
          });
          assertEquals(fin.status, 200);
          await initSession(base, { "x-user-id": "frank" }, 10);
          assert(
            Date.now() - started < LIMITS.SESSION_TTL_S * 1000,
            "too slow to tell a freed slot from an expired one",
          );
          await cancel("frank", fin.body.job_id);
          // Expired sessions free their slots too.
          const deadline = Date.now() + LIMITS.SESSION_TTL_S * 1000 + 10_000;
          let reopened = false;
          while (!reopened && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 200));
            const a = await send(base, "POST", "/uploads/initialize", {
              headers: { ...dora, "content-type": "application/json" },
              body: JSON.stringify({ filename: "a.wav", file_size: 10 }),
            });
            assert([200, 429].includes(a.status));
            reopened = a.status === 200;
          }
          assert(reopened, "expired sessions still count");
          figures.sessions_per_user = {
            limit: LIMITS.MAX_SESSIONS_PER_USER,
            over_limit_status: 429,
            retry_after: true,
            freed_by_finalize: true,
            freed_by_expiry: true,
            other_identity_unaffected: true,
          };
        },
      );

      await t.step(
        "MAX_UPLOAD_BYTES caps chunked and single-request uploads",
        async () => {
          const h = { "x-user-id": "uploader" };
          const over = await send(base, "POST", "/uploads/initialize", {
            headers: { ...h, "content-type": "application/json" },
            body: JSON.stringify({
              filename: "a.wav",
              file_size: LIMITS.MAX_UPLOAD_BYTES + 1,
            }),
          });
          assertEquals([over.status, over.body.error.code], [
            413,
            "file_too_large",
          ]);
          await initSession(base, h, LIMITS.MAX_UPLOAD_BYTES);
          const big = await send(base, "POST", "/jobs", {
            headers: h,
            body: fileForm("file", new Uint8Array(LIMITS.MAX_UPLOAD_BYTES + 1)),
          });
          assertEquals([big.status, big.body.error.code], [
            413,
            "file_too_large",
          ]);
          // Exactly the limit: 16-bit mono at 16 kHz, 44-byte header.
          const exact = tone(
            (LIMITS.MAX_UPLOAD_BYTES - 44) / 2 / 16000,
            16000,
            16,
          );
          assertEquals(exact.length, LIMITS.MAX_UPLOAD_BYTES);
          const ok = await send(base, "POST", "/jobs", {
            headers: h,
            body: fileForm("file", exact),
          });
          assertEquals(ok.status, 202, JSON.stringify(ok.body));
          await cancel("uploader", ok.body.job_id);
          figures.max_upload_bytes = {
            limit: LIMITS.MAX_UPLOAD_BYTES,
            at_limit: 202,
            over_limit_initialize: 413,
            over_limit_single_request: 413,
          };
        },
      );

      await t.step(
        "MAX_AUDIO_DURATION_S caps WAV and compressed audio",
        async () => {
          const h = { "x-user-id": "long" };
          const max = LIMITS.MAX_AUDIO_DURATION_S;
          const long = tone(max + 2, 8000, 8);
          const a = await send(base, "POST", "/jobs", {
            headers: h,
            body: fileForm("file", long),
          });
          assertEquals([a.status, a.body.error.code], [413, "audio_too_long"]);
          const s = await initSession(base, h, long.length);
          await putAllChunks(base, h, s, long);
          const fin = await send(base, "POST", `/uploads/${s.id}/finalize`, {
            headers: h,
          });
          assertEquals([fin.status, fin.body.error.code], [
            413,
            "audio_too_long",
          ]);
          const atMax = await send(base, "POST", "/jobs", {
            headers: h,
            body: fileForm("file", tone(max, 8000, 8)),
          });
          assertEquals(atMax.status, 202, JSON.stringify(atMax.body));
          await cancel("long", atMax.body.job_id);
          const result: Record<string, unknown> = {
            limit_s: max,
            wav_over_limit: 413,
            wav_over_limit_chunked: 413,
            wav_at_limit: 202,
          };
          if (await ffmpegAvailable()) {
            const over = await send(base, "POST", "/jobs", {
              headers: h,
              body: fileForm("file", await flacTone(max + 2), "long.flac"),
            });
            assertEquals(
              [over.status, over.body.error.code],
              [413, "audio_too_long"],
            );
            const under = await send(base, "POST", "/jobs", {
              headers: h,
              body: fileForm("file", await flacTone(max - 2), "ok.flac"),
            });
            assertEquals(under.status, 202, JSON.stringify(under.body));
            assertEquals(under.body.audio_duration_s, max - 2);
            await cancel("long", under.body.job_id);
            result.flac_over_limit = 413;
            result.flac_under_limit = 202;
          }
          figures.max_audio_duration_s = result;
        },
      );

      await t.step(
        "UPLOAD_MEMORY_BYTES bounds the upload bytes the API reads at once",
        async () => {
          const h = { "x-user-id": "memory" };
          // A 96 KB upload held open half-sent on a raw connection.
          const wav = tone(6, 8000, 16);
          const boundary = "limits-test-boundary";
          const enc = new TextEncoder();
          const body = new Uint8Array([
            ...enc.encode(
              `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\ncontent-type: audio/wav\r\n\r\n`,
            ),
            ...wav,
            ...enc.encode(`\r\n--${boundary}--\r\n`),
          ]);
          const url = new URL(base);
          const conn = await Deno.connect({
            hostname: url.hostname,
            port: Number(url.port),
          });
          try {
            await conn.write(enc.encode(
              `POST /jobs HTTP/1.1\r\nhost: ${url.host}\r\nx-user-id: memory\r\n` +
                `content-type: multipart/form-data; boundary=${boundary}\r\n` +
                `content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
            ));
            const half = body.length >> 1;
            await conn.write(body.subarray(0, half));
            const held = await pollFor(
              "the half-sent upload to hold its bytes",
              async () => {
                const m = await (await fetch(`${base}/metrics`)).text();
                const v = /whisper_upload_memory_bytes\{kind="held"\} (\d+)/
                  .exec(m)?.[1];
                return v && Number(v) > 0 ? Number(v) : undefined;
              },
              10_000,
              20,
            );
            assertEquals(held, body.length);
            // 96 KB + 64 KB passes the 150 KB budget: 429 with Retry-After.
            const second = fileForm("file", tone(4, 8000, 16));
            const refused = await send(base, "POST", "/jobs", {
              headers: h,
              body: second,
            });
            assertEquals(refused.status, 429, JSON.stringify(refused.body));
            assertEquals(refused.body.error.code, "overloaded");
            assertMatch(refused.body.error.message, /UPLOAD_MEMORY_BYTES/);
            assertEquals(refused.headers.get("retry-after"), "1");
            // A chunk (4 KB) still fits beside it.
            const s = await initSession(base, h, wav.length);
            const chunk = await putChunk(base, h, s, wav, 0);
            assertEquals(chunk.status, 200, JSON.stringify(chunk.body));
            // The held upload completes; then the refused one fits.
            await conn.write(body.subarray(half));
            const reply = new TextDecoder().decode(
              await new Response(conn.readable).arrayBuffer(),
            );
            assertMatch(reply, /^HTTP\/1\.1 202 /);
            const id = /"job_id":"([^"]+)"/.exec(reply)![1]!;
            await cancel("memory", id);
            const again = await send(base, "POST", "/jobs", {
              headers: h,
              body: fileForm("file", tone(4, 8000, 16)),
            });
            assertEquals(again.status, 202, JSON.stringify(again.body));
            await cancel("memory", again.body.job_id);
            figures.upload_memory_bytes = {
              budget: LIMITS.UPLOAD_MEMORY_BYTES,
              held_by_half_sent_upload: held,
              second_upload_while_held: refused.status,
              chunk_while_held: chunk.status,
              second_upload_after: again.status,
            };
          } finally {
            try {
              conn.close();
            } catch { /* closed by the server after its reply */ }
          }
        },
      );
    });
  } finally {
    await writeReport("limits", figures);
  }
});

Deno.test({
  name:
    "limits: compressed uploads are decoded one at a time per identity, and not at all once its quota is full",
  ignore: !(await ffmpegAvailable()),
  fn: async () => {
    await withStack({
      workers: 1,
      env: { QUOTA_JOBS: "1", AUDIO_CHECK_CONCURRENCY: "1" },
      // The first job stays unfinished while the others arrive.
      workerEnv: {
        FAULT_INJECTION: "test-only",
        FAULT_PROCESSING_DELAY_MS: "8000",
      },
    }, async (stack) => {
      const flac = await flacTone(20);
      const post = (user: string) =>
        send(stack.baseUrl, "POST", "/jobs", {
          headers: { "x-user-id": user },
          body: fileForm("file", flac, "tone.flac"),
        });
      const checks = async () => {
        const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
        return Object.fromEntries(
          [...text.matchAll(/^whisper_audio_checks\{state="(\w+)"\} (\d+)$/gm)]
            .map((m) => [m[1]!, Number(m[2])]),
        );
      };
      const first = await post("busy");
      assertEquals(first.status, 202, JSON.stringify(first.body));
      // Six more at once: its quota (1 job) is full, so none is decoded.
      const more = await Promise.all(
        Array.from({ length: 6 }, () => post("busy")),
      );
      for (const r of more) {
        assertEquals(r.status, 429, JSON.stringify(r.body));
        assertEquals(
          (r.body as { error: { code: string } }).error.code,
          "quota_exceeded",
        );
        assertMatch(JSON.stringify(r.body), /QUOTA_JOBS/);
      }
      // Another identity is decoded as usual.
      const other = await post("other");
      assertEquals(other.status, 202, JSON.stringify(other.body));
      assertEquals(await checks(), {
        running: 0,
        waiting: 0,
        decoded: 2,
        refused: 6,
      });
    });
  },
});

Deno.test("limits: bad values are refused at start-up, naming the variable", async (t) => {
  const bad: [string, string][] = [
    ["MAX_UPLOAD_BYTES", "0"],
    ["MAX_UPLOAD_BYTES", "-5"],
    ["MAX_UPLOAD_BYTES", "lots"],
    ["MAX_AUDIO_DURATION_S", "0"],
    ["MAX_AUDIO_DURATION_S", "-1"],
    ["MAX_AUDIO_DURATION_S", "long"],
    ["SESSION_TTL_S", "0"],
    ["SESSION_TTL_S", "1.5"],
    ["MAX_SESSIONS_PER_USER", "0"],
    ["MAX_SESSIONS_PER_USER", "many"],
  ];
  await t.step("parseEnv", () => {
    for (const [key, value] of bad) {
      let error: unknown;
      try {
        parseEnv(ApiConfigSchema, { [key]: value });
      } catch (e) {
        error = e;
      }
      assert(error instanceof ConfigError, `${key}=${value} was accepted`);
      assertMatch(error.message, new RegExp(`${key}="${value}"`));
    }
    assertEquals(
      parseEnv(ApiConfigSchema, { SESSION_TTL_S: "1" }).SESSION_TTL_S,
      1,
    );
  });
  await t.step("the API process exits 2", async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", join(PROJECT_ROOT, "src/tasks/api.ts")],
      env: { SESSION_TTL_S: "0", MAX_UPLOAD_BYTES: "lots", PORT: "0" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 2, err);
    assertMatch(err, /SESSION_TTL_S/);
    assertMatch(err, /MAX_UPLOAD_BYTES/);
  });
});

Deno.test("limits are documented in docs/configuration.md with their defaults", async () => {
  const readme = await Deno.readTextFile(
    join(PROJECT_ROOT, "docs/configuration.md"),
  );
  const defaults = parseEnv(ApiConfigSchema, {});
  for (
    const key of [
      "MAX_UPLOAD_BYTES",
      "MAX_AUDIO_DURATION_S",
      "SESSION_TTL_S",
      "MAX_SESSIONS_PER_USER",
      "AUDIO_CHECK_CONCURRENCY",
    ] as const
  ) {
    const row = readme.split("\n").find((l) =>
      l.startsWith("|") && l.includes(`\`${key}\``)
    );
    assert(row, `docs/configuration.md has no row for ${key}`);
    assert(
      row.includes(String(defaults[key])),
      `docs/configuration.md row for ${key} lacks its default ${
        defaults[key]
      }: ${row}`,
    );
  }
});
