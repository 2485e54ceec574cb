/**
 * numpy `matmul` semantics over tensors: 1-D operands are promoted (a vector on the left becomes a
 * row, on the right a column, and the added dim is dropped from the result) and leading batch dims
 * broadcast. Dispatches each batch entry to the float32 blocked kernel, an exact int32 wrap-around
 * kernel, or the float64-accumulating generic kernel, then casts to the dtype's storage rule.
 */
import { type DType, allocData, castScalar } from '../dtype.js';
import { Tensor, sizeOf } from '../tensor.js';
import { matmulF32Strided, matmulGenericStrided, matmulInt32Wrap } from './matmul-kernel.js';
import { broadcastIndex, broadcastShapes, fail } from './util.js';

/** Output shape of numpy matmul, or a W2002 diagnostic when the operands do not fit. */
export function matmulShape(aShape: readonly number[], bShape: readonly number[]): number[] {
  if (aShape.length === 0 || bShape.length === 0) fail('MatMul operands must have rank >= 1, got a scalar');
  const a = aShape.length === 1 ? [1, aShape[0]] : [...aShape];
  const b = bShape.length === 1 ? [bShape[0], 1] : [...bShape];
  const K = a[a.length - 1];
  if (b[b.length - 2] !== K) {
    fail(`MatMul inner dimensions differ: [${aShape.join(',')}] x [${bShape.join(',')}] (${K} vs ${b[b.length - 2]})`);
  }
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  const out = [...batch];
  if (aShape.length > 1) out.push(a[a.length - 2]);
  if (bShape.length > 1) out.push(b[b.length - 1]);
  return out;
}

/** True for dtypes whose storage is a Float32Array (float32 and the pre-rounded narrow floats). */
export function isF32Storage(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';
}

/**
 * a x b with numpy matmul semantics; both operands share a dtype, which is the result's dtype.
 * Narrow floats are multiplied in float32 (with the kernel's wider partial sums) and rounded once.
 */
export function matmulTensors(a: Tensor, b: Tensor): Tensor {
  const outShape = matmulShape(a.shape, b.shape);
  const dtype = a.dtype;
  const as2 = a.rank === 1 ? [1, a.shape[0]] : a.shape;
  const bs2 = b.rank === 1 ? [b.shape[0], 1] : b.shape;
  const M = as2[as2.length - 2];
  const K = as2[as2.length - 1];
  const N = bs2[bs2.length - 1];
  const aBatch = as2.slice(0, -2);
  const bBatch = bs2.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const nBatch = sizeOf(batch);
  const ia = broadcastIndex(batch, aBatch);
  const ib = broadcastIndex(batch, bBatch);
  const out = allocData(dtype, sizeOf(outShape));
  const f32 = isF32Storage(dtype);
  const wrap32 = dtype === 'int32' || dtype === 'uint32';
  // float64 partial results for dtypes that need a cast afterwards (small ints, 64-bit ints).
  const tmp = !f32 && !wrap32 && dtype !== 'float64' ? new Float64Array(M * N) : undefined;
  for (let t = 0; t < nBatch; t++) {
    const aOff = (ia ? ia[t] : t) * M * K;
    const bOff = (ib ? ib[t] : t) * K * N;
    const oOff = t * M * N;
    if (f32) {
      matmulF32Strided(a.data as Float32Array, aOff, K, b.data as Float32Array, bOff, N, 1, out as Float32Array, oOff, N, M, K, N);
    } else if (wrap32) {
      matmulInt32Wrap(a.data, aOff, b.data, bOff, out, oOff, M, K, N);
    } else if (tmp) {
      matmulGenericStrided(a.data, aOff, K, b.data, bOff, N, 1, tmp, 0, N, M, K, N);
      for (let i = 0; i < M * N; i++) out[oOff + i] = castScalar(tmp[i], dtype);
    } else {
      matmulGenericStrided(a.data, aOff, K, b.data, bOff, N, 1, out, oOff, N, M, K, N);
    }
  }
  if (dtype === 'float16' || dtype === 'bfloat16') {
    for (let i = 0; i < out.length; i++) out[i] = castScalar(out[i], dtype);
  }
  return new Tensor(dtype, outShape, out);
}
