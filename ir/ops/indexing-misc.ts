/**
 * Rearrangement and mask ops (graph level, ONNX semantics): OneHot, DepthToSpace, SpaceToDepth,
 * Trilu, CumSum, ReverseSequence. Output shapes depend only on input shapes, except OneHot (the
 * depth value).
 */
import { castScalar } from '../dtype.js';
import type { Attrs } from '../graph.js';
import { Tensor, stridesOf } from '../tensor.js';
import type { OpDef } from './registry.js';
import { defineOp, intValues, prod, requireIntegerType, scalarValue, shapeStr, transposeData } from './shape-util.js';
import { attrInt, attrString, constValue, fail, need, normAxis } from './util.js';

const OneHot = defineOp(
  (inputs, attrs) => {
    const ind = need(inputs, 0).type;
    const depth = Math.trunc(scalarValue(constValue(inputs, 1, 'the depth input'), 'depth'));
    if (!(depth >= 1)) fail(`depth must be positive, got ${depth}`);
    const values = need(inputs, 2, 'values input').type;
    if (values.shape.reduce((a, b) => a * b, 1) !== 2) fail(`values must hold [off, on], got shape ${shapeStr(values.shape)}`);
    const shape = [...ind.shape];
    shape.splice(normAxis(attrInt(attrs, 'axis', -1), shape.length + 1), 0, depth);
    return [{ dtype: values.dtype, shape }];
  },
  (inputs, attrs, _info, out) => {
    const ind = need(inputs, 0);
    const values = need(inputs, 2);
    const { dtype, shape } = out[0];
    const axis = normAxis(attrInt(attrs, 'axis', -1), shape.length);
    const depth = shape[axis];
    const outer = prod(ind.shape, 0, axis);
    const inner = prod(ind.shape, axis);
    const t = Tensor.zeros(dtype, shape);
    t.data.fill(values.data[0]);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let v = Math.trunc(ind.data[o * inner + i]);
        if (v < 0) v += depth;
        // Out-of-range indices give an all-"off" vector, as ONNX specifies.
        if (v >= 0 && v < depth) t.data[(o * depth + v) * inner + i] = values.data[1];
      }
    }
    return [t];
  },
);

function blocksize(attrs: Attrs): number {
  const b = attrInt(attrs, 'blocksize');
  if (b === undefined || b < 1) fail("attribute 'blocksize' must be a positive integer");
  return b;
}

function require4d(shape: readonly number[]): void {
  if (shape.length !== 4) fail(`input must be 4-D (N, C, H, W), got shape ${shapeStr(shape)}`);
}

const DepthToSpace = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    require4d(x.shape);
    const b = blocksize(attrs);
    const mode = attrString(attrs, 'mode', 'DCR');
    if (mode !== 'DCR' && mode !== 'CRD') fail(`mode '${mode}' is not DCR or CRD`);
    const [n, c, h, w] = x.shape;
    if (c % (b * b) !== 0) fail(`channels ${c} are not divisible by blocksize^2 = ${b * b}`);
    return [{ dtype: x.dtype, shape: [n, c / (b * b), h * b, w * b] }];
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const b = blocksize(attrs);
    const [n, c, h, w] = x.shape;
    const cb = c / (b * b);
    const crd = attrString(attrs, 'mode', 'DCR') === 'CRD';
    const view = crd ? [n, cb, b, b, h, w] : [n, b, b, cb, h, w];
    const perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
    return [transposeData(x.data, x.dtype, view, perm).reshape(out[0].shape)];
  },
);

const SpaceToDepth = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    require4d(x.shape);
    const b = blocksize(attrs);
    const [n, c, h, w] = x.shape;
    if (h % b !== 0 || w % b !== 0) fail(`height ${h} and width ${w} must be divisible by blocksize ${b}`);
    return [{ dtype: x.dtype, shape: [n, c * b * b, h / b, w / b] }];
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const b = blocksize(attrs);
    const [n, c, h, w] = x.shape;
    const view = [n, c, h / b, b, w / b, b];
    return [transposeData(x.data, x.dtype, view, [0, 3, 5, 1, 2, 4]).reshape(out[0].shape)];
  },
);

const Trilu = defineOp(
  (inputs) => {
    const x = need(inputs, 0).type;
    if (x.shape.length < 2) fail(`input must have rank >= 2, got shape ${shapeStr(x.shape)}`);
    if (inputs[1]) requireIntegerType(inputs[1].type, 'k');
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  (inputs, attrs) => {
    const x = need(inputs, 0);
    const k = inputs[1] ? scalarValue(inputs[1], 'k') : 0;
    const upper = attrInt(attrs, 'upper', 1) !== 0;
    const rows = x.shape[x.rank - 2];
    const cols = x.shape[x.rank - 1];
    const out = new Tensor(x.dtype, [...x.shape], x.data.slice());
    const mats = prod(x.shape, 0, x.rank - 2);
    for (let m = 0; m < mats; m++) {
      for (let i = 0; i < rows; i++) {
        const base = (m * rows + i) * cols;
        // upper keeps j >= i + k, lower keeps j <= i + k
        const lo = upper ? 0 : Math.max(0, Math.min(cols, i + k + 1));
        const hi = upper ? Math.max(0, Math.min(cols, i + k)) : cols;
        if (hi > lo) out.data.fill(0, base + lo, base + hi);
      }
    }
    return [out];
  },
);

const CumSum = defineOp(
  (inputs) => {
    const x = need(inputs, 0).type;
    const axis = need(inputs, 1, 'axis input').type;
    requireIntegerType(axis, 'axis');
    if (x.dtype === 'bool') fail('input must be numeric, got bool');
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  (inputs, attrs) => {
    const x = need(inputs, 0);
    const axis = normAxis(scalarValue(need(inputs, 1), 'axis'), x.rank);
    const exclusive = attrInt(attrs, 'exclusive', 0) !== 0;
    const reverse = attrInt(attrs, 'reverse', 0) !== 0;
    const outer = prod(x.shape, 0, axis);
    const n = x.shape[axis];
    const inner = prod(x.shape, axis + 1);
    const out = Tensor.zeros(x.dtype, x.shape);
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let s = 0; s < n; s++) {
        const base = (o * n + (reverse ? n - 1 - s : s)) * inner;
        for (let i = 0; i < inner; i++) {
          const v = x.data[base + i];
          // accumulate in the dtype, as runtimes do (rounding / wrapping at each step)
          if (exclusive) {
            out.data[base + i] = acc[i];
            acc[i] = castScalar(acc[i] + v, x.dtype);
          } else {
            acc[i] = castScalar(acc[i] + v, x.dtype);
            out.data[base + i] = acc[i];
          }
        }
      }
    }
    return [out];
  },
);

function seqAxes(attrs: Attrs): [number, number] {
  const b = attrInt(attrs, 'batch_axis', 1);
  const t = attrInt(attrs, 'time_axis', 0);
  if ((b !== 0 && b !== 1) || (t !== 0 && t !== 1) || b === t) fail(`batch_axis ${b} and time_axis ${t} must be 0 and 1 in some order`);
  return [b, t];
}

const ReverseSequence = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const lens = need(inputs, 1, 'sequence_lens input').type;
    if (x.shape.length < 2) fail(`input must have rank >= 2, got shape ${shapeStr(x.shape)}`);
    requireIntegerType(lens, 'sequence_lens');
    const [b] = seqAxes(attrs);
    if (lens.shape.length !== 1 || lens.shape[0] !== x.shape[b]) {
      fail(`sequence_lens ${shapeStr(lens.shape)} must have one entry per batch (${x.shape[b]})`);
    }
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  (inputs, attrs) => {
    const x = need(inputs, 0);
    const lens = intValues(need(inputs, 1), 'sequence_lens');
    const [ba, ta] = seqAxes(attrs);
    const st = stridesOf(x.shape);
    const inner = prod(x.shape, 2);
    const steps = x.shape[ta];
    const out = new Tensor(x.dtype, [...x.shape], x.data.slice());
    lens.forEach((len, b) => {
      if (len < 0 || len > steps) fail(`sequence_lens[${b}] = ${len} is outside [0, ${steps}]`);
      for (let t = 0; t < len; t++) {
        const src = b * st[ba] + (len - 1 - t) * st[ta];
        out.data.set(x.data.subarray(src, src + inner), b * st[ba] + t * st[ta]);
      }
    });
    return [out];
  },
);

export const miscOps: Record<string, OpDef> = { OneHot, DepthToSpace, SpaceToDepth, Trilu, CumSum, ReverseSequence };
