/**
 * The `<model file>.json` written next to every installed model. It records
 * where the file came from and its size and SHA-1, so a converted or
 * quantized model (which differs byte-wise from the published one) is
 * checksum-verified too. A quantized model also records the file it was
 * made from.
 */
import { z } from "zod";
import { ModelIntegrityError } from "../errors/mod.ts";

/** Schema of a sidecar file. */
export const SidecarSchema = z.object({
  name: z.string().min(1),
  sizeBytes: z.number().int().positive(),
  sha1: z.string().regex(/^[0-9a-f]{40}$/, "40 lowercase hex digits"),
  source: z.enum(["download", "converted", "quantized"]),
  /** For `quantized`: the f16/f32 file it was quantized from. */
  from: z.object({
    /** Catalog name of the source model. */
    name: z.string().min(1),
    file: z.string().min(1),
    sizeBytes: z.number().int().positive(),
    sha1: z.string().regex(/^[0-9a-f]{40}$/, "40 lowercase hex digits"),
    /** Quantization type written, e.g. `q8_0`. */
    type: z.string().min(1),
  }).optional(),
  created_at: z.string().min(1),
}).refine((s) => s.source !== "quantized" || s.from !== undefined, {
  message: 'a "quantized" sidecar must record "from"',
  path: ["from"],
});

/** What a sidecar records about an installed model. */
export type Sidecar = z.infer<typeof SidecarSchema>;

/** Path of the sidecar of `modelPath`. */
export function sidecarPath(modelPath: string): string {
  return `${modelPath}.json`;
}

/**
 * Reads the sidecar of `modelPath`.
 * @returns the sidecar, or `undefined` when there is none
 * @throws {ModelIntegrityError} when it exists but is malformed
 */
export async function readSidecar(
  modelPath: string,
): Promise<Sidecar | undefined> {
  const path = sidecarPath(modelPath);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new ModelIntegrityError(`${path}: cannot read: ${error}`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelIntegrityError(`${path}: not valid JSON`, { cause: error });
  }
  const parsed = SidecarSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelIntegrityError(
      `${path}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Writes the sidecar of `modelPath` atomically (temporary file, rename). */
export async function writeSidecar(
  modelPath: string,
  sidecar: Omit<Sidecar, "created_at"> & { created_at?: string },
): Promise<Sidecar> {
  const full = SidecarSchema.parse({
    ...sidecar,
    created_at: sidecar.created_at ?? new Date().toISOString(),
  });
  const path = sidecarPath(modelPath);
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, JSON.stringify(full, null, 2) + "\n");
  try {
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  return full;
}
