/** Assertion names in the style of Deno's std, over `node:assert/strict`. */
import assertModule from "node:assert/strict";

/** Asserts `value` is truthy. */
export const assert: (value: unknown, message?: string) => asserts value =
  assertModule.ok;
/** Asserts deep, strict equality. */
export const assertEquals: <T>(
  actual: unknown,
  expected: T,
  message?: string,
) => asserts actual is T = assertModule.deepStrictEqual;
/** Asserts deep inequality. */
export const assertNotEquals = assertModule.notDeepStrictEqual;
/** Asserts `actual` matches `re`. */
export const assertMatch: (
  actual: string,
  re: RegExp,
  message?: string,
) => void = assertModule.match;
/** Asserts that `fn` rejects; returns the error for further checks. */
export async function assertRejects(
  fn: () => Promise<unknown>,
): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new assertModule.AssertionError({ message: "expected a rejection" });
}
/** Asserts that `fn` throws; returns the error for further checks. */
export function assertThrows(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new assertModule.AssertionError({ message: "expected a throw" });
}

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
/** Asserts `|actual − expected| ≤ epsilon`. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  epsilon = 1e-7,
): void {
  if (!(Math.abs(actual - expected) <= epsilon)) {
    throw new assertModule.AssertionError({
      message: `expected ${actual} to be within ${epsilon} of ${expected}`,
    });
  }
}
