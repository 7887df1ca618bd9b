import { seededRandom as random } from "../../stats/mod.ts";
import assert from "node:assert/strict";
import {
  dequantize,
  fp16Bits,
  fp16Value,
  QUANT_FORMATS,
  QUANT_TYPES,
  quantize,
  type QuantType,
} from "./quants.ts";

function block(values: number[]): Float32Array {
  const x = new Float32Array(32);
  x.set(values);
  return x;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

Deno.test("fp16Bits rounds to nearest even like GGML_FP32_TO_FP16", () => {
  assert.equal(fp16Bits(1), 0x3c00);
  assert.equal(fp16Bits(-2), 0xc000);
  assert.equal(fp16Bits(0), 0);
  assert.equal(fp16Bits(65504), 0x7bff);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1).
  assert.equal(fp16Bits(1 + 2 ** -11), 0x3c00);
  // 1 + 3·2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: to even (…02).
  assert.equal(fp16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(fp16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(fp16Value(0x3555), 0.333251953125);
});

Deno.test("quantize q8_0 writes ggml's block bytes for known inputs", async (t) => {
  await t.step("d = 1: q = roundf(x), halves away from zero", () => {
    const x = block([127, -127, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49, 100.4]);
    const out = quantize("q8_0", x);
    assert.equal(out.length, 34);
    // d = 127/127 = 1.0 → fp16 0x3c00, little-endian.
    assert.equal(
      hex(out.subarray(0, 11)),
      "00 3c 7f 81 01 ff 02 03 fd 00 64",
    );
    assert.ok(out.subarray(11).every((b) => b === 0));
  });
  await t.step("all zeros: d = 0, q = 0", () => {
    assert.ok(quantize("q8_0", new Float32Array(64)).every((b) => b === 0));
  });
  await t.step("d = 16/127 rounds to fp16 0x3008; q = round(x·127/16)", () => {
    const x = block(Array.from({ length: 32 }, (_, j) => j - 16));
    const out = quantize("q8_0", x);
    assert.equal(hex(out.subarray(0, 2)), "08 30");
    const q = [...new Int8Array(out.buffer, 2, 32)];
    // x = -16 → -127, -2 → -15.875 → -16, 1 → 7.9375 → 8, 15 → 119.0625 → 119
    assert.deepEqual(
      [q[0], q[14], q[16], q[17], q[31]],
      [-127, -16, 0, 8, 119],
    );
  });
  await t.step("blocks are independent", () => {
    const x = new Float32Array(64);
    x[0] = 127;
    x[32] = 254;
    const out = quantize("q8_0", x);
    assert.equal(hex(out.subarray(0, 3)), "00 3c 7f"); // d 1
    assert.equal(hex(out.subarray(34, 37)), "00 40 7f"); // d 2
  });
});

Deno.test("quantize q5_1 and q4_0 write ggml's block bytes for known inputs", async (t) => {
  await t.step("q5_1: d = (max−min)/31, m = min, 5th bits in qh", () => {
    // min 0, max 31: d = 1, q = x; x = 16 + j sets the 5th bit for j ≥ 0.
    const x = block(Array.from({ length: 32 }, (_, j) => j < 16 ? j : 31));
    const out = quantize("q5_1", x);
    assert.equal(out.length, 24);
    assert.equal(hex(out.subarray(0, 4)), "00 3c 00 00"); // d 1.0, m 0.0
    // qh: bits 16..31 (second half, q = 31) set.
    assert.equal(hex(out.subarray(4, 8)), "00 00 ff ff");
    // qs[j] = (q_j & 15) | ((q_{j+16} & 15) << 4) = j | 0xf0
    assert.deepEqual(
      [...out.subarray(8)],
      Array.from({ length: 16 }, (_, j) => j | 0xf0),
    );
  });
  await t.step("q4_0: d = max/−8 (signed max), q = min(15, x/d + 8.5)", () => {
    // The first largest |x| is -8, so d = -8/-8 = 1 and x = -8 → q = 0.
    const x = block([-8, 8, 0, 1, -1, 7.4]);
    const out = quantize("q4_0", x);
    assert.equal(out.length, 18);
    assert.equal(hex(out.subarray(0, 2)), "00 3c"); // d = -8/-8 = 1
    // q: -8 → 0, 8 → 16.5 → 15 (clamped), 0 → 8, 1 → 9, -1 → 7, 7.4 → 15
    // (16..31 are zero → 8 in the high nibble)
    assert.deepEqual(
      [...out.subarray(2, 8)].map((b) => [b & 15, b >> 4]),
      [[0, 8], [15, 8], [8, 8], [9, 8], [7, 8], [15, 8]],
    );
  });
});

Deno.test("quantize round-trips within each format's error bound", async (t) => {
  const next = random(42);
  // Rows of very different scales, like real weight rows.
  const x = new Float32Array(32 * 200);
  for (let i = 0; i < x.length; i++) {
    const scale = 10 ** (Math.floor(i / 32) % 7 - 4);
    x[i] = Math.fround((next() * 2 - 1) * scale);
  }
  for (const type of QUANT_TYPES) {
    await t.step(type, () => {
      const bytes = quantize(type, x);
      assert.equal(
        bytes.length,
        (x.length / 32) * QUANT_FORMATS[type].blockBytes,
      );
      const y = dequantize(type, bytes, x.length);
      let sq = 0;
      let sqErr = 0;
      for (let b = 0; b < x.length / 32; b++) {
        const xs = x.subarray(b * 32, b * 32 + 32);
        const amax = Math.max(...xs.map(Math.abs));
        const min = Math.min(...xs);
        const max = Math.max(...xs);
        // q = round(x/d) is off by ≤ d/2; rounding the scale to fp16 adds
        // ≤ |q| × half an fp16 step (2^-11 relative, 2^-25 absolute once the
        // scale is subnormal).
        const fp16Err = (v: number) => Math.max(Math.abs(v) / 2048, 2 ** -25);
        const d8 = amax / 127;
        const d5 = (max - min) / 31;
        const d4 = amax / 8;
        const bound: Record<QuantType, number> = {
          q8_0: d8 / 2 + 128 * fp16Err(d8),
          q5_1: d5 / 2 + 32 * fp16Err(d5) + fp16Err(min),
          // −d·8 can't be written (q ≤ 15): that value is off by a whole d.
          q4_0: d4 + 16 * fp16Err(d4),
        };
        for (let j = 0; j < 32; j++) {
          const err = Math.abs(y[b * 32 + j]! - xs[j]!);
          assert.ok(
            err <= bound[type] * (1 + 1e-6),
            `${type} block ${b} [${j}]: |${y[b * 32 + j]} − ${
              xs[j]
            }| = ${err} > ${bound[type]}`,
          );
          sq += xs[j]! ** 2;
          sqErr += err ** 2;
        }
      }
      // Signal-to-noise: q8_0 ≳ 40 dB, q5_1 ≳ 25 dB, q4_0 ≳ 15 dB here.
      const snr = 10 * Math.log10(sq / sqErr);
      const floor: Record<QuantType, number> = { q8_0: 40, q5_1: 25, q4_0: 15 };
      assert.ok(snr > floor[type], `${type}: SNR ${snr.toFixed(1)} dB`);
    });
  }
});

Deno.test("quantize rejects lengths that aren't whole blocks", () => {
  assert.throws(
    () => quantize("q8_0", new Float32Array(33)),
    /33 values is not a multiple of 32/,
  );
  assert.throws(
    () => dequantize("q8_0", new Uint8Array(33), 32),
    /33 bytes, 1 q8_0 blocks need 34/,
  );
});
