import { assertEquals } from "../testing/assert.ts";
import { LongPollLimiter } from "./long_polls.ts";

Deno.test("LongPollLimiter caps polls per identity and in total; releases once", () => {
  const l = new LongPollLimiter(3, 2);
  const a1 = l.acquire("a")!;
  const a2 = l.acquire("a")!;
  assertEquals(l.acquire("a"), null, "third poll of one identity");
  const b1 = l.acquire("b")!;
  assertEquals(l.acquire("c"), null, "total reached");
  assertEquals(l.waiting, 3);
  assertEquals(l.capped, 0, "the route counts the polls it answers capped");
  a1();
  a1(); // twice is once
  assertEquals(l.waiting, 2);
  const c1 = l.acquire("c");
  assertEquals(c1 !== null, true);
  a2();
  b1();
  c1!();
  assertEquals(l.waiting, 0);
  assertEquals(l.acquire("a") !== null && l.acquire("a") !== null, true);
});
