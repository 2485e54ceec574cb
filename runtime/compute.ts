/**
 * Compute instructions: their values over a region's SRAM array in functional mode. Their cycle
 * costs (docs/runtime-model.md, "Cost of an instruction on a core") are ir/program-cost.ts, which
 * the compiler's predictions use too; they are re-exported here for the executor.
 *
 * Values live in Float32Array SRAM images (executor-sram.ts); every store rounds to the destination
 * buffer's type: f32 by the Float32Array itself, f16 with roundFloat16 (in its fast, bit-identical
 * form, compute-f16.ts), i32 toward zero (i32 values are exact up to 2^24, the float32 mantissa). Arithmetic accumulates in float32 (one rounding per
 * multiply-add, as an FMA does), whatever the storage type.
 */
import { roundF16, storeF16 } from './compute-f16.js';
import { erf } from '../ir/ops/elementwise-math.js';

export const ROUND_F32 = 0;
export const ROUND_F16 = 1;
export const ROUND_I32 = 2;

export function roundTo(mode: number, v: number): number {
  return mode === ROUND_F32 ? v : mode === ROUND_F16 ? roundF16(v) : Math.trunc(v);
}

// ---- costs (cycles beyond overhead.issue): one definition, shared with the compiler ------------

export { binaryCycles, fillCycles, matmulCycles, reduceCycles, unaryCycles } from '../ir/program-cost.js';

// ---- values ---------------------------------------------------------------------------------

const f = Math.fround;
let scratch = new Float32Array(1024);

function tmp(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/**
 * c[m×n] (+)= a[m×k]·b[k×n] (b[n×k] read transposed when transB); operands may alias. Each result
 * element is s ← fround(s + a·b) over q = 0..k-1 in order, from s = 0 (or c's value when
 * accumulating), then one storage rounding (docs/runtime-model.md, "Functional and timing-only
 * modes"). The loops are arranged for speed without changing that per-element order: a 4×4 tile
 * of results runs its 16 sums side by side over q (each load of a or b feeds four multiply-adds);
 * with transB the rows of a and b are both contiguous, so each element is a dot product, four
 * columns at a time. The sums are gathered in a scratch block (they are float32 values at every
 * step, so holding them in a Float32Array changes nothing) and stored, rounded, at the end, after
 * every operand value has been read, so c may overlap a or b. (Writing straight into c with the
 * rounding in the tile loop measured no faster, and this keeps the kernels simple.)
 */
export function matmulValues(
  A: Float32Array, a: number, B: Float32Array, b: number, C: Float32Array, c: number,
  m: number, k: number, n: number, acc: boolean, transB: boolean, round: number,
): void {
  const mn = m * n;
  const out = tmp(mn);
  if (acc) out.set(C.subarray(c, c + mn));
  else out.fill(0, 0, mn);
  if (transB) matmulTransB(A, a, B, b, out, m, k, n);
  else matmulRows(A, a, B, b, out, m, k, n);
  if (round === ROUND_F32) C.set(out.subarray(0, mn), c);
  else if (round === ROUND_F16) storeF16(out, 0, C, c, mn);
  else for (let i = 0; i < mn; i++) C[c + i] = Math.trunc(out[i]);
}

/**
 * out[m×n] += a·b (fround per multiply-add), b row-major k×n. 4×4 tiles of out are held in 16 local
 * sums over the whole k loop (each loaded value of a and b feeds four multiply-adds); the edge rows
 * and columns go element by element.
 */
function matmulRows(A: Float32Array, a: number, B: Float32Array, b: number, out: Float32Array, m: number, k: number, n: number): void {
  const m4 = m - (m % 4), n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
    const o0 = i * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
    for (let j = 0; j < n4; j += 4) {
      let s00 = out[o0 + j], s01 = out[o0 + j + 1], s02 = out[o0 + j + 2], s03 = out[o0 + j + 3];
      let s10 = out[o1 + j], s11 = out[o1 + j + 1], s12 = out[o1 + j + 2], s13 = out[o1 + j + 3];
      let s20 = out[o2 + j], s21 = out[o2 + j + 1], s22 = out[o2 + j + 2], s23 = out[o2 + j + 3];
      let s30 = out[o3 + j], s31 = out[o3 + j + 1], s32 = out[o3 + j + 2], s33 = out[o3 + j + 3];
      for (let q = 0, bq = b + j; q < k; q++, bq += n) {
        const y0 = B[bq], y1 = B[bq + 1], y2 = B[bq + 2], y3 = B[bq + 3];
        let x = A[a0 + q];
        s00 = f(s00 + x * y0); s01 = f(s01 + x * y1); s02 = f(s02 + x * y2); s03 = f(s03 + x * y3);
        x = A[a1 + q];
        s10 = f(s10 + x * y0); s11 = f(s11 + x * y1); s12 = f(s12 + x * y2); s13 = f(s13 + x * y3);
        x = A[a2 + q];
        s20 = f(s20 + x * y0); s21 = f(s21 + x * y1); s22 = f(s22 + x * y2); s23 = f(s23 + x * y3);
        x = A[a3 + q];
        s30 = f(s30 + x * y0); s31 = f(s31 + x * y1); s32 = f(s32 + x * y2); s33 = f(s33 + x * y3);
      }
      out[o0 + j] = s00; out[o0 + j + 1] = s01; out[o0 + j + 2] = s02; out[o0 + j + 3] = s03;
      out[o1 + j] = s10; out[o1 + j + 1] = s11; out[o1 + j + 2] = s12; out[o1 + j + 3] = s13;
      out[o2 + j] = s20; out[o2 + j + 1] = s21; out[o2 + j + 2] = s22; out[o2 + j + 3] = s23;
      out[o3 + j] = s30; out[o3 + j + 1] = s31; out[o3 + j + 2] = s32; out[o3 + j + 3] = s33;
    }
  }
  if (m4 < m) matmulEdge(A, a, B, b, out, m4, m, 0, n, k, n);
  if (n4 < n) matmulEdge(A, a, B, b, out, 0, m4, n4, n, k, n);
}

/** out[i0..i1) × [j0..j1) += a·b element by element (b row-major k×n). */
function matmulEdge(A: Float32Array, a: number, B: Float32Array, b: number, out: Float32Array, i0: number, i1: number, j0: number, j1: number, k: number, n: number): void {
  for (let i = i0; i < i1; i++) {
    const ai = a + i * k;
    for (let j = j0; j < j1; j++) {
      let s = out[i * n + j];
      for (let q = 0; q < k; q++) s = f(s + A[ai + q] * B[b + q * n + j]);
      out[i * n + j] = s;
    }
  }
}

/** out[m×n] += a·bᵀ (fround per multiply-add), b row-major n×k: dot products, four columns at a time. */
function matmulTransB(A: Float32Array, a: number, B: Float32Array, b: number, out: Float32Array, m: number, k: number, n: number): void {
  for (let i = 0; i < m; i++) {
    const ai = a + i * k, oi = i * n;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = b + j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let s0 = out[oi + j], s1 = out[oi + j + 1], s2 = out[oi + j + 2], s3 = out[oi + j + 3];
      for (let q = 0; q < k; q++) {
        const x = A[ai + q];
        s0 = f(s0 + x * B[b0 + q]);
        s1 = f(s1 + x * B[b1 + q]);
        s2 = f(s2 + x * B[b2 + q]);
        s3 = f(s3 + x * B[b3 + q]);
      }
      out[oi + j] = s0; out[oi + j + 1] = s1; out[oi + j + 2] = s2; out[oi + j + 3] = s3;
    }
    for (; j < n; j++) {
      const bj = b + j * k;
      let s = out[oi + j];
      for (let q = 0; q < k; q++) s = f(s + A[ai + q] * B[bj + q]);
      out[oi + j] = s;
    }
  }
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Unary function number (loader-kernel UNARY_FNS order) applied to one value. */
export function unaryValue(fn: number, x: number, s: number): number {
  switch (fn) {
    case 0: return x;
    case 1: return -x;
    case 2: return Math.abs(x);
    case 3: return Math.exp(x);
    case 4: return Math.log(x);
    case 5: return Math.sqrt(x);
    case 6: return 1 / Math.sqrt(x);
    case 7: return 1 / x;
    case 8: return x > 0 ? x : 0;
    case 9: return sigmoid(x);
    case 10: return Math.tanh(x);
    case 11: return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 12: return x * sigmoid(x);
    case 13: return x * x;
    case 14: return x * s;
    default: return x + s;
  }
}

export function unaryValues(S: Float32Array, s: number, D: Float32Array, d: number, n: number, fn: number, scalar: number, round: number): void {
  if (S === D && d > s && d < s + n) {
    const t = tmp(n);
    for (let i = 0; i < n; i++) t[i] = unaryValue(fn, S[s + i], scalar);
    for (let i = 0; i < n; i++) D[d + i] = roundTo(round, t[i]);
    return;
  }
  for (let i = 0; i < n; i++) D[d + i] = roundTo(round, unaryValue(fn, S[s + i], scalar));
}

export function binaryValue(fn: number, a: number, b: number): number {
  switch (fn) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return a > b || Number.isNaN(a) ? a : b;
    default: return a < b || Number.isNaN(a) ? a : b;
  }
}

/** dst[r,c] = a[r,c] fn b[…] with b broadcast by `bcast` (0 none, 1 row, 2 col, 3 scalar). */
export function binaryValues(
  A: Float32Array, a: number, B: Float32Array, b: number, D: Float32Array, d: number,
  rows: number, cols: number, fn: number, bcast: number, round: number,
): void {
  const n = rows * cols;
  const out = tmp(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const bi = bcast === 0 ? r * cols + c : bcast === 1 ? c : bcast === 2 ? r : 0;
      out[r * cols + c] = binaryValue(fn, A[a + r * cols + c], B[b + bi]);
    }
  }
  for (let i = 0; i < n; i++) D[d + i] = roundTo(round, out[i]);
}

/** dst[r] = Σ/max over c of src[r,c] (overCols), or dst[c] over r; accumulate folds in dst. */
export function reduceValues(
  S: Float32Array, s: number, D: Float32Array, d: number,
  rows: number, cols: number, isMax: boolean, overCols: boolean, acc: boolean, round: number,
): void {
  const outN = overCols ? rows : cols;
  const inner = overCols ? cols : rows;
  const out = tmp(outN);
  for (let o = 0; o < outN; o++) {
    let v = acc ? D[d + o] : isMax ? -Infinity : 0;
    for (let i = 0; i < inner; i++) {
      const x = overCols ? S[s + o * cols + i] : S[s + i * cols + o];
      v = isMax ? (x > v || Number.isNaN(x) ? x : v) : f(v + x);
    }
    out[o] = v;
  }
  for (let o = 0; o < outN; o++) D[d + o] = roundTo(round, out[o]);
}

/** Combine of a receive or forward (0 none, 1 add, 2 max) of an incoming value into an existing one. */
export function combineValue(combine: number, old: number, x: number): number {
  return combine === 0 ? x : combine === 1 ? f(old + x) : x > old || Number.isNaN(x) ? x : old;
}
