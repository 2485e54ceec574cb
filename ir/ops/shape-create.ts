/**
 * Ops that build a tensor from scalars and a shape (graph level, ONNX semantics): ConstantOfShape,
 * Range, EyeLike. Their output sizes come from input values, so defineOp validates them against
 * MAX_ELEMENTS before allocating.
 */
import { allocData, castScalar, dtypeFromOnnx } from '../dtype.js';
import { Tensor } from '../tensor.js';
import type { OpDef } from './registry.js';
import { checkDims, defineOp, intValues, scalarValue, shapeStr } from './shape-util.js';
import { attrInt, attrTensor, constValue, fail, need } from './util.js';

const ConstantOfShape = defineOp(
  (inputs, attrs) => {
    const s = constValue(inputs, 0, 'the shape input');
    if (s.rank !== 1) fail(`the shape input must be 1-D, got shape ${shapeStr(s.shape)}`);
    const shape = intValues(s, 'shape');
    checkDims(shape, 'shape');
    const v = attrTensor(attrs, 'value');
    if (v && v.size !== 1) fail(`attribute 'value' must hold one element, got shape ${shapeStr(v.shape)}`);
    return [{ dtype: v ? v.dtype : 'float32', shape }];
  },
  (_inputs, attrs, _info, out) => {
    const v = attrTensor(attrs, 'value');
    const t = Tensor.zeros(out[0].dtype, out[0].shape);
    if (v) t.data.fill(v.data[0]);
    return [t];
  },
);

function rangeLength(start: number, limit: number, delta: number): number {
  if (delta === 0) fail('delta must not be 0');
  return Math.max(Math.ceil((limit - start) / delta), 0);
}

/** Range: start, start+delta, ... while below limit; accumulated in the dtype like ONNX's definition. */
const Range = defineOp(
  (inputs) => {
    const types = [0, 1, 2].map((i) => need(inputs, i).type);
    const dtype = types[0].dtype;
    if (types.some((t) => t.dtype !== dtype)) fail(`start, limit and delta must have one dtype, got ${types.map((t) => t.dtype).join(', ')}`);
    const [start, limit, delta] = [0, 1, 2].map((i) => scalarValue(constValue(inputs, i, ['start', 'limit', 'delta'][i]), ['start', 'limit', 'delta'][i]));
    return [{ dtype, shape: [rangeLength(start, limit, delta)] }];
  },
  (inputs, _a, _i, out) => {
    const { dtype, shape } = out[0];
    const delta = need(inputs, 2).data[0];
    const data = allocData(dtype, shape[0]);
    let v = need(inputs, 0).data[0];
    for (let i = 0; i < shape[0]; i++) {
      data[i] = v;
      v = castScalar(v + delta, dtype);
    }
    return [new Tensor(dtype, shape, data)];
  },
);

const EyeLike = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    if (x.shape.length !== 2) fail(`input must be 2-D, got shape ${shapeStr(x.shape)}`);
    const code = attrInt(attrs, 'dtype');
    let dtype = x.dtype;
    if (code !== undefined) {
      const d = dtypeFromOnnx(code);
      if (!d) fail(`attribute 'dtype' ${code} is not a supported element type`);
      dtype = d;
    }
    return [{ dtype, shape: [...x.shape] }];
  },
  (_inputs, attrs, _info, out) => {
    const t = Tensor.zeros(out[0].dtype, out[0].shape);
    const [rows, cols] = out[0].shape;
    const k = attrInt(attrs, 'k', 0);
    for (let i = Math.max(0, -k); i < rows && i + k < cols; i++) t.data[i * cols + i + k] = 1;
    return [t];
  },
);

export const createOps: Record<string, OpDef> = { ConstantOfShape, Range, EyeLike };
