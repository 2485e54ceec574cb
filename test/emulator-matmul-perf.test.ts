/**
 * The emulator's fast functional kernels are bit-identical to their straightforward definitions
 * (docs/runtime-model.md, "Functional and timing-only modes"): `matmulValues` against the plain
 * per-element loop s ← fround(s + a·b) followed by one storage rounding, over random f32 / f16 data,
 * every accumulate / transB / rounding combination, odd shapes (remainders of the 4-row and
 * 4-column blocks) and overlapping operands; and `roundF16` against ir/dtype.ts roundFloat16 over
 * every mantissa of the exponents where its fast path begins and ends.
 */
import { describe, expect, it } from 'vitest';
import { roundFloat16 } from '../ir/dtype.js';
import { seededFloats } from '../ir/random.js';
import { matmulValues, ROUND_F16, ROUND_F32, ROUND_I32 } from '../runtime/compute.js';
import { roundF16 } from '../runtime/compute-f16.js';

const f = Math.fround;

function roundRef(mode: number, v: number): number {
  return mode === ROUND_F32 ? v : mode === ROUND_F16 ? roundFloat16(v) : Math.trunc(v);
}

/** The emulator's matmul semantics, written as plainly as possible. */
function matmulRef(
  A: Float32Array, a: number, B: Float32Array, b: number, C: Float32Array, c: number,
  m: number, k: number, n: number, acc: boolean, transB: boolean, round: number,
): void {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = acc ? C[c + i * n + j] : 0;
      for (let q = 0; q < k; q++) s = f(s + A[a + i * k + q] * (transB ? B[b + j * k + q] : B[b + q * n + j]));
      out[i * n + j] = s;
    }
  }
  for (let i = 0; i < m * n; i++) C[c + i] = roundRef(round, out[i]);
}

function sameBits(x: Float32Array, y: Float32Array): boolean {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length), v = new Uint32Array(y.buffer, y.byteOffset, y.length);
  return u.every((w, i) => w === v[i]);
}

describe('emulator matmul values', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [4, 4, 4], [5, 16, 9], [8, 3, 13], [32, 16, 16], [17, 33, 6], [2, 0, 3]];
  let seed = 1;
  for (const [m, k, n] of shapes) {
    for (const round of [ROUND_F32, ROUND_F16, ROUND_I32]) {
      for (const acc of [false, true]) {
        for (const transB of [false, true]) {
          it(`${m}x${k}x${n} round=${round} acc=${acc} transB=${transB}`, () => {
            const size = m * k + k * n + m * n + 16;
            const scale = round === ROUND_I32 ? 64 : 1;
            const init = seededFloats(seed++, size, scale);
            if (round !== ROUND_F32) for (let i = 0; i < size; i++) init[i] = roundRef(round, init[i]);
            const a = 3, b = a + m * k + 1, c = b + k * n + 2;
            const got = init.slice(), want = init.slice();
            matmulValues(got, a, got, b, got, c, m, k, n, acc, transB, round);
            matmulRef(want, a, want, b, want, c, m, k, n, acc, transB, round);
            expect(sameBits(got, want)).toBe(true);
          });
        }
      }
    }
  }

  it('overlapping operands (c over a, c over b, by one element) read the old values', () => {
    for (const [m, k, n] of [[4, 4, 4], [6, 6, 6], [5, 5, 5]]) {
      for (const transB of [false, true]) {
        for (const acc of [false, true]) {
          for (const [a, b, c] of [[0, m * k, 0], [0, m * k, m * k], [0, m * k, 2], [0, m * k, m * k + k * n - 1]]) {
            const init = seededFloats(seed++, 2 * m * k + m * n + 8);
            const got = init.slice(), want = init.slice();
            matmulValues(got, a, got, b, got, c, m, k, n, acc, transB, ROUND_F16);
            matmulRef(want, a, want, b, want, c, m, k, n, acc, transB, ROUND_F16);
            expect(sameBits(got, want)).toBe(true);
          }
        }
      }
    }
  });

  it('keeps infinities, NaNs, signed zeros and f16 overflow as the plain loop does', () => {
    const A = new Float32Array([Infinity, -0, 1e30, 65504, -0, -0, 7e4, 1e-8, NaN, 2, -3, 0.5, 6e-8, -6e-8, 3e-5, -1]);
    const B = new Float32Array([-0, 1, 1e30, 2, -1, -0, 65520, 1e-8, 1, 1, 1, 1, 0.5, 0.25, 1e-3, -1]);
    for (const round of [ROUND_F32, ROUND_F16]) {
      for (const transB of [false, true]) {
        const got = new Float32Array(16), want = new Float32Array(16);
        got.fill(-0); want.fill(-0);
        matmulValues(A, 0, B, 0, got, 0, 4, 4, 4, false, transB, round);
        matmulRef(A, 0, B, 0, want, 0, 4, 4, 4, false, transB, round);
        for (let i = 0; i < 16; i++) expect(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]))).toBe(true);
      }
    }
  });
});

describe('roundF16', () => {
  it('equals roundFloat16 over every mantissa of the boundary exponents', () => {
    const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
    let bad = 0;
    // 112/113: subnormal/normal edge; 127: 1.0; 142/143: overflow edge. Every 3rd mantissa keeps the
    // test fast while still crossing each rounding case (ties, carries) many times; the tie and
    // carry patterns themselves are added explicitly.
    for (const e of [112, 113, 127, 142, 143]) {
      for (const sign of [0, 1]) {
        const check = (mant: number) => {
          u32[0] = (sign << 31) | (e << 23) | mant;
          const x = f32[0];
          if (!Object.is(roundF16(x), roundFloat16(x))) bad++;
        };
        for (let mant = 0; mant < 1 << 23; mant += 3) check(mant);
        for (let hi = 0; hi < 1 << 10; hi++) for (const lo of [0xfff, 0x1000, 0x1001, 0x1fff]) check((hi << 13) | lo);
      }
    }
    for (const x of [0, -0, Infinity, -Infinity, NaN, 65504, 65519.99, 65520, -65520, 6.1e-5, 6.103515625e-5, 1e-40, 1 + 2 ** -11, 1 + 3 * 2 ** -11]) {
      if (!Object.is(roundF16(x), roundFloat16(x))) bad++;
    }
    expect(bad).toBe(0);
  });
});
