/**
 * The files CTranslate2 keeps beside `model.bin`: `config.json` and the
 * vocabulary, read and encoded the way ggml stores them.
 */
import { gpt2TokenToBytes } from "./_gpt2_bytes.ts";
import { ModelConversionError } from "../errors.ts";

/** `config.json` as an object; ModelConversionError when missing or not JSON. */
export async function readConfig(
  path: string,
): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await readInput(path));
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new ModelConversionError(`${path}: not valid JSON: ${error}`, {
      cause: error,
    });
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ModelConversionError(`${path}: expected a JSON object`);
  }
  return config as Record<string, unknown>;
}

/** The vocabulary's tokens in id order, one per line of `vocabulary.txt`. */
export async function readVocabulary(path: string): Promise<string[]> {
  const bytes = await readInput(path);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new ModelConversionError(`${path}: not valid UTF-8`, {
      cause: error,
    });
  }
  // One token per line; split on "\n" only (tokens never hold a raw newline).
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * Tokens written to the file: the BPE tokens and `<|endoftext|>` after them,
 * as in the published ggml files (50,257 for `.en`); whisper.cpp generates the
 * other special and timestamp tokens itself. -1 when there is no
 * `<|endoftext|>`.
 */
export function countTokens(tokens: readonly string[]): number {
  const eot = tokens.indexOf("<|endoftext|>");
  return eot < 0 ? -1 : eot + 1;
}

/** The vocabulary as ggml stores it: each token's bytes, length-prefixed. */
export function encodeVocabulary(
  tokens: readonly string[],
  path: string,
): { bytes: Uint8Array; count: number } {
  const count = countTokens(tokens);
  if (count < 0) {
    throw new ModelConversionError(`${path}: no <|endoftext|> token`);
  }
  const parts: Uint8Array[] = [];
  let size = 4;
  for (let i = 0; i < count; i++) {
    const bytes = gpt2TokenToBytes(tokens[i]!);
    if (!bytes) {
      throw new ModelConversionError(
        `${path}: line ${i + 1} (${
          JSON.stringify(tokens[i])
        }) has a character outside GPT-2's byte alphabet`,
      );
    }
    parts.push(bytes);
    size += 4 + bytes.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, count, true);
  let at = 4;
  for (const p of parts) {
    view.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return { bytes: out, count };
}

/** The bytes of an input file; ModelConversionError naming it when unreadable. */
async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    throw new ModelConversionError(
      error instanceof Deno.errors.NotFound
        ? `${path}: missing`
        : `${path}: cannot read: ${error}`,
      { cause: error },
    );
  }
}
