/**
 * GPT-2's byte-level BPE stores every byte as a printable character: bytes
 * that are already printable (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand for
 * themselves and the other 68 are shifted to U+0100 upwards in byte order, so
 * a space is `Ġ` (U+0120) and a newline `Ċ` (U+010A). Tokenizer vocabularies
 * (CTranslate2's `vocabulary.txt`) are written in these characters; whisper.cpp
 * wants the raw bytes.
 */

function isPrintable(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) ||
    (byte >= 0xae && byte <= 0xff);
}

/** Code point → byte, the inverse of GPT-2's bytes-to-unicode table. */
const CHAR_TO_BYTE: ReadonlyMap<number, number> = (() => {
  const map = new Map<number, number>();
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    map.set(isPrintable(byte) ? byte : 256 + shifted++, byte);
  }
  return map;
})();

/**
 * Decodes one vocabulary token to its bytes.
 * @returns the bytes, or `undefined` when a character is outside the table
 */
export function gpt2TokenToBytes(token: string): Uint8Array | undefined {
  const out: number[] = [];
  for (const ch of token) {
    const byte = CHAR_TO_BYTE.get(ch.codePointAt(0)!);
    if (byte === undefined) return undefined;
    out.push(byte);
  }
  return Uint8Array.from(out);
}
