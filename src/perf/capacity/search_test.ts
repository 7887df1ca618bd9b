import { assert, assertEquals } from "../../testing/assert.ts";
import fc from "fast-check";
import {
  bracket,
  capacityOf,
  nextRate,
  quantize,
  type SearchParams,
  type Trial,
} from "./search.ts";

const PARAMS: SearchParams = {
  startRate: 4,
  rateFactor: 1.5,
  maxRate: 40,
  resolution: 0.5,
};

/**
 * Runs the search against a service that passes every rate ≤ `capacity`
 * (and, with `lucky`, passes those rates the first time only).
 */
function searchAgainst(
  capacity: number,
  p: SearchParams = PARAMS,
  lucky: readonly number[] = [],
): { trials: Trial[]; found: number | undefined } {
  const trials: Trial[] = [];
  for (let r = nextRate(trials, p); r !== undefined; r = nextRate(trials, p)) {
    const before = trials.filter((t) => t.rate === r);
    // Only a pass is tried again, and only once.
    assert(before.length < 2, `rate ${r} tried three times`);
    assert(before.every((t) => t.pass), `failed rate ${r} tried again`);
    const pass = r <= capacity || (lucky.includes(r) && before.length === 0);
    trials.push({ rate: r, pass });
  }
  return { trials, found: capacityOf(trials) };
}

const rates = (t: Trial[]) => t.map((x) => `${x.rate}${x.pass ? "+" : "-"}`);

Deno.test("capacity search ramps, then bisects to the resolution", async (t) => {
  await t.step("a known capacity of 11.2 jobs/s is found as 11", () => {
    const { trials, found } = searchAgainst(11.2);
    assertEquals(rates(trials), [
      "4+",
      "6+",
      "9+",
      "13.5-",
      "11.5-",
      "10.5+",
      "11+",
      "11+",
    ]);
    assertEquals(found, 11);
  });
  await t.step("a lucky pass at the edge fails when run again", () => {
    // 11.5 passes once by chance: run again, it fails, and the search goes
    // on below it.
    const { trials, found } = searchAgainst(11.2, PARAMS, [11.5]);
    assertEquals(rates(trials), [
      "4+",
      "6+",
      "9+",
      "13.5-",
      "11.5+",
      "12.5-",
      "12-",
      "11.5-",
      "10.5+",
      "11+",
      "11+",
    ]);
    assertEquals(found, 11);
  });
  await t.step("every rate failing ends with no capacity", () => {
    const { trials, found } = searchAgainst(0);
    assertEquals(rates(trials), ["4-", "2-", "1-", "0.5-"]);
    assertEquals(found, undefined);
  });
  await t.step("a failing start bisects down to a lower capacity", () => {
    const { trials, found } = searchAgainst(0.7);
    assertEquals(rates(trials), ["4-", "2-", "1-", "0.5+", "0.5+"]);
    assertEquals(found, 0.5);
  });
  await t.step("every rate passing stops at --max-rate", () => {
    const { trials, found } = searchAgainst(100);
    assertEquals(rates(trials), [
      "4+",
      "6+",
      "9+",
      "13.5+",
      "20.5+",
      "31+",
      "40+",
    ]);
    assertEquals(found, 40);
  });
  await t.step("a max rate off the grid is rounded down onto it", () => {
    const { trials } = searchAgainst(100, { ...PARAMS, maxRate: 10.3 });
    assertEquals(trials.at(-1)!.rate, 10);
  });
  await t.step("a pass above a fail (noise) doesn't raise the capacity", () => {
    const trials: Trial[] = [
      { rate: 10, pass: false },
      { rate: 12, pass: true },
      { rate: 8, pass: true },
    ];
    assertEquals(bracket(trials), { lo: 8, hi: 10 });
    assertEquals(nextRate(trials, PARAMS), 9);
    assertEquals(capacityOf(trials), 8);
  });
});

Deno.test("capacity search finds any capacity within the resolution", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 60, noNaN: true }),
      fc.constantFrom(0.25, 0.5, 1),
      fc.double({ min: 1.2, max: 3, noNaN: true }),
      fc.integer({ min: 1, max: 10 }),
      (capacity, resolution, rateFactor, start) => {
        const p = { startRate: start, rateFactor, maxRate: 40, resolution };
        const { trials, found } = searchAgainst(capacity, p);
        // The ramp's steps, then a halving of the bracket per step.
        const bound = Math.ceil(Math.log(40 / start) / Math.log(rateFactor)) +
          Math.ceil(Math.log2(40 / resolution)) + 3;
        assert(trials.length <= bound, `${trials.length} steps > ${bound}`);
        if (capacity >= 40) return found === 40;
        if (capacity < resolution) return found === undefined;
        return found !== undefined && found <= capacity &&
          capacity - found < resolution;
      },
    ),
  );
});

Deno.test("quantize puts rates on the resolution grid", () => {
  assertEquals(quantize(20.25, 0.5), 20.5);
  assertEquals(quantize(13.4, 0.5), 13.5);
  assertEquals(quantize(0.1 + 0.2, 0.1), 0.3);
});
