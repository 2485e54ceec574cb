/**
 * Matrix products: the blocked float32 kernel against a naive triple loop (odd sizes, strided and
 * transposed operands, the few-rows paths), MatMul's numpy semantics (1-D promotion, batch
 * broadcasting, integer wrap, narrow-float rounding), Gemm's attributes and bias broadcast, the
 * quantized products, Einsum equations, and the diagnostics for operands that do not fit.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../ir/dtype.js';
import type { Attrs } from '../ir/graph.js';
import { matmulF32, matmulF32Strided } from '../ir/ops/matmul-kernel.js';
import { seededFloats } from '../ir/random.js';
import { Tensor } from '../ir/tensor.js';
import { expectOpError, f32, float, int, opHarness, str } from './helpers/ops.js';

const { run } = opHarness();

/** out(i,j) = sum_k A(i,k) B(k,j) in float64, with element accessors. */
function naive(M: number, K: number, N: number, a: (i: number, k: number) => number, b: (k: number, j: number) => number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a(i, k) * b(k, j);
      out[i * N + j] = s;
    }
  }
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst).toBeLessThan(tol);
}

describe('matmulF32 kernel', () => {
  it.each([
    [37, 53, 71],
    [1, 300, 9],
    [3, 5, 2],
    [4, 1, 4],
    [260, 270, 1030], // crosses the K (256) and N (1024) block edges
    [5, 0, 3],
  ])('matches a naive triple loop for %i x %i x %i', (M, K, N) => {
    const a = seededFloats(1, M * K, 0.5);
    const b = seededFloats(2, K * N, 0.5);
    const out = new Float32Array(M * N).fill(Number.NaN);
    matmulF32(a, 0, b, 0, out, 0, M, K, N);
    expectClose(out, naive(M, K, N, (i, k) => a[i * K + k], (k, j) => b[k * N + j]));
  });

  it('honours offsets and strides: a transposed B and an output with a wider row', () => {
    const M = 9, K = 13, N = 7;
    const a = seededFloats(3, 3 + M * 20, 0.5); // rows of 20, K used, starting at 3
    const bt = seededFloats(4, 5 + N * K, 0.5); // B stored transposed (N x K) at offset 5
    const out = new Float32Array(2 + M * 10).fill(-7);
    for (const rows of [M, 2]) {
      matmulF32Strided(a, 3, 20, bt, 5, 1, K, out, 2, 10, rows, K, N);
      const want = naive(rows, K, N, (i, k) => a[3 + i * 20 + k], (k, j) => bt[5 + j * K + k]);
      const got = Array.from({ length: rows * N }, (_, x) => out[2 + Math.floor(x / N) * 10 + (x % N)]);
      expectClose(got, want);
    }
    // columns past N in each output row are untouched
    expect(out[2 + 10 + N]).toBe(-7);
  });
});

describe('MatMul', () => {
  it('multiplies 2-D matrices (hand-computed)', () => {
    const y = run('MatMul', [f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([3, 2], [7, 8, 9, 10, 11, 12])]);
    expect(y.shape).toEqual([2, 2]);
    expect(y.toArray()).toEqual([58, 64, 139, 154]);
  });

  it('promotes 1-D operands and drops the added dim', () => {
    expect(run('MatMul', [f32([3], [1, 2, 3]), f32([3], [4, 5, 6])]).toArray()).toEqual([32]);
    const v = run('MatMul', [f32([2], [1, 2]), f32([2, 2, 3], [1, 0, 2, 0, 1, 0, 3, 1, 0, 1, 2, 1])]);
    expect(v.shape).toEqual([2, 3]);
    expect(v.toArray()).toEqual([1, 2, 2, 5, 5, 2]);
    const w = run('MatMul', [f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([3], [1, 0, -1])]);
    expect(w.shape).toEqual([2]);
    expect(w.toArray()).toEqual([-2, -2]);
  });

  it('broadcasts batch dims', () => {
    const a = seededFloats(5, 3 * 1 * 2 * 4, 0.5);
    const b = seededFloats(6, 1 * 2 * 4 * 5, 0.5);
    const y = run('MatMul', [new Tensor('float32', [3, 1, 2, 4], a), new Tensor('float32', [1, 2, 4, 5], b)]);
    expect(y.shape).toEqual([3, 2, 2, 5]);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 2; j++) {
        const want = naive(2, 4, 5, (r, k) => a[i * 8 + r * 4 + k], (k, c) => b[j * 20 + k * 5 + c]);
        expectClose(Array.from(y.data.subarray((i * 2 + j) * 10, (i * 2 + j + 1) * 10)), want);
      }
    }
  });

  it('wraps int32 products like C and rounds float16 results', () => {
    const big = run('MatMul', [Tensor.from('int32', [1, 2], [65536, 3]), Tensor.from('int32', [2, 1], [65536, 4])]);
    expect(big.toArray()).toEqual([12]); // 2^32 wraps to 0
    const bytes = run('MatMul', [Tensor.from('uint8', [1, 2], [200, 100]), Tensor.from('uint8', [2, 1], [1, 1])]);
    expect(bytes.toArray()).toEqual([44]); // 300 mod 256
    const h = run('MatMul', [Tensor.from('float16', [1, 2], [1, 1]), Tensor.from('float16', [2, 1], [1, 0.0003])]);
    expect(h.toArray()[0]).toBe(1); // 1.0003 is not a float16; the nearest is 1
    const d = run('MatMul', [Tensor.from('float64', [1, 2], [1e-10, 1]), Tensor.from('float64', [2, 1], [1, 1])]);
    expect(d.toArray()[0]).toBe(1 + 1e-10); // float32 would have rounded it to 1
  });

  it('rejects mismatched inner dims, scalars and mixed dtypes', () => {
    expectOpError(() => run('MatMul', [f32([2, 3], [0, 0, 0, 0, 0, 0]), f32([2, 3], [0, 0, 0, 0, 0, 0])]), 'W2002', /inner dimensions differ.*3 vs 2/);
    expectOpError(() => run('MatMul', [Tensor.scalar('float32', 1), f32([1], [1])]), 'W2002', /rank >= 1/);
    expectOpError(() => run('MatMul', [f32([1], [1]), Tensor.from('float64', [1], [1])]), 'W2002', /same dtype/);
    expectOpError(() => run('MatMul', [f32([2, 1, 3], new Array(6).fill(0)), f32([3, 3, 1], new Array(9).fill(0))]), 'W2002', /cannot be broadcast/);
  });
});

describe('Gemm', () => {
  const A = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const B = f32([3, 2], [1, 0, 0, 1, 1, 1]);
  it('computes alpha·A·B + beta·C with C broadcast from a row, a column or a scalar', () => {
    expect(run('Gemm', [A, B]).toArray()).toEqual([4, 5, 10, 11]);
    expect(run('Gemm', [A, B, f32([2], [100, 200])], { alpha: float(2), beta: float(0.5) }).toArray()).toEqual([58, 110, 70, 122]);
    expect(run('Gemm', [A, B, f32([2, 1], [1, 2])]).toArray()).toEqual([5, 6, 12, 13]);
    expect(run('Gemm', [A, B, Tensor.scalar('float32', -4)]).toArray()).toEqual([0, 1, 6, 7]);
  });

  it('applies transA and transB', () => {
    const At = f32([3, 2], [1, 4, 2, 5, 3, 6]);
    const Bt = f32([2, 3], [1, 0, 1, 0, 1, 1]);
    expect(run('Gemm', [At, B], { transA: int(1) }).toArray()).toEqual([4, 5, 10, 11]);
    expect(run('Gemm', [A, Bt], { transB: int(1) }).toArray()).toEqual([4, 5, 10, 11]);
    expect(run('Gemm', [At, Bt], { transA: int(1), transB: int(1) }).toArray()).toEqual([4, 5, 10, 11]);
  });

  it('diagnoses shapes that do not fit', () => {
    expectOpError(() => run('Gemm', [A, A]), 'W2002', /inner dimensions differ/);
    expectOpError(() => run('Gemm', [A, B, f32([3], [0, 0, 0])]), 'W2002', /does not broadcast to \[2,2\]/);
    expectOpError(() => run('Gemm', [f32([2, 1, 3], new Array(6).fill(0)), B]), 'W2002', /must be 2-D/);
  });
});

describe('quantized products', () => {
  it('MatMulInteger subtracts per-tensor and per-row/column zero points', () => {
    const a = Tensor.from('uint8', [2, 2], [10, 20, 30, 40]);
    const b = Tensor.from('uint8', [2, 2], [1, 2, 3, 4]);
    expect(run('MatMulInteger', [a, b, Tensor.from('uint8', [], [10])]).toArray()).toEqual([30, 40, 110, 160]);
    const y = run('MatMulInteger', [a, b, Tensor.from('uint8', [2], [10, 30]), Tensor.from('uint8', [2], [1, 2])]);
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([20, 20, 20, 20]);
  });

  it('QLinearMatMul requantizes with round-half-to-even and saturation', () => {
    const s = (v: number): Tensor => Tensor.from('float32', [], [v]);
    const a = Tensor.from('uint8', [1, 2], [3, 4]);
    const b = Tensor.from('uint8', [2, 2], [1, 10, 1, 200]);
    // acc = [7, 830]; scale 0.5 -> 3.5 -> 4 (even), 415 -> saturates at 255
    const y = run('QLinearMatMul', [a, s(1), Tensor.from('uint8', [], [0]), b, s(1), Tensor.from('uint8', [], [0]), s(2), Tensor.from('uint8', [], [0])]);
    expect(y.toArray()).toEqual([4, 255]);
  });
});

describe('Einsum', () => {
  const eq = (e: string): Attrs => ({ equation: str(e) });
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  it('transposes, sums and takes traces', () => {
    expect(run('Einsum', [x], eq('ij->ji')).toArray()).toEqual([1, 4, 2, 5, 3, 6]);
    expect(run('Einsum', [x], eq('ij->i')).toArray()).toEqual([6, 15]);
    expect(run('Einsum', [x], eq('ij->')).toArray()).toEqual([21]);
    expect(run('Einsum', [f32([2, 2], [1, 2, 3, 4])], eq('ii')).toArray()).toEqual([5]);
    expect(run('Einsum', [f32([2, 2], [1, 2, 3, 4])], eq('ii->i')).toArray()).toEqual([1, 4]);
    expect(run('Einsum', [x], eq('ji')).shape).toEqual([3, 2]); // implicit output sorts labels: 'ij'
  });

  it('multiplies: inner, outer and batched products', () => {
    const v = f32([3], [1, 2, 3]);
    expect(run('Einsum', [v, v], eq('i,i')).toArray()).toEqual([14]);
    expect(run('Einsum', [f32([2], [1, 2]), v], eq('i,j->ij')).toArray()).toEqual([1, 2, 3, 2, 4, 6]);
    const a = seededFloats(7, 2 * 3 * 4, 0.5);
    const b = seededFloats(8, 2 * 4 * 5, 0.5);
    const y = run('Einsum', [new Tensor('float32', [2, 3, 4], a), new Tensor('float32', [2, 4, 5], b)], eq('bij, bjk -> bik'));
    expect(y.shape).toEqual([2, 3, 5]);
    for (let t = 0; t < 2; t++) {
      const want = naive(3, 4, 5, (i, k) => a[t * 12 + i * 4 + k], (k, j) => b[t * 20 + k * 5 + j]);
      expectClose(Array.from(y.data.subarray(t * 15, t * 15 + 15)), want);
    }
    // the same contraction with the output permuted and a three-operand chain
    const z = run('Einsum', [new Tensor('float32', [2, 3, 4], a), new Tensor('float32', [2, 4, 5], b)], eq('bij,bjk->kbi'));
    expect(z.shape).toEqual([5, 2, 3]);
    expect(z.data[(4 * 2 + 1) * 3 + 2]).toBeCloseTo(y.data[1 * 15 + 2 * 5 + 4], 6);
    const chain = run('Einsum', [f32([2], [1, 2]), f32([2, 2], [1, 2, 3, 4]), f32([2], [5, 6])], eq('i,ij,j->'));
    expect(chain.toArray()).toEqual([1 * 1 * 5 + 1 * 2 * 6 + 2 * 3 * 5 + 2 * 4 * 6]);
  });

  it('handles ellipsis with broadcasting and batch diagonals', () => {
    const d = run('Einsum', [f32([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])], eq('...ii ->...i'));
    expect(d.toArray()).toEqual([1, 4, 5, 8]);
    const y = run('Einsum', [f32([2, 1, 2], [1, 2, 3, 4]), f32([3, 2], [1, 0, 0, 1, 1, 1])], eq('...j,kj->...k'));
    expect(y.shape).toEqual([2, 1, 3]);
    expect(y.toArray()).toEqual([1, 2, 3, 3, 4, 7]);
    const bc = run('Einsum', [f32([1, 2], [1, 2]), f32([3, 2], [1, 1, 2, 2, 3, 3])], eq('...i,...i->...'));
    expect(bc.toArray()).toEqual([3, 6, 9]);
    expect(run('Einsum', [Tensor.scalar('float64', 2.5)], eq('->')).toArray()).toEqual([2.5]);
  });

  it('diagnoses bad equations', () => {
    expectOpError(() => run('Einsum', [x], eq('ijk->i')), 'W2002', /has 3 labels but input 0 has rank 2/);
    expectOpError(() => run('Einsum', [x, x], eq('ij->i')), 'W2002', /1 operand terms but the node has 2 inputs/);
    expectOpError(() => run('Einsum', [x], eq('ij->k')), 'W2002', /'k' does not appear/);
    expectOpError(() => run('Einsum', [x, x], eq('ij,jk->ik')), 'W2002', /label 'j' has size 3 .* 2 in input 1/);
    expectOpError(() => run('Einsum', [x], eq('i1->i')), 'W2002', /contains '1'/);
  });

  it('keeps integer dtypes exact', () => {
    const dt: DType = 'int64';
    const y = run('Einsum', [Tensor.from(dt, [2, 2], [1, 2, 3, 4]), Tensor.from(dt, [2, 2], [5, 6, 7, 8])], eq('ij,jk->ik'));
    expect(y.dtype).toBe('int64');
    expect(y.toArray()).toEqual([19, 22, 43, 50]);
  });
});
