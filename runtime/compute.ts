/**
 * Compute instructions: their values over a region's SRAM array in functional mode. Their cycle
 * costs (docs/runtime-model.md, "Cost of an instruction on a core") are ir/program-cost.ts, which
 * the compiler's predictions use too; they are re-exported here for the executor.
 *
 * Values live in Float32Array SRAM images (executor-sram.ts); every store rounds to the destination
 * buffer's type: f32 by the Float32Array itself, f16 with roundFloat16, i32 toward zero (i32 values
 * are exact up to 2^24, the float32 mantissa). Arithmetic accumulates in float32 (one rounding per
 * multiply-add, as an FMA does), whatever the storage type.
 */
import { roundFloat16 } from '../ir/dtype.js';
import { erf } from '../ir/ops/elementwise-math.js';

export const ROUND_F32 = 0;
export const ROUND_F16 = 1;
export const ROUND_I32 = 2;

export function roundTo(mode: number, v: number): number {
  return mode === ROUND_F32 ? v : mode === ROUND_F16 ? roundFloat16(v) : Math.trunc(v);
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

/** c[m×n] (+)= a[m×k]·b[k×n] (b[n×k] read transposed when transB); operands may alias. */
export function matmulValues(
  A: Float32Array, a: number, B: Float32Array, b: number, C: Float32Array, c: number,
  m: number, k: number, n: number, acc: boolean, transB: boolean, round: number,
): void {
  const out = tmp(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = acc ? C[c + i * n + j] : 0;
      if (transB) for (let q = 0; q < k; q++) s = f(s + A[a + i * k + q] * B[b + j * k + q]);
      else for (let q = 0; q < k; q++) s = f(s + A[a + i * k + q] * B[b + q * n + j]);
      out[i * n + j] = s;
    }
  }
  for (let i = 0; i < m * n; i++) C[c + i] = roundTo(round, out[i]);
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
