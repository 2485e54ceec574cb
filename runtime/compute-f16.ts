/**
 * Fast float16 storage rounding for the emulator's hot paths (every store into an f16 buffer: a
 * matmul's results, a receive's values, ...). Bit-identical to ir/dtype.ts `roundFloat16`: the value
 * is first rounded to float32 (as hardware converting f32 -> f16 sees it), then to the nearest
 * float16, ties to even. roundFloat16 goes through the float16 bit pattern and back with a power
 * of two per call; here the common case — a result in the normal float16 range — stays in float32
 * bits: adding 0xfff + (bit 13) to the bits and clearing the low 13 bits rounds the mantissa to 10
 * bits half-to-even, a carry out of the mantissa bumps the exponent as it should. Everything else
 * (zero, subnormal, overflow, infinity, NaN) goes to roundFloat16 itself, so those cases cannot
 * differ. test/emulator-matmul-perf.test.ts compares the two over every mantissa of boundary
 * exponents.
 */
import { roundFloat16 } from '../ir/dtype.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Biased float32 exponents whose values are normal float16 numbers: 2^-14 ≤ |x| < 2^16. */
const EXP_MIN = 127 - 14;
const EXP_MAX = 127 + 15;

/** The nearest float16 value of x (after rounding x to float32), as roundFloat16 gives it. */
export function roundF16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const e = (bits >>> 23) & 0xff;
  if (e < EXP_MIN || e > EXP_MAX) return roundFloat16(x);
  const r = (bits + 0xfff + ((bits >>> 13) & 1)) & 0xffffe000;
  if (((r >>> 23) & 0xff) > EXP_MAX) return roundFloat16(x); // rounds up past 65504: infinity
  u32[0] = r;
  return f32[0];
}

/** dst[d..d+n) = roundF16(src[s..s+n)); src and dst may be the same array at the same offset. */
export function storeF16(src: Float32Array, s: number, dst: Float32Array, d: number, n: number): void {
  for (let i = 0; i < n; i++) dst[d + i] = roundF16(src[s + i]);
}
