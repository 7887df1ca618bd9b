import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { OverloadedError } from "../errors/mod.ts";
import { UploadMemory, uploadMemoryBudget } from "./upload_memory.ts";

Deno.test("UploadMemory refuses an upload past the budget while others are read, and frees their bytes when they settle", async () => {
  const m = new UploadMemory(1000);
  const first = Promise.withResolvers<void>();
  const holding = m.hold(700, "upload a", () => first.promise);
  assertEquals(m.heldBytes, 700);
  // 700 + 300 fits exactly; 700 + 301 doesn't.
  assertEquals(await m.hold(300, "upload b", () => Promise.resolve("b")), "b");
  const error = await assertRejects(() =>
    m.hold(301, "upload c", () => Promise.resolve())
  );
  assert(error instanceof OverloadedError);
  assertEquals(error.status, 429);
  assertEquals(error.code, "overloaded");
  assertEquals(error.retryAfterS, 1);
  assert(/1 upload\(s\) of 700 bytes/.test(error.message), error.message);
  assert(/upload c \(301 bytes\)/.test(error.message), error.message);
  assert(/UPLOAD_MEMORY_BYTES/.test(error.message), error.message);
  first.resolve();
  await holding;
  assertEquals(m.heldBytes, 0);
  // A failing upload gives its bytes back too.
  const bad = await assertRejects(() =>
    m.hold(900, "upload d", () => Promise.reject(new Error("bad")))
  );
  assertEquals((bad as Error).message, "bad");
  assertEquals(m.heldBytes, 0);
});

Deno.test("UploadMemory always lets one upload through, even one over the budget", async () => {
  const m = new UploadMemory(100);
  const first = Promise.withResolvers<void>();
  const holding = m.hold(5000, "a large upload", () => first.promise);
  assert(
    await assertRejects(() =>
      m.hold(1, "a small one", () => Promise.resolve())
    ) instanceof
      OverloadedError,
  );
  first.resolve();
  await holding;
  assertEquals(await m.hold(1, "a small one", () => Promise.resolve(1)), 1);
});

Deno.test("uploadMemoryBudget: the setting, else an eighth of a quarter of memory, at least one largest upload", () => {
  assertEquals(uploadMemoryBudget(12345, 1e8, 32 * 2 ** 30), 12345);
  assertEquals(uploadMemoryBudget(0, 1e8, 32 * 2 ** 30), 2 ** 30);
  assertEquals(uploadMemoryBudget(0, 1e8, 2 * 2 ** 30), 1e8);
});
