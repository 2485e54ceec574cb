/**
 * The dense kernels behind Conv and ConvTranspose: im2col in column chunks followed by a GEMM.
 * Float32-stored data (float32, float16, bfloat16) goes through the shared blocked kernel
 * `matmulF32Strided` (float64 sums within a K block); everything else (float64, the centred integers of
 * ConvInteger) through a plain strided GEMM that accumulates in float64. `finish` then adds the bias
 * and rounds the result to the output dtype; `floatConvOp` puts these together into the Conv and
 * ConvTranspose ops, which differ only in their shape rule and kernel.
 */
import { type DType, type TensorData, allocData, castScalar, isFloat } from '../dtype.js';
import type { Attrs } from '../graph.js';
import { Tensor } from '../tensor.js';
import { gatherTable, prod, type Window } from './conv-geometry.js';
import { matmulF32Strided } from './matmul-kernel.js';
import type { OpDef } from './registry.js';
import { fail, need } from './util.js';

type Num = ArrayLike<number>;

/**
 * C[i*ldc + j] += sum_k A[aOff + i*lda + k] * B[bOff + k*ldb + j] for i < m, j < n, k < kk.
 * Loop order i-k-j keeps the innermost loop on contiguous rows of B and C.
 */
export function gemmAcc(
  m: number, kk: number, n: number,
  A: Num, aOff: number, lda: number,
  B: Num, bOff: number, ldb: number,
  C: Float64Array, cOff: number, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * ldc;
    const ai = aOff + i * lda;
    for (let k = 0; k < kk; k++) {
      const a = A[ai + k];
      if (a === 0) continue;
      const bk = bOff + k * ldb;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bk + j];
    }
  }
}

/**
 * C[i*ldc + j] += sum_k A[aOff + k*lda + i] * B[bOff + k*ldb + j]: the product with A transposed
 * (ConvTranspose multiplies by the weight's transpose).
 */
export function gemmAccTN(
  m: number, kk: number, n: number,
  A: Num, aOff: number, lda: number,
  B: Num, bOff: number, ldb: number,
  C: Float64Array, cOff: number, ldc: number,
): void {
  for (let k = 0; k < kk; k++) {
    const ak = aOff + k * lda;
    const bk = bOff + k * ldb;
    for (let i = 0; i < m; i++) {
      const a = A[ak + i];
      if (a === 0) continue;
      const ci = cOff + i * ldc;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bk + j];
    }
  }
}

/** Sizes of a grouped convolution (forward direction). */
export interface ConvDims {
  N: number;
  C: number;
  M: number;
  group: number;
  win: Window;
}

/** Upper bound on the im2col (col2im) buffer, in elements, before it is processed in column chunks. */
export const COL_BUDGET = 1 << 21;

/**
 * Grouped N-D convolution without bias: y[N][M][P] = sum over taps of w[M][C/group][k...] times
 * x[N][C][in...]; taps in padding read 0 (callers subtract zero points beforehand). Float32Array
 * operands take the blocked float32 kernel and give a Float32Array; others give a Float64Array.
 */
export function convCore(d: ConvDims, x: TensorData, w: TensorData): Float32Array | Float64Array {
  const { N, C, M, group, win } = d;
  const Cg = C / group;
  const Mg = M / group;
  const K = prod(win.kernel);
  const P = prod(win.outSize);
  const inP = prod(win.inSize);
  const table = gatherTable(win);
  const f32 = x instanceof Float32Array && w instanceof Float32Array;
  const y = f32 ? new Float32Array(N * M * P) : new Float64Array(N * M * P);
  const rowsB = Cg * K;
  // 1x1 kernels with unit stride and no padding read the input directly, without im2col.
  let identity = K === 1 && P === inP;
  for (let p = 0; identity && p < P; p++) identity = table[p] === p;
  const chunk = Math.max(64, Math.min(P, Math.floor(COL_BUDGET / Math.max(1, rowsB))));
  const colLen = identity ? 0 : rowsB * Math.min(chunk, P);
  const col = f32 ? new Float32Array(colLen) : new Float64Array(colLen);
  const acc = new Float64Array(f32 ? 0 : Mg * Math.min(chunk, P));
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      const xBase = (n * C + g * Cg) * inP;
      const wBase = g * Mg * rowsB;
      const yBase = (n * M + g * Mg) * P;
      for (let p0 = 0; p0 < P; p0 += chunk) {
        const pt = Math.min(chunk, P - p0);
        if (!identity) {
          for (let c = 0; c < Cg; c++) {
            const xc = xBase + c * inP;
            for (let k = 0; k < K; k++) {
              const row = (c * K + k) * pt;
              const tk = k * P + p0;
              for (let j = 0; j < pt; j++) {
                const t = table[tk + j];
                col[row + j] = t >= 0 ? x[xc + t] : 0;
              }
            }
          }
        }
        const [B, bOff, bRs] = identity ? [x, xBase + p0, inP] : [col, 0, pt];
        if (f32) {
          matmulF32Strided(w as Float32Array, wBase, rowsB, B as Float32Array, bOff, bRs, 1, y as Float32Array, yBase + p0, P, Mg, rowsB, pt);
        } else {
          acc.fill(0, 0, Mg * pt);
          gemmAcc(Mg, rowsB, pt, w, wBase, rowsB, B, bOff, bRs, acc, 0, pt);
          for (let m = 0; m < Mg; m++) y.set(acc.subarray(m * pt, m * pt + pt), yBase + m * P + p0);
        }
      }
    }
  }
  return y;
}

/** Checks that an optional bias has shape [M]. */
export function checkBias(b: readonly number[] | undefined, M: number, name = 'B'): void {
  if (b && (b.length !== 1 || b[0] !== M)) fail(`bias ${name} must have shape [${M}], got [${b.join(',')}]`);
}

/** Adds the per-channel bias and stores y ([N][M][P]) in dtype `dt`. */
export function finish(y: Float32Array | Float64Array, outShape: number[], dt: DType, bias?: ArrayLike<number>): Tensor {
  const [N, M] = outShape;
  const P = prod(outShape.slice(2));
  const out = dt === 'float32' && y instanceof Float32Array ? y : allocData(dt, y.length);
  const round = dt === 'float16' || dt === 'bfloat16';
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const bv = bias ? bias[m] : 0;
      const base = (n * M + m) * P;
      if (round) for (let p = base; p < base + P; p++) out[p] = castScalar(y[p] + bv, dt);
      else for (let p = base; p < base + P; p++) out[p] = y[p] + bv;
    }
  }
  return new Tensor(dt, outShape, out);
}

/**
 * A float convolution op (Conv, ConvTranspose): X and W of one floating-point dtype and an optional
 * bias B of shape [M] and that dtype. `dims` checks the shapes and resolves the geometry; `core`
 * computes the output without bias.
 */
export function floatConvOp<D extends { M: number; outShape: number[] }>(
  dims: (x: readonly number[], w: readonly number[], attrs: Attrs) => D,
  core: (d: D, x: TensorData, w: TensorData) => Float32Array | Float64Array,
): OpDef {
  return {
    infer(inputs, attrs) {
      const x = need(inputs, 0, 'input X').type;
      const w = need(inputs, 1, 'weight W').type;
      if (!isFloat(x.dtype)) fail(`X must be a floating-point tensor, got ${x.dtype}`);
      if (w.dtype !== x.dtype) fail(`X and W must have the same dtype, got ${x.dtype} and ${w.dtype}`);
      const d = dims(x.shape, w.shape, attrs);
      const b = inputs[2]?.type;
      checkBias(b?.shape, d.M);
      if (b && b.dtype !== x.dtype) fail(`bias B must have dtype ${x.dtype}, got ${b.dtype}`);
      return [{ dtype: x.dtype, shape: d.outShape }];
    },
    evaluate(inputs, attrs) {
      const x = need(inputs, 0, 'input X');
      const w = need(inputs, 1, 'weight W');
      const b = inputs[2];
      const d = dims(x.shape, w.shape, attrs);
      checkBias(b?.shape, d.M);
      return [finish(core(d, x.data, w.data), d.outShape, x.dtype, b?.data)];
    },
  };
}
