/**
 * Matrix-multiply kernels over flat typed arrays, shared by MatMul, Gemm, Einsum, Attention (and
 * available to Conv). Pure numeric code: no tensors, no dtypes, no diagnostics.
 *
 * The float32 kernel is the hot loop of the whole reference evaluator (transformer models run
 * 1024x1024 products through it), so it is cache-blocked: for each block of KC rows of B and NC
 * columns, B is packed into strips of 4 contiguous columns, and a 4x4 register tile of the output
 * accumulates over the block in 16 local doubles (V8 keeps them in registers). Partial sums are then
 * added into the float32 output, so accumulation is in float64 within a K block and float32 across
 * blocks. GEMV-like shapes (M < 4) skip packing and stream B row by row instead.
 *
 * Operand layout is given by strides so callers can multiply views without copying: A(i,k) is at
 * aOff + i*aRs + k (unit column stride), B(k,j) at bOff + k*bRs + j*bCs (so a transposed B is just
 * bRs=1), and C(i,j) at outOff + i*outRs + j.
 */
import type { TensorData } from '../dtype.js';

/** Rows of B per packed block: 256 rows x 4 columns x 4 bytes = one 4 KB strip in L1. */
const KC = 256;
/** Columns of B per packed block: 256 x 1024 x 4 bytes = 1 MB, the L2 of one core. */
const NC = 1024;

// Scratch buffers reused across calls (batched products of small matrices would otherwise spend
// their time allocating). The kernels never re-enter, so one set per module instance is enough.
let packScratch = new Float32Array(KC * 64);
let rowScratch = new Float64Array(256);
const edge = new Float64Array(16);

function packBuffer(n: number): Float32Array {
  if (packScratch.length < n) packScratch = new Float32Array(n);
  return packScratch;
}

function rowBuffer(n: number): Float64Array {
  if (rowScratch.length < n) rowScratch = new Float64Array(n);
  return rowScratch;
}

/** out[M,N] = a[M,K] · b[K,N], all row-major and contiguous from the given offsets. */
export function matmulF32(
  a: Float32Array, aOff: number,
  b: Float32Array, bOff: number,
  out: Float32Array, outOff: number,
  M: number, K: number, N: number,
): void {
  matmulF32Strided(a, aOff, K, b, bOff, N, 1, out, outOff, N, M, K, N);
}

/**
 * out = a · b with explicit strides (see the file comment). Overwrites the M x N output block; the
 * output must not alias an operand.
 */
export function matmulF32Strided(
  a: Float32Array, aOff: number, aRs: number,
  b: Float32Array, bOff: number, bRs: number, bCs: number,
  out: Float32Array, outOff: number, outRs: number,
  M: number, K: number, N: number,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    for (let i = 0; i < M; i++) out.fill(0, outOff + i * outRs, outOff + i * outRs + N);
    return;
  }
  if (M < 4) {
    if (bCs === 1) rowTimesMatrix(a, aOff, aRs, b, bOff, bRs, out, outOff, outRs, M, K, N);
    else rowDotColumns(a, aOff, aRs, b, bOff, bRs, bCs, out, outOff, outRs, M, K, N);
    return;
  }
  const ncMax = Math.min(NC, roundUp4(N));
  const packed = packBuffer(Math.min(KC, K) * ncMax);
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = Math.min(NC, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      packB(b, bOff + k0 * bRs + j0 * bCs, bRs, bCs, packed, kc, nc);
      blockKernel(a, aOff + k0, aRs, packed, out, outOff + j0, outRs, M, kc, nc, k0 === 0);
    }
  }
}

function roundUp4(n: number): number {
  return (n + 3) & ~3;
}

/** Copies a kc x nc block of B into strips of 4 columns, [strip][k][4], zero-padding the last strip. */
function packB(b: Float32Array, off: number, bRs: number, bCs: number, packed: Float32Array, kc: number, nc: number): void {
  const np = roundUp4(nc);
  for (let s = 0; s < np; s += 4) {
    const base = s * kc;
    const cols = Math.min(4, nc - s);
    const colOff = off + s * bCs;
    for (let k = 0; k < kc; k++) {
      const src = colOff + k * bRs;
      const dst = base + k * 4;
      if (cols === 4) {
        packed[dst] = b[src];
        packed[dst + 1] = b[src + bCs];
        packed[dst + 2] = b[src + 2 * bCs];
        packed[dst + 3] = b[src + 3 * bCs];
      } else {
        for (let c = 0; c < 4; c++) packed[dst + c] = c < cols ? b[src + c * bCs] : 0;
      }
    }
  }
}

/** C[M, nc] (=|+=) A[M, kc] · packedB, in 4x4 register tiles. */
function blockKernel(
  a: Float32Array, aOff: number, aRs: number, packed: Float32Array,
  out: Float32Array, outOff: number, outRs: number,
  M: number, kc: number, nc: number, first: boolean,
): void {
  const np = roundUp4(nc);
  for (let i0 = 0; i0 < M; i0 += 4) {
    const mr = Math.min(4, M - i0);
    // Rows past the end re-read the last valid row; their results are discarded.
    const a0 = aOff + i0 * aRs;
    const a1 = aOff + (i0 + Math.min(1, mr - 1)) * aRs;
    const a2 = aOff + (i0 + Math.min(2, mr - 1)) * aRs;
    const a3 = aOff + (i0 + Math.min(3, mr - 1)) * aRs;
    for (let s = 0; s < np; s += 4) {
      const base = s * kc;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0; k < kc; k++) {
        const bo = base + k * 4;
        const x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
        let v = packed[bo];
        c00 += x0 * v; c10 += x1 * v; c20 += x2 * v; c30 += x3 * v;
        v = packed[bo + 1];
        c01 += x0 * v; c11 += x1 * v; c21 += x2 * v; c31 += x3 * v;
        v = packed[bo + 2];
        c02 += x0 * v; c12 += x1 * v; c22 += x2 * v; c32 += x3 * v;
        v = packed[bo + 3];
        c03 += x0 * v; c13 += x1 * v; c23 += x2 * v; c33 += x3 * v;
      }
      const o0 = outOff + i0 * outRs + s;
      if (mr === 4 && s + 4 <= nc) {
        const o1 = o0 + outRs, o2 = o1 + outRs, o3 = o2 + outRs;
        if (first) {
          out[o0] = c00; out[o0 + 1] = c01; out[o0 + 2] = c02; out[o0 + 3] = c03;
          out[o1] = c10; out[o1 + 1] = c11; out[o1 + 2] = c12; out[o1 + 3] = c13;
          out[o2] = c20; out[o2 + 1] = c21; out[o2 + 2] = c22; out[o2 + 3] = c23;
          out[o3] = c30; out[o3 + 1] = c31; out[o3 + 2] = c32; out[o3 + 3] = c33;
        } else {
          out[o0] += c00; out[o0 + 1] += c01; out[o0 + 2] += c02; out[o0 + 3] += c03;
          out[o1] += c10; out[o1 + 1] += c11; out[o1 + 2] += c12; out[o1 + 3] += c13;
          out[o2] += c20; out[o2 + 1] += c21; out[o2 + 2] += c22; out[o2 + 3] += c23;
          out[o3] += c30; out[o3 + 1] += c31; out[o3 + 2] += c32; out[o3 + 3] += c33;
        }
      } else {
        edge[0] = c00; edge[1] = c01; edge[2] = c02; edge[3] = c03;
        edge[4] = c10; edge[5] = c11; edge[6] = c12; edge[7] = c13;
        edge[8] = c20; edge[9] = c21; edge[10] = c22; edge[11] = c23;
        edge[12] = c30; edge[13] = c31; edge[14] = c32; edge[15] = c33;
        const cols = Math.min(4, nc - s);
        for (let r = 0; r < mr; r++) {
          for (let c = 0; c < cols; c++) {
            const o = o0 + r * outRs + c;
            out[o] = first ? edge[r * 4 + c] : out[o] + edge[r * 4 + c];
          }
        }
      }
    }
  }
}

/** Few rows, B row-major: stream rows of B, four at a time, into a float64 accumulator row. */
function rowTimesMatrix(
  a: Float32Array, aOff: number, aRs: number, b: Float32Array, bOff: number, bRs: number,
  out: Float32Array, outOff: number, outRs: number, M: number, K: number, N: number,
): void {
  const acc = rowBuffer(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0, 0, N);
    const ao = aOff + i * aRs;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const x0 = a[ao + k], x1 = a[ao + k + 1], x2 = a[ao + k + 2], x3 = a[ao + k + 3];
      const b0 = bOff + k * bRs, b1 = b0 + bRs, b2 = b1 + bRs, b3 = b2 + bRs;
      for (let j = 0; j < N; j++) acc[j] += x0 * b[b0 + j] + x1 * b[b1 + j] + x2 * b[b2 + j] + x3 * b[b3 + j];
    }
    for (; k < K; k++) {
      const x = a[ao + k];
      const bo = bOff + k * bRs;
      for (let j = 0; j < N; j++) acc[j] += x * b[bo + j];
    }
    const oo = outOff + i * outRs;
    for (let j = 0; j < N; j++) out[oo + j] = acc[j];
  }
}

/** Few rows, B with strided columns (typically a transposed matrix): one dot product per output. */
function rowDotColumns(
  a: Float32Array, aOff: number, aRs: number, b: Float32Array, bOff: number, bRs: number, bCs: number,
  out: Float32Array, outOff: number, outRs: number, M: number, K: number, N: number,
): void {
  for (let i = 0; i < M; i++) {
    const ao = aOff + i * aRs;
    const oo = outOff + i * outRs;
    for (let j = 0; j < N; j++) {
      let s = 0;
      let bo = bOff + j * bCs;
      for (let k = 0; k < K; k++, bo += bRs) s += a[ao + k] * b[bo];
      out[oo + j] = s;
    }
  }
}

/**
 * out = a · b for any typed arrays (float64, integers), with the same stride convention, accumulating
 * in float64. The caller casts the results to the output dtype (integer wrap, narrow-float rounding).
 */
export function matmulGenericStrided(
  a: TensorData, aOff: number, aRs: number,
  b: TensorData, bOff: number, bRs: number, bCs: number,
  out: TensorData, outOff: number, outRs: number,
  M: number, K: number, N: number,
): void {
  const acc = rowBuffer(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0, 0, N);
    const ao = aOff + i * aRs;
    for (let k = 0; k < K; k++) {
      const x = a[ao + k];
      const bo = bOff + k * bRs;
      if (bCs === 1) for (let j = 0; j < N; j++) acc[j] += x * b[bo + j];
      else for (let j = 0; j < N; j++) acc[j] += x * b[bo + j * bCs];
    }
    const oo = outOff + i * outRs;
    for (let j = 0; j < N; j++) out[oo + j] = acc[j];
  }
}

/**
 * Integer product with exact 32-bit wrap-around (int32/uint32 MatMul): float64 sums of int32
 * products lose low bits past 2^53, Math.imul keeps them.
 */
export function matmulInt32Wrap(
  a: TensorData, aOff: number, b: TensorData, bOff: number, out: TensorData, outOff: number,
  M: number, K: number, N: number,
): void {
  const acc = new Int32Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    const ao = aOff + i * K;
    for (let k = 0; k < K; k++) {
      const x = a[ao + k] | 0;
      if (x === 0) continue;
      const bo = bOff + k * N;
      for (let j = 0; j < N; j++) acc[j] = (acc[j] + Math.imul(x, b[bo + j] | 0)) | 0;
    }
    const oo = outOff + i * N;
    for (let j = 0; j < N; j++) out[oo + j] = acc[j];
  }
}
