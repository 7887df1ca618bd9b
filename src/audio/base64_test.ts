import assert from "node:assert/strict";
import { decodeBase64 } from "./base64.ts";

Deno.test("decodeBase64 ignores whitespace and line breaks", () => {
  assert.deepEqual(
    decodeBase64(" UklG\nRg==\r\n"),
    new Uint8Array([0x52, 0x49, 0x46, 0x46]),
  );
  assert.deepEqual(decodeBase64(""), new Uint8Array(0));
});

Deno.test("decodeBase64 rejects text that is not base64", () => {
  assert.throws(() => decodeBase64("not*base64!"), DOMException);
});
