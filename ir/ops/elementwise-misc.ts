/**
 * Elementwise ops that do not fit the unary/binary templates: Cast and CastLike (the target dtype
 * comes from an attribute or another input), Clip (optional scalar bounds as inputs 1 and 2, the IR's
 * canonical form for every opset) and Where (three-way broadcast).
 */
import { type DType, ONNX_DTYPE_NAMES, dtypeFromOnnx } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { OpDef } from './registry.js';
import { type Typed, checkClass, checkSame, ternaryMap, unaryMap } from './elementwise-kernel.js';
import { attrInt, broadcastShapes, castTensor, fail, need } from './util.js';

/** The dtype named by Cast's `to` attribute (an ONNX TensorProto.DataType code). */
function castTarget(code: number | undefined): DType {
  if (code === undefined) return fail("Cast needs the attribute 'to'");
  const t = dtypeFromOnnx(code);
  if (!t) {
    const name = ONNX_DTYPE_NAMES[code] ?? `code ${code}`;
    return fail(`cannot cast to ${name}: the dtype is not supported`, 'supported dtypes: float32/16/64, bfloat16, (u)int8..64, bool');
  }
  return t;
}

/** A copy in the target dtype (Cast must not alias its input even when the dtype is unchanged). */
function castCopy(x: Tensor, to: DType): Tensor {
  return x.dtype === to ? unaryMap(x, to, (v) => v) : castTensor(x, to);
}

const cast: OpDef = {
  // `saturate` only matters for float8 targets, which are unsupported, so it is ignored.
  infer(inputs, attrs) {
    const x = need(inputs, 0).type;
    return [{ dtype: castTarget(attrInt(attrs, 'to')), shape: [...x.shape] }];
  },
  evaluate(inputs, attrs) {
    return [castCopy(need(inputs, 0), castTarget(attrInt(attrs, 'to')))];
  },
};

const castLike: OpDef = {
  infer(inputs) {
    const x = need(inputs, 0).type;
    return [{ dtype: need(inputs, 1, 'target_type input').type.dtype, shape: [...x.shape] }];
  },
  evaluate(inputs) {
    return [castCopy(need(inputs, 0), need(inputs, 1, 'target_type input').dtype)];
  },
};

/** Clip's bound inputs must be scalars (or 1-element tensors) of the input's dtype. */
function checkBound(t: Typed | undefined, x: Typed, what: string): void {
  if (!t) return;
  if (t.dtype !== x.dtype) fail(`${what} has dtype ${t.dtype}, but the input is ${x.dtype}`);
  if (t.shape.reduce((a, b) => a * b, 1) !== 1) fail(`${what} must be a scalar, got shape [${t.shape.join(',')}]`);
}

const clip: OpDef = {
  infer(inputs) {
    const x = need(inputs, 0).type;
    checkClass(x.dtype, 'numeric');
    checkBound(inputs[1]?.type, x, 'min');
    checkBound(inputs[2]?.type, x, 'max');
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  evaluate(inputs) {
    const x = need(inputs, 0);
    checkBound(inputs[1], x, 'min');
    checkBound(inputs[2], x, 'max');
    const lo = inputs[1] ? inputs[1].data[0] : -Infinity;
    const hi = inputs[2] ? inputs[2].data[0] : Infinity;
    // min(max(x, lo), hi): when lo > hi every element becomes hi, as ONNX specifies; NaN passes through.
    return [unaryMap(x, x.dtype, (v) => {
      const u = v < lo ? lo : v;
      return u > hi ? hi : u;
    })];
  },
};

const where: OpDef = {
  infer(inputs) {
    const c = need(inputs, 0, 'condition').type;
    const x = need(inputs, 1, 'X').type;
    const y = need(inputs, 2, 'Y').type;
    checkClass(c.dtype, 'bool', 'condition');
    checkSame([x, y]);
    return [{ dtype: x.dtype, shape: broadcastShapes(c.shape, x.shape, y.shape) }];
  },
  evaluate(inputs) {
    const c = need(inputs, 0, 'condition');
    const x = need(inputs, 1, 'X');
    const y = need(inputs, 2, 'Y');
    checkClass(c.dtype, 'bool', 'condition');
    checkSame([x, y]);
    return [ternaryMap(c, x, y, x.dtype, (k, a, b) => (k ? a : b))];
  },
};

export const miscOps: Record<string, OpDef> = { Cast: cast, CastLike: castLike, Clip: clip, Where: where };
