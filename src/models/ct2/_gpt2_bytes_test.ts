import assert from "node:assert/strict";
import { gpt2TokenToBytes } from "./_gpt2_bytes.ts";

Deno.test("gpt2TokenToBytes inverts GPT-2's bytes-to-unicode table", () => {
  const bytes = (s: string) => [...gpt2TokenToBytes(s)!];
  assert.deepEqual(bytes("Ġhello"), [
    0x20,
    ...new TextEncoder().encode("hello"),
  ]);
  assert.deepEqual(bytes("Ċ"), [0x0a]);
  assert.deepEqual(bytes("ĉ"), [0x09]);
  assert.deepEqual(bytes("Ā"), [0x00]);
  assert.deepEqual(bytes("ġ"), [0x7f]);
  assert.deepEqual(bytes("Ń"), [0xad]); // the last shifted byte
  assert.deepEqual(bytes("Ã©"), [0xc3, 0xa9]);
  assert.deepEqual(bytes("~¡¬®ÿ"), [0x7e, 0xa1, 0xac, 0xae, 0xff]);
  assert.equal(gpt2TokenToBytes("ń"), undefined); // U+0144 is past the table
  assert.equal(gpt2TokenToBytes("日"), undefined);
});
