/**
 * Matrix products: MatMul (numpy semantics), Gemm, the quantized MatMulInteger and QLinearMatMul,
 * and Einsum (in matmul-einsum.ts). The float kernels live in matmul-kernel.ts and are exported from
 * here for other op families (Conv, Attention) to reuse.
 */
import { type DType, type TensorData, allocData, castScalar } from '../dtype.js';
import type { Attrs } from '../graph.js';
import { Tensor } from '../tensor.js';
import { einsumOps } from './matmul-einsum.js';
import { matmulF32Strided, matmulGenericStrided } from './matmul-kernel.js';
import { isF32Storage, matmulShape, matmulTensors } from './matmul-numpy.js';
import type { OpDef } from './registry.js';
import { attrFloat, attrInt, broadcastIndex, broadcastShapes, fail, need } from './util.js';

export { matmulF32, matmulF32Strided, matmulGenericStrided } from './matmul-kernel.js';
export { matmulShape, matmulTensors } from './matmul-numpy.js';

const NUMERIC: ReadonlySet<DType> = new Set<DType>([
  'float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint64', 'uint32', 'uint16', 'uint8',
]);

/** What the checks need of a static type or a tensor. */
interface Typed {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

function numericPair(a: Typed, b: Typed, op: string): DType {
  if (a.dtype !== b.dtype) fail(`${op} operands must have the same dtype, got ${a.dtype} and ${b.dtype}`);
  if (!NUMERIC.has(a.dtype)) fail(`${op} does not accept ${a.dtype} tensors`);
  return a.dtype;
}

const matmul: OpDef = {
  infer(inputs) {
    const a = need(inputs, 0, 'input A').type;
    const b = need(inputs, 1, 'input B').type;
    return [{ dtype: numericPair(a, b, 'MatMul'), shape: matmulShape(a.shape, b.shape) }];
  },
  evaluate(inputs) {
    const a = need(inputs, 0, 'input A');
    const b = need(inputs, 1, 'input B');
    numericPair(a, b, 'MatMul');
    return [matmulTensors(a, b)];
  },
};

// ---- Gemm -------------------------------------------------------------------------------------------

interface GemmDims {
  M: number;
  K: number;
  N: number;
}

function gemmDims(a: Typed, b: Typed, c: Typed | undefined, attrs: Attrs): GemmDims {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    fail(`Gemm operands must be 2-D, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  }
  const transA = attrInt(attrs, 'transA', 0) !== 0;
  const transB = attrInt(attrs, 'transB', 0) !== 0;
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (K !== Kb) fail(`Gemm inner dimensions differ: op(A) is ${M}x${K}, op(B) is ${Kb}x${N}`, 'check transA/transB');
  if (c) {
    // C broadcasts unidirectionally to [M, N].
    const cs = c.shape;
    const ok = cs.length <= 2 && cs.every((d, i) => d === 1 || d === [M, N][2 - cs.length + i]);
    if (!ok) fail(`Gemm bias C of shape [${cs.join(',')}] does not broadcast to [${M},${N}]`);
  }
  return { M, K, N };
}

const gemm: OpDef = {
  infer(inputs, attrs) {
    const a = need(inputs, 0, 'input A').type;
    const b = need(inputs, 1, 'input B').type;
    const c = inputs[2]?.type;
    const dtype = numericPair(a, b, 'Gemm');
    if (c && c.dtype !== dtype) fail(`Gemm bias C must be ${dtype}, got ${c.dtype}`);
    const { M, N } = gemmDims(a, b, c, attrs);
    return [{ dtype, shape: [M, N] }];
  },
  evaluate(inputs, attrs) {
    const a = need(inputs, 0, 'input A');
    const b = need(inputs, 1, 'input B');
    const c = inputs[2];
    const dtype = numericPair(a, b, 'Gemm');
    const { M, K, N } = gemmDims(a, b, c, attrs);
    const alpha = attrFloat(attrs, 'alpha', 1);
    const beta = attrFloat(attrs, 'beta', 1);
    const transA = attrInt(attrs, 'transA', 0) !== 0;
    const transB = attrInt(attrs, 'transB', 0) !== 0;
    // The kernels need A with unit column stride: materialize op(A) when transposed (O(MK) vs O(MKN)).
    const aData = transA ? transpose2d(a) : a.data;
    const bRs = transB ? 1 : N;
    const bCs = transB ? K : 1;
    const f32 = isF32Storage(dtype);
    const acc = f32 ? new Float32Array(M * N) : new Float64Array(M * N);
    if (f32) matmulF32Strided(aData as Float32Array, 0, K, b.data as Float32Array, 0, bRs, bCs, acc as Float32Array, 0, N, M, K, N);
    else matmulGenericStrided(aData, 0, K, b.data, 0, bRs, bCs, acc, 0, N, M, K, N);
    const out = allocData(dtype, M * N);
    const cIdx = c ? broadcastIndex([M, N], c.shape) : null;
    const cData = c?.data;
    const exact = dtype === 'float32' || dtype === 'float64';
    for (let i = 0; i < M * N; i++) {
      let v = alpha === 1 ? acc[i] : alpha * acc[i];
      if (cData) v += beta * cData[cIdx ? cIdx[i] : i];
      out[i] = exact ? v : castScalar(v, dtype);
    }
    return [new Tensor(dtype, [M, N], out)];
  },
};

function transpose2d(t: Tensor): TensorData {
  const [rows, cols] = t.shape;
  const src = t.data;
  const out = allocData(t.dtype, rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

// ---- quantized products -----------------------------------------------------------------------------

const QTYPES: ReadonlySet<DType> = new Set<DType>(['int8', 'uint8']);

/**
 * Subtracts a zero point (scalar, per-row 1-D vector for A, per-column 1-D vector for B, or an N-D
 * tensor that broadcasts) and returns the centred values as float64 (exact for 8-bit data).
 */
function centred(x: Tensor, zp: Tensor | undefined, perRow: boolean, what: string): Tensor {
  const out = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) out[i] = x.data[i];
  if (zp && zp.size > 0) {
    let zShape = zp.shape;
    // a 1-D zero point of A has one entry per row: align it as [M, 1]
    if (perRow && zp.rank === 1 && zp.size > 1) zShape = [zp.size, 1];
    const full = broadcastShapes(x.shape, zShape);
    if (full.length !== x.rank || full.some((d, i) => d !== x.shape[i])) {
      fail(`${what} zero point of shape [${zp.shape.join(',')}] does not match the input [${x.shape.join(',')}]`);
    }
    const idx = broadcastIndex(x.shape, zShape);
    for (let i = 0; i < x.size; i++) out[i] -= zp.data[idx ? idx[i] : i];
  }
  return new Tensor('float64', [...x.shape], out);
}

function quantInfer(a: Typed, b: Typed, op: string): number[] {
  if (!QTYPES.has(a.dtype) || !QTYPES.has(b.dtype)) fail(`${op} expects int8/uint8 inputs, got ${a.dtype} and ${b.dtype}`);
  return matmulShape(a.shape, b.shape);
}

const matmulInteger: OpDef = {
  infer(inputs) {
    const shape = quantInfer(need(inputs, 0, 'input A').type, need(inputs, 1, 'input B').type, 'MatMulInteger');
    return [{ dtype: 'int32', shape }];
  },
  evaluate(inputs) {
    const a = need(inputs, 0, 'input A');
    const b = need(inputs, 1, 'input B');
    quantInfer(a, b, 'MatMulInteger');
    const r = matmulTensors(centred(a, inputs[2], true, 'A'), centred(b, inputs[3], false, 'B'));
    const out = new Int32Array(r.size);
    for (let i = 0; i < r.size; i++) out[i] = r.data[i];
    return [new Tensor('int32', r.shape, out)];
  },
};

/** Per-tensor or per-row (A) / per-column (B) scale as a tensor broadcastable to the product. */
function scaleOf(t: Tensor, perRow: boolean): Tensor {
  return perRow && t.rank === 1 && t.size > 1 ? t.reshape([t.size, 1]) : t;
}

const qlinearMatmul: OpDef = {
  infer(inputs) {
    const a = need(inputs, 0, 'input a').type;
    const b = need(inputs, 3, 'input b').type;
    const shape = quantInfer(a, b, 'QLinearMatMul');
    const yzp = inputs[7]?.type;
    return [{ dtype: yzp ? yzp.dtype : a.dtype, shape }];
  },
  evaluate(inputs) {
    const a = need(inputs, 0, 'input a');
    const b = need(inputs, 3, 'input b');
    quantInfer(a, b, 'QLinearMatMul');
    const aScale = scaleOf(need(inputs, 1, 'a_scale'), true);
    const bScale = scaleOf(need(inputs, 4, 'b_scale'), false);
    const yScale = need(inputs, 6, 'y_scale');
    const yZp = inputs[7];
    const outType: DType = yZp ? yZp.dtype : a.dtype;
    if (!QTYPES.has(outType)) fail(`QLinearMatMul output type ${outType} is not int8/uint8`);
    const acc = matmulTensors(centred(a, inputs[2], true, 'a'), centred(b, inputs[5], false, 'b'));
    const shape = acc.shape;
    const n = acc.size;
    const parts = [aScale, bScale, yScale, ...(yZp ? [yZp] : [])];
    for (const p of parts) broadcastShapes(shape, p.shape);
    const idx = parts.map((p) => (p.size === 1 ? null : broadcastIndex(shape, p.shape)));
    const lo = outType === 'int8' ? -128 : 0;
    const hi = outType === 'int8' ? 127 : 255;
    const out = allocData(outType, n);
    const at = (k: number, i: number): number => {
      const ix = idx[k];
      return parts[k].data[ix ? ix[i] : 0];
    };
    for (let i = 0; i < n; i++) {
      // the reference multiplies in float32: acc * (a_scale * b_scale / y_scale)
      const mult = Math.fround(Math.fround(at(0, i) * at(1, i)) / at(2, i));
      const v = roundHalfEven(Math.fround(acc.data[i] * mult)) + (yZp ? at(3, i) : 0);
      out[i] = Math.min(hi, Math.max(lo, v));
    }
    return [new Tensor(outType, shape, out)];
  },
};

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const matmulOps: Record<string, OpDef> = {
  MatMul: matmul,
  Gemm: gemm,
  MatMulInteger: matmulInteger,
  QLinearMatMul: qlinearMatmul,
  ...einsumOps,
};
