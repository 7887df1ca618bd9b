import assert from "node:assert/strict";
import { hzToMel, melFilters, melToHz } from "./mel_filters.ts";

// Reference values from librosa 0.11 `librosa.filters.mel(sr=16000, n_fft=400,
// n_mels=80, fmin=0, fmax=8000, htk=False, norm="slaney")`, computed once.
const REFERENCE: [row: number, col: number, value: number][] = [
  [0, 1, 0.02486259490251541],
  [1, 1, 0.001990821911022067],
  [1, 2, 0.022871771827340126],
  [13, 13, 0.025880683213472366],
  [40, 42, 0.005411104764789343],
  [40, 43, 0.014735566452145576],
  [40, 44, 0.006518189795315266],
  [79, 186, 0.000366741674952209],
  [79, 190, 0.0022320549469441175],
  [79, 199, 0.0004487590049393475],
];

Deno.test("melFilters matches librosa's Slaney filterbank", () => {
  const m = melFilters();
  assert.equal(m.length, 80 * 201);
  for (const [r, c, want] of REFERENCE) {
    const got = m[r * 201 + c]!;
    assert.ok(
      Math.abs(got - want) < 5e-9,
      `[${r}, ${c}] = ${got}, want ${want}`,
    );
  }
  // Non-zeros: 391 in librosa's table; rows 0, 13 and 40 have 1, 1 and 3.
  assert.equal(m.filter((v) => v > 0).length, 391);
  const nonZero = (r: number) =>
    [...m.subarray(r * 201, (r + 1) * 201)].flatMap((v, c) => v > 0 ? [c] : []);
  assert.deepEqual(nonZero(0), [1]);
  assert.deepEqual(nonZero(40), [42, 43, 44]);
  assert.deepEqual(nonZero(79), Array.from({ length: 14 }, (_, i) => 186 + i));
  assert.ok(m.every((v) => v >= 0));
  // DC and Nyquist bins carry no weight with fmin 0 / fmax 8000.
  for (let r = 0; r < 80; r++) {
    assert.equal(m[r * 201], 0);
    assert.equal(m[r * 201 + 200], 0);
  }
});

Deno.test("hzToMel uses the Slaney scale (linear below 1 kHz, log above)", () => {
  assert.equal(hzToMel(0), 0);
  assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12);
  assert.ok(Math.abs(hzToMel(500) - 7.5) < 1e-12);
  assert.ok(Math.abs(hzToMel(8000) - 45.245640471924965) < 1e-9);
  for (const hz of [0, 123, 999, 1000, 4321, 8000]) {
    assert.ok(Math.abs(melToHz(hzToMel(hz)) - hz) < 1e-9);
  }
});

Deno.test("melFilters accepts other sizes", () => {
  const m = melFilters({ nMels: 128 });
  assert.equal(m.length, 128 * 201);
  assert.ok(m.some((v) => v > 0));
});
