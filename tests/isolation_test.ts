/**
 * Isolation between identities against a real stack, in each AUTH_MODE:
 * another identity gets 404 for every session and job it does not own;
 * API keys are required, checked, stored only as SHA-256 hashes and never
 * written to a log; `required` mode refuses calls without X-User-ID.
 * Writes the figures to `tests/reports/isolation.json`.
 */
import { removeLogs, withStack } from "./chaos_helpers.ts";
import { assert, assertEquals } from "../src/testing/assert.ts";
import { hashKey } from "../src/api/mod.ts";
import { connectRedis, waitConnected } from "../src/queue/mod.ts";
import { startStack } from "../src/stack/mod.ts";
import { sample, words } from "./_client.ts";
import {
  type Answer,
  fileForm,
  initSession,
  putAllChunks,
  putChunk,
  send,
  writeReport,
} from "./_corpus_http.ts";

const CHUNK_SIZE = 4096;
const figures: Record<string, unknown> = { suite: "isolation" };

/** Long-polls a job with `headers` until it ends; returns the job view. */
async function finished(
  base: string,
  id: string,
  headers: Record<string, string>,
): Promise<Answer["body"]> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const a = await send(base, "GET", `/jobs/${id}?wait=5`, { headers });
    assertEquals(a.status, 200, JSON.stringify(a.body));
    if (a.body.status === "completed" || a.body.status === "failed") {
      return a.body;
    }
  }
  throw new Error(`job ${id} did not finish`);
}

/** What the owner holds, for the intruder to try. */
interface Owned {
  open: { id: string; totalChunks: number; chunkSize: number };
  finalized: string;
  job: string;
  directJob: string;
  wav: Uint8Array;
}

/** Creates an open session (chunk 0 only), a finalized one and two jobs. */
async function own(base: string, h: Record<string, string>): Promise<Owned> {
  const { wav } = await sample();
  const open = await initSession(base, h, wav.length);
  assertEquals((await putChunk(base, h, open, wav, 0)).status, 200);
  const done = await initSession(base, h, wav.length);
  await putAllChunks(base, h, done, wav);
  const fin = await send(base, "POST", `/uploads/${done.id}/finalize`, {
    headers: h,
  });
  assertEquals(fin.status, 200, JSON.stringify(fin.body));
  const direct = await send(base, "POST", "/jobs", {
    headers: h,
    body: fileForm("file", wav),
  });
  assertEquals(direct.status, 202, JSON.stringify(direct.body));
  return {
    open,
    finalized: done.id,
    job: fin.body.job_id,
    directJob: direct.body.job_id,
    wav,
  };
}

/**
 * Every way `intruder` could touch `o`: each must be 404 with the
 * not-found code. Returns how many were tried.
 */
async function intrude(
  base: string,
  intruder: Record<string, string>,
  o: Owned,
): Promise<number> {
  const chunk = (n: number, bytes: Uint8Array) => () =>
    fileForm("chunk_data", bytes.slice(n * CHUNK_SIZE, (n + 1) * CHUNK_SIZE));
  const attempts: [string, string, string, (() => BodyInit)?][] = [
    ["GET", `/uploads/${o.open.id}`, "session_not_found"],
    ["GET", `/uploads/${o.finalized}`, "session_not_found"],
    [
      "POST",
      `/uploads/${o.open.id}/chunks/1`,
      "session_not_found",
      chunk(1, o.wav),
    ],
    [
      "POST",
      `/uploads/${o.open.id}/chunks/0`,
      "session_not_found",
      chunk(0, o.wav.slice().reverse()),
    ],
    ["POST", `/uploads/${o.open.id}/finalize`, "session_not_found"],
    ["POST", `/uploads/${o.finalized}/finalize`, "session_not_found"],
    ["GET", `/jobs/${o.job}`, "job_not_found"],
    ["GET", `/jobs/${o.job}?wait=1`, "job_not_found"],
    ["GET", `/jobs/${o.directJob}`, "job_not_found"],
    ["DELETE", `/jobs/${o.job}`, "job_not_found"],
    ["DELETE", `/jobs/${o.directJob}`, "job_not_found"],
  ];
  for (const [method, path, code, body] of attempts) {
    const a = await send(base, method, path, {
      headers: intruder,
      body: body?.(),
    });
    assertEquals(
      [method, path, a.status, a.body?.error?.code],
      [method, path, 404, code],
    );
    assertEquals(a.shapeProblem, null);
  }
  const list = await send(base, "GET", "/jobs?limit=100", {
    headers: intruder,
  });
  assertEquals(list.status, 200);
  const seen = list.body.jobs.map((j: { job_id: string }) => j.job_id);
  assert(!seen.includes(o.job) && !seen.includes(o.directJob), "listed");
  return attempts.length + 1;
}

/** The owner's view is unchanged by the intrusions. */
async function ownerIntact(
  base: string,
  h: Record<string, string>,
  o: Owned,
  text: string,
): Promise<void> {
  const s = await send(base, "GET", `/uploads/${o.open.id}`, { headers: h });
  assertEquals(s.status, 200);
  assertEquals(s.body.present_chunks, [0], "an intruder's chunk was stored");
  for (const id of [o.job, o.directJob]) {
    const job = await finished(base, id, h);
    assertEquals(job.status, "completed", JSON.stringify(job.error));
    assertEquals(words(job.transcript), words(text));
  }
  const list = await send(base, "GET", "/jobs", { headers: h });
  const ids = list.body.jobs.map((j: { job_id: string }) => j.job_id);
  assert(ids.includes(o.job) && ids.includes(o.directJob));
}

Deno.test("isolation (open mode): another identity gets 404 for every session and job", async () => {
  try {
    await withStack({
      workers: 1,
      env: { CHUNK_SIZE: String(CHUNK_SIZE) },
    }, async (stack) => {
      const base = stack.baseUrl;
      const { text } = await sample();
      const alice = { "x-user-id": "alice" };
      const o = await own(base, alice);
      let attempts = 0;
      for (const who of ["bob", "Alice", "alice2", "anonymous"]) {
        attempts += await intrude(base, { "x-user-id": who }, o);
      }
      // Without any identity: sessions, deletes and lists stay private; a
      // job may be read by its id (documented open-mode behaviour).
      for (
        const [method, path] of [
          ["GET", `/uploads/${o.open.id}`],
          ["POST", `/uploads/${o.open.id}/finalize`],
          ["DELETE", `/jobs/${o.job}`],
        ] as const
      ) {
        const a = await send(base, method, path);
        assertEquals([path, a.status], [path, 404]);
        attempts++;
      }
      const anonList = await send(base, "GET", "/jobs");
      assertEquals(anonList.body.jobs, []);
      await ownerIntact(base, alice, o, text);
      figures.open_mode = {
        cross_identity_attempts: attempts,
        all_404: true,
        owner_state_unchanged: true,
        anonymous_read_by_job_id: "allowed in open mode (documented)",
      };
    });
  } finally {
    await writeReport("isolation", figures);
  }
});

Deno.test("isolation (api_key mode): 401 without a known key, keys hashed and never logged", async () => {
  const aliceKey = `wtk_${crypto.randomUUID().replaceAll("-", "")}`;
  const bobKey = `wtk_${crypto.randomUUID().replaceAll("-", "")}`;
  const stack = await startStack({
    workers: 1,
    env: {
      CHUNK_SIZE: String(CHUNK_SIZE),
      AUTH_MODE: "api_key",
      API_KEYS: `alice=${hashKey(aliceKey)},bob=${hashKey(bobKey)}`,
      LOG_LEVEL: "debug",
    },
  });
  const base = stack.baseUrl;
  const logDir = stack.logDir;
  const alice = { authorization: `Bearer ${aliceKey}` };
  let unauthorized = 0;
  let attempts = 0;
  let redisHasKey = true;
  let environHasKey = true;
  try {
    const { text } = await sample();
    const o = await own(base, alice);
    const sid = o.open.id;
    const endpoints: [string, string, (() => BodyInit)?][] = [
      [
        "POST",
        "/uploads/initialize",
        () => JSON.stringify({ filename: "a.wav", file_size: 10 }),
      ],
      [
        "POST",
        `/uploads/${sid}/chunks/1`,
        () => fileForm("chunk_data", new Uint8Array(10)),
      ],
      ["GET", `/uploads/${sid}`],
      ["POST", `/uploads/${sid}/finalize`],
      ["POST", "/jobs", () => fileForm("file", o.wav)],
      ["GET", `/jobs/${o.job}`],
      ["GET", "/jobs"],
      ["DELETE", `/jobs/${o.job}`],
    ];
    const badAuth: Record<string, string>[] = [
      {},
      { "x-user-id": "alice" },
      { authorization: "Bearer wtk_not_a_key" },
      { authorization: `Bearer ${aliceKey}x` },
      { authorization: `Bearer ${aliceKey.slice(0, -1)}` },
      { authorization: `Bearer ${hashKey(aliceKey)}` }, // the stored hash
      { authorization: `Basic ${btoa(`alice:${aliceKey}`)}` },
      { authorization: aliceKey },
      { authorization: "Bearer " },
      { authorization: `Bearer ${aliceKey} extra` },
    ];
    for (const headers of badAuth) {
      for (const [method, path, body] of endpoints) {
        const a = await send(base, method, path, {
          headers: { ...headers, "content-type": "application/json" },
          body: body?.(),
        });
        assertEquals(
          [
            method,
            path,
            JSON.stringify(headers),
            a.status,
            a.body?.error?.code,
          ],
          [method, path, JSON.stringify(headers), 401, "unauthorized"],
        );
        assertEquals(a.shapeProblem, null);
        unauthorized++;
      }
    }
    // Probes stay open whatever the mode.
    assertEquals((await send(base, "GET", "/health")).status, 200);
    assertEquals((await send(base, "GET", "/health/ready")).status, 200);
    // The key names the identity; X-User-ID can't override it.
    attempts += await intrude(base, { authorization: `Bearer ${bobKey}` }, o);
    attempts += await intrude(base, {
      authorization: `bearer ${bobKey}`,
      "x-user-id": "alice",
    }, o);
    // Failing requests that carry the key, so the logs have a chance to leak it.
    for (
      const [method, path, body, ct] of [
        ["POST", "/uploads/initialize", "{", "application/json"],
        ["POST", `/uploads/${sid}/chunks/99`, "x", "text/plain"],
        ["GET", `/jobs/${crypto.randomUUID()}?wait=abc`, undefined, ""],
        ["GET", `/jobs/${aliceKey}`, undefined, ""],
        ["GET", `/uploads/${aliceKey}`, undefined, ""],
      ] as const
    ) {
      const a = await send(base, method, path, {
        headers: { ...alice, ...(ct ? { "content-type": ct } : {}) },
        body,
      });
      assert(a.status >= 400 && a.status < 500, `${path}: ${a.status}`);
    }
    await ownerIntact(base, alice, o, text);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert(!metrics.includes(aliceKey), "the key is in /metrics");

    // Stored only as hashes: not in Redis, not in the API's environment.
    redisHasKey = await redisContains(stack.redisUrl, [aliceKey, bobKey]);
    const api = stack.processes().find((p) => p.name === "api")!;
    const environ = await Deno.readTextFile(`/proc/${api.pid}/environ`);
    environHasKey = environ.includes(aliceKey) || environ.includes(bobKey);
    assert(environ.includes(hashKey(aliceKey)), "API_KEYS reached the API");
  } finally {
    await stack.stop();
  }
  assertEquals(redisHasKey, false, "a key is stored in clear in Redis");
  assertEquals(environHasKey, false, "a key is in the API's environment");
  // Nothing any component wrote mentions a key.
  const leaks: string[] = [];
  let logBytes = 0;
  for await (const entry of Deno.readDir(logDir)) {
    if (!entry.isFile) continue;
    const body = await Deno.readFile(`${logDir}/${entry.name}`);
    logBytes += body.length;
    const text = new TextDecoder().decode(body);
    for (const key of [aliceKey, bobKey]) {
      if (text.includes(key)) leaks.push(entry.name);
    }
  }
  assert(logBytes > 0, "no logs were written");
  assertEquals(leaks, [], "a key appears in a log");
  // Reached only when every check passed: a failure keeps the logs to read.
  await removeLogs(stack, undefined);
  figures.api_key_mode = {
    unauthorized_requests: unauthorized,
    all_401: true,
    cross_identity_attempts: attempts,
    all_404: true,
    key_in_logs: false,
    log_bytes_scanned: logBytes,
    key_in_redis: false,
    key_in_api_environment: false,
  };
  await writeReport("isolation", figures);
});

Deno.test("isolation (required mode): every call without X-User-ID is 401", async () => {
  try {
    await withStack({
      workers: 1,
      env: { CHUNK_SIZE: String(CHUNK_SIZE), AUTH_MODE: "required" },
    }, async (stack) => {
      const base = stack.baseUrl;
      const { wav, text } = await sample();
      const carol = { "x-user-id": "carol" };
      const job = await send(base, "POST", "/jobs", {
        headers: carol,
        body: fileForm("file", wav),
      });
      assertEquals(job.status, 202);
      const s = await initSession(base, carol, wav.length);
      const cases: [string, string, (() => BodyInit)?][] = [
        [
          "POST",
          "/uploads/initialize",
          () => JSON.stringify({ filename: "a.wav", file_size: 10 }),
        ],
        [
          "POST",
          `/uploads/${s.id}/chunks/0`,
          () => fileForm("chunk_data", wav.slice(0, CHUNK_SIZE)),
        ],
        ["GET", `/uploads/${s.id}`],
        ["POST", `/uploads/${s.id}/finalize`],
        ["POST", "/jobs", () => fileForm("file", wav)],
        ["GET", `/jobs/${job.body.job_id}`],
        ["GET", `/jobs/${job.body.job_id}?wait=1`],
        ["GET", "/jobs"],
        ["DELETE", `/jobs/${job.body.job_id}`],
      ];
      let refused = 0;
      for (
        const headers of [{}, { "x-user-id": "" }] as Record<string, string>[]
      ) {
        for (const [method, path, body] of cases) {
          const a: Answer = await send(base, method, path, {
            headers: { ...headers, "content-type": "application/json" },
            body: body?.(),
          });
          assertEquals(
            [method, path, a.status, a.body?.error?.code],
            [method, path, 401, "unauthorized"],
          );
          refused++;
        }
      }
      const done = await finished(base, job.body.job_id, carol);
      assertEquals(words(done.transcript), words(text));
      figures.required_mode = {
        requests_without_identity: refused,
        all_401: true,
        owner_job_completed: true,
      };
    });
  } finally {
    await writeReport("isolation", figures);
  }
});

/** True when any key name or value in Redis contains one of `needles`. */
async function redisContains(url: string, needles: string[]): Promise<boolean> {
  const redis = connectRedis(url);
  try {
    await waitConnected(redis);
    const has = (b: Uint8Array | string) => {
      const s = typeof b === "string" ? b : new TextDecoder().decode(b);
      return needles.some((n) => s.includes(n));
    };
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "COUNT", 500);
      cursor = next;
      for (const key of keys) {
        if (has(key)) return true;
        const type = await redis.type(key);
        const values: (Uint8Array | string)[] = type === "string"
          ? [(await redis.getBuffer(key)) ?? ""]
          : type === "hash"
          ? Object.entries(await redis.hgetallBuffer(key)).flat()
          : type === "zset"
          ? await redis.zrange(key, 0, -1)
          : type === "set"
          ? await redis.smembers(key)
          : type === "list"
          ? await redis.lrange(key, 0, -1)
          : type === "stream"
          ? (await redis.xrange(key, "-", "+")).flat(3).map(String)
          : [];
        if (values.some(has)) return true;
      }
    } while (cursor !== "0");
    return false;
  } finally {
    redis.disconnect();
  }
}
