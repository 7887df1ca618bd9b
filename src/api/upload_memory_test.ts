import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { OverloadedError } from "../errors/mod.ts";
import { UploadMemory, uploadMemoryBudget } from "./upload_memory.ts";

Deno.test("UploadMemory refuses an upload past the budget while others are read, and frees their bytes when they are disposed", async () => {
  const m = new UploadMemory(1000);
  const a = m.reserve(700, "upload a");
  assertEquals(m.heldBytes, 700);
  // 700 + 300 fits exactly; 700 + 301 doesn't.
  {
    using _b = m.reserve(300, "upload b");
    assertEquals(m.heldBytes, 1000);
  }
  assertEquals(m.heldBytes, 700);
  let error: unknown;
  try {
    m.reserve(301, "upload c");
  } catch (e) {
    error = e;
  }
  assert(error instanceof OverloadedError);
  assertEquals(error.status, 429);
  assertEquals(error.code, "overloaded");
  assertEquals(error.retryAfterS, 1);
  assert(/1 upload\(s\) of 700 bytes/.test(error.message), error.message);
  assert(/upload c \(301 bytes\)/.test(error.message), error.message);
  assert(/UPLOAD_MEMORY_BYTES/.test(error.message), error.message);
  a[Symbol.dispose]();
  a[Symbol.dispose](); // twice is a no-op
  assertEquals(m.heldBytes, 0);
  // A failing upload gives its bytes back too.
  const bad = await assertRejects(async () => {
    using _d = m.reserve(900, "upload d");
    await Promise.resolve();
    throw new Error("bad");
  });
  assertEquals((bad as Error).message, "bad");
  assertEquals(m.heldBytes, 0);
});

Deno.test("UploadMemory always lets one upload through, even one over the budget", () => {
  const m = new UploadMemory(100);
  const large = m.reserve(5000, "a large upload");
  let refused = false;
  try {
    m.reserve(1, "a small one");
  } catch (e) {
    refused = e instanceof OverloadedError;
  }
  assert(refused);
  large[Symbol.dispose]();
  using _small = m.reserve(1, "a small one");
  assertEquals(m.heldBytes, 1);
});

Deno.test("uploadMemoryBudget: the setting, else an eighth of a quarter of memory, at least one largest upload", () => {
  assertEquals(uploadMemoryBudget(12345, 1e8, 32 * 2 ** 30), 12345);
  assertEquals(uploadMemoryBudget(0, 1e8, 32 * 2 ** 30), 2 ** 30);
  assertEquals(uploadMemoryBudget(0, 1e8, 2 * 2 ** 30), 1e8);
});
