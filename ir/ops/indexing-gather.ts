/**
 * Ops driven by index tensors (graph level, ONNX semantics): Gather, GatherElements, GatherND,
 * ScatterElements (and its deprecated name Scatter), ScatterND.
 *
 * Indices may be negative (counted from the end of their axis); an index outside [-n, n) is an
 * OpError W2002 naming the index, never an out-of-bounds read. Scatter reductions are applied in
 * index order, so duplicate indices with reduction 'none' keep the last update, as ONNX's reference
 * does.
 */
import { type DType, type TensorData, castScalar } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor, stridesOf } from '../tensor.js';
import type { OpDef } from './registry.js';
import { defineOp, prod, requireIntegerType, shapeStr } from './shape-util.js';
import { attrInt, attrString, fail, need, normAxis, stridedOffsets } from './util.js';

/** A possibly negative index into an axis of size n, checked. */
function normIndex(v: number, n: number, axis: number): number {
  const i = v < 0 ? v + n : v;
  if (!(i >= 0 && i < n)) fail(`index ${v} is out of range for axis ${axis} of size ${n}`);
  return i;
}

const Gather = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const ind = need(inputs, 1).type;
    requireIntegerType(ind, 'indices');
    const axis = normAxis(attrInt(attrs, 'axis', 0), x.shape.length);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)] }];
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const ind = need(inputs, 1);
    const axis = normAxis(attrInt(attrs, 'axis', 0), x.rank);
    const outer = prod(x.shape, 0, axis);
    const n = x.shape[axis];
    const inner = prod(x.shape, axis + 1);
    const m = ind.size;
    const idx = new Int32Array(m);
    for (let j = 0; j < m; j++) idx[j] = normIndex(ind.data[j], n, axis);
    const t = Tensor.zeros(out[0].dtype, out[0].shape);
    const src = x.data;
    const dst = t.data;
    for (let o = 0; o < outer; o++) {
      if (inner === 1) {
        for (let j = 0; j < m; j++) dst[o * m + j] = src[o * n + idx[j]];
      } else {
        for (let j = 0; j < m; j++) {
          const s = (o * n + idx[j]) * inner;
          dst.set(src.subarray(s, s + inner), (o * m + j) * inner);
        }
      }
    }
    return [t];
  },
);

/** Checks GatherElements/ScatterElements operands: same rank, indices within the data's dims. */
function elementsAxis(x: StaticType, ind: StaticType, attrs: Attrs): number {
  requireIntegerType(ind, 'indices');
  if (ind.shape.length !== x.shape.length) fail(`indices ${shapeStr(ind.shape)} must have the rank of data ${shapeStr(x.shape)}`);
  const axis = normAxis(attrInt(attrs, 'axis', 0), x.shape.length);
  ind.shape.forEach((d, i) => {
    if (i !== axis && d > x.shape[i]) fail(`indices ${shapeStr(ind.shape)} exceed data ${shapeStr(x.shape)} on axis ${i}`);
  });
  return axis;
}

/** For each index position: the data offset of all its coordinates but `axis`, and the axis stride. */
function elementsOffsets(dataShape: readonly number[], indShape: readonly number[], axis: number): [Int32Array, number] {
  const st = stridesOf(dataShape);
  const it = [...st];
  it[axis] = 0;
  return [stridedOffsets(indShape, it), st[axis]];
}

const GatherElements = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const ind = need(inputs, 1).type;
    elementsAxis(x, ind, attrs);
    return [{ dtype: x.dtype, shape: [...ind.shape] }];
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const ind = need(inputs, 1);
    const axis = normAxis(attrInt(attrs, 'axis', 0), x.rank);
    const [offs, sa] = elementsOffsets(x.shape, ind.shape, axis);
    const t = Tensor.zeros(out[0].dtype, out[0].shape);
    const n = x.shape[axis];
    for (let p = 0; p < ind.size; p++) t.data[p] = x.data[offs[p] + normIndex(ind.data[p], n, axis) * sa];
    return [t];
  },
);

const GatherND = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const ind = need(inputs, 1).type;
    requireIntegerType(ind, 'indices');
    const b = attrInt(attrs, 'batch_dims', 0);
    const r = x.shape.length;
    const q = ind.shape.length;
    if (q < 1) fail('indices must have rank >= 1');
    if (b < 0 || b >= Math.min(q, r)) fail(`batch_dims ${b} must be in [0, ${Math.min(q, r)})`);
    const k = ind.shape[q - 1];
    if (k > r - b) fail(`index tuples of length ${k} are too long for data ${shapeStr(x.shape)} with batch_dims ${b}`);
    for (let i = 0; i < b; i++) {
      if (x.shape[i] !== ind.shape[i]) fail(`batch dims of data ${shapeStr(x.shape)} and indices ${shapeStr(ind.shape)} differ`);
    }
    return [{ dtype: x.dtype, shape: [...ind.shape.slice(0, q - 1), ...x.shape.slice(b + k)] }];
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const ind = need(inputs, 1);
    const b = attrInt(attrs, 'batch_dims', 0);
    const q = ind.rank;
    const k = ind.shape[q - 1];
    const batches = prod(x.shape, 0, b);
    const per = prod(x.shape, b);
    const slice = prod(x.shape, b + k);
    const tuples = prod(ind.shape, b, q - 1);
    const st = stridesOf(x.shape.slice(b));
    const t = Tensor.zeros(out[0].dtype, out[0].shape);
    for (let bi = 0; bi < batches; bi++) {
      for (let j = 0; j < tuples; j++) {
        const row = bi * tuples + j;
        let off = bi * per;
        for (let c = 0; c < k; c++) off += normIndex(ind.data[row * k + c], x.shape[b + c], b + c) * st[c];
        t.data.set(x.data.subarray(off, off + slice), row * slice);
      }
    }
    return [t];
  },
);

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

function reductionOf(attrs: Attrs): Reduction {
  const r = attrString(attrs, 'reduction', 'none');
  if (r !== 'none' && r !== 'add' && r !== 'mul' && r !== 'max' && r !== 'min') {
    fail(`reduction '${r}' is not one of none, add, mul, max, min`);
  }
  return r;
}

/** dst[i] = reduce(dst[i], v), cast to the dtype (wrap for ints, rounding for narrow floats). */
function applyReduction(dst: TensorData, i: number, v: number, r: Reduction, dtype: DType): void {
  const a = dst[i];
  const y = r === 'none' ? v : r === 'add' ? a + v : r === 'mul' ? a * v : r === 'max' ? Math.max(a, v) : Math.min(a, v);
  dst[i] = castScalar(y, dtype);
}

function checkUpdates(x: StaticType, upd: StaticType, expected: readonly number[]): void {
  if (upd.dtype !== x.dtype) fail(`updates must have the data's dtype ${x.dtype}, got ${upd.dtype}`);
  if (upd.shape.length !== expected.length || upd.shape.some((d, i) => d !== expected[i])) {
    fail(`updates have shape ${shapeStr(upd.shape)}, expected ${shapeStr(expected)}`);
  }
}

const ScatterElements = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const ind = need(inputs, 1).type;
    elementsAxis(x, ind, attrs);
    checkUpdates(x, need(inputs, 2).type, ind.shape);
    reductionOf(attrs);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  (inputs, attrs) => {
    const x = need(inputs, 0);
    const ind = need(inputs, 1);
    const upd = need(inputs, 2);
    const r = reductionOf(attrs);
    const axis = normAxis(attrInt(attrs, 'axis', 0), x.rank);
    const [offs, sa] = elementsOffsets(x.shape, ind.shape, axis);
    const out = new Tensor(x.dtype, [...x.shape], x.data.slice());
    const n = x.shape[axis];
    for (let p = 0; p < ind.size; p++) {
      applyReduction(out.data, offs[p] + normIndex(ind.data[p], n, axis) * sa, upd.data[p], r, x.dtype);
    }
    return [out];
  },
);

const ScatterND = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const ind = need(inputs, 1).type;
    requireIntegerType(ind, 'indices');
    const q = ind.shape.length;
    if (q < 1) fail('indices must have rank >= 1');
    const k = ind.shape[q - 1];
    if (k > x.shape.length) fail(`index tuples of length ${k} are too long for data ${shapeStr(x.shape)}`);
    checkUpdates(x, need(inputs, 2).type, [...ind.shape.slice(0, q - 1), ...x.shape.slice(k)]);
    reductionOf(attrs);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  (inputs, attrs) => {
    const x = need(inputs, 0);
    const ind = need(inputs, 1);
    const upd = need(inputs, 2);
    const r = reductionOf(attrs);
    const k = ind.shape[ind.rank - 1];
    const tuples = prod(ind.shape, 0, ind.rank - 1);
    const slice = prod(x.shape, k);
    const st = stridesOf(x.shape);
    const out = new Tensor(x.dtype, [...x.shape], x.data.slice());
    for (let j = 0; j < tuples; j++) {
      let off = 0;
      for (let c = 0; c < k; c++) off += normIndex(ind.data[j * k + c], x.shape[c], c) * st[c];
      for (let e = 0; e < slice; e++) applyReduction(out.data, off + e, upd.data[j * slice + e], r, x.dtype);
    }
    return [out];
  },
);

export const gatherOps: Record<string, OpDef> = {
  Gather,
  GatherElements,
  GatherND,
  ScatterElements,
  // Scatter (opsets 9-10) is ScatterElements without the reduction attribute.
  Scatter: ScatterElements,
  ScatterND,
};
