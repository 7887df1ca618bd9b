import { assert, assertEquals } from "../testing/assert.ts";
import { median, percentile } from "./quantiles.ts";

Deno.test("percentile interpolates between ranks", () => {
  assertEquals(percentile([3, 1, 2], 50), 2);
  assertEquals(median([1, 2, 3, 4]), 2.5);
  assertEquals(percentile([10, 20, 30, 40, 50], 95), 48);
  assertEquals(percentile([7], 99), 7);
  assert(Number.isNaN(percentile([], 50)));
});
