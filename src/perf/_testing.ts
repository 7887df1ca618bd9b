/** Test helpers shared by the perf tests. */
import { assert, assertRejects } from "../testing/assert.ts";

/** Asserts that `fn` rejects with an instance of `type`; returns it. */
export async function rejectsWith<T extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => T,
): Promise<T> {
  const error = await assertRejects(fn);
  assert(error instanceof type, `expected ${type.name}, got ${error}`);
  return error;
}

/** The `testdata/` folder beside this file. */
export const TESTDATA: URL = new URL("./testdata/", import.meta.url);
