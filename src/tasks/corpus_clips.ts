/**
 * `deno task corpus:clips [--check] [--out DIR]`: regenerates the accuracy
 * corpus' generated clips with espeak-ng (see {@linkcode makeClipsCommand}).
 */
import { makeClipsCommand } from "../accuracy/make_clips.ts";

if (import.meta.main) Deno.exit(await makeClipsCommand(Deno.args));
