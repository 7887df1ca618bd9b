/**
 * Base64 helpers for the text-encoded audio assets under `assets/`.
 */

/**
 * Decodes base64 text, ignoring whitespace and line breaks.
 *
 * @throws {DOMException} `InvalidCharacterError` when the text is not base64.
 */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text.replace(/\s+/g, ""));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Reads a `.b64` asset file and returns the bytes it encodes. */
export async function readBase64File(path: string | URL): Promise<Uint8Array> {
  return decodeBase64(await Deno.readTextFile(path));
}
