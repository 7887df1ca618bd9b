/**
 * The committed one-second speech sample every iteration transcribes, and
 * the words it must give. Paths resolve against this module's folder.
 */
import { b64decode } from "k6/encoding";
import { words } from "./words.js";

// Binary data can't live in a SharedArray, so every VU decodes its own copy
// (the sample is ~33 KB).
/** The sample's WAV bytes. */
export const SAMPLE = b64decode(
  open("../../assets/sample.wav.b64").replace(/\s+/g, ""),
  "std",
);
/** The sample's known words. */
export const EXPECTED_WORDS = words(open("../../assets/sample.txt"));
