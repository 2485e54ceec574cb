/**
 * Reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
 * ReduceLogSum, ReduceLogSumExp, ReduceSumSquare, and ArgMax / ArgMin.
 *
 * IR form (latest opset): the axes are the optional int64 input 1 (the ONNX frontend moves the `axes`
 * attribute of older opsets there); attributes `keepdims` (default 1) and `noop_with_empty_axes`
 * (default 0). Missing or empty axes reduce every axis, or return the input unchanged with
 * noop_with_empty_axes=1. An empty reduction gives the identity of the operation, as the ONNX suite
 * expects: 0 for sums, 1 for products, -inf (the dtype's minimum for integers) for max, +inf for min,
 * -inf for the log-sums, NaN for the mean.
 *
 * Values are accumulated in float64 over contiguous rows (see reduce-layout.ts) and cast once to the
 * output dtype (so integer sums wrap like C and narrow floats round once).
 */
import { type DType, allocData, castScalar, isFloat } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor } from '../tensor.js';
import type { InferInput, OpDef } from './registry.js';
import { normAxes, reducedShape, rowsOver, splitAt } from './reduce-layout.js';
import { attrInt, constValue, fail, intsOf, need, normAxis } from './util.js';

type Kind = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'l1' | 'l2' | 'logsum' | 'logsumexp' | 'sumsquare';

/** Resolves the reduction axes; `null` means "return the input unchanged" (noop_with_empty_axes). */
function resolveAxes(axes: number[] | undefined, rank: number, attrs: Attrs): number[] | null {
  if (axes === undefined || axes.length === 0) {
    if (attrInt(attrs, 'noop_with_empty_axes', 0) !== 0) return null;
    return Array.from({ length: rank }, (_, i) => i);
  }
  return normAxes(axes, rank);
}

function checkDtype(kind: Kind, dtype: DType): void {
  if (dtype === 'bool' && kind !== 'max' && kind !== 'min') fail(`Reduce ${kind} does not accept bool inputs`);
}

/** The identity of each reduction, i.e. its value over an empty set, before the final transform. */
function initial(kind: Kind): number {
  switch (kind) {
    case 'prod':
      return 1;
    case 'max':
      return -Infinity;
    case 'min':
      return Infinity;
    default:
      return 0;
  }
}

/** Reduces each of `outer` rows of `len` values into `out` (float64, before the cast to the output dtype). */
function reduceRows(kind: Kind, x: ArrayLike<number>, outer: number, len: number, out: Float64Array): void {
  const init = initial(kind);
  for (let o = 0, base = 0; o < outer; o++, base += len) {
    const end = base + len;
    let acc = init;
    switch (kind) {
      case 'sum':
      case 'mean':
      case 'logsum':
        for (let i = base; i < end; i++) acc += x[i];
        break;
      case 'sumsquare':
      case 'l2':
        for (let i = base; i < end; i++) acc += x[i] * x[i];
        break;
      case 'l1':
        for (let i = base; i < end; i++) acc += Math.abs(x[i]);
        break;
      case 'prod':
        for (let i = base; i < end; i++) acc *= x[i];
        break;
      case 'max':
        // NaN propagates (numpy's maximum.reduce): once acc is NaN no comparison replaces it
        for (let i = base; i < end; i++) {
          const v = x[i];
          if (v > acc || v !== v) acc = v;
        }
        break;
      case 'min':
        for (let i = base; i < end; i++) {
          const v = x[i];
          if (v < acc || v !== v) acc = v;
        }
        break;
      case 'logsumexp': {
        // stable: shift by the row maximum
        let m = -Infinity;
        for (let i = base; i < end; i++) if (x[i] > m) m = x[i];
        if (m === -Infinity || m === Infinity) {
          acc = m === Infinity ? Infinity : -Infinity;
          break;
        }
        for (let i = base; i < end; i++) acc += Math.exp(x[i] - m);
        acc = Math.log(acc) + m;
        break;
      }
    }
    if (kind === 'mean') acc /= len;
    else if (kind === 'l2') acc = Math.sqrt(acc);
    else if (kind === 'logsum') acc = Math.log(acc);
    out[o] = acc;
  }
}

/** Smallest / largest value of an integer dtype (ReduceMax / ReduceMin over an empty set). */
function intExtreme(dtype: DType, max: boolean): number {
  const lo: Partial<Record<DType, [number, number]>> = {
    int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
    int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
    int64: [-9223372036854775808, 9223372036854775807], uint64: [0, 18446744073709551615], bool: [0, 1],
  };
  const r = lo[dtype] ?? [-Infinity, Infinity];
  return max ? r[1] : r[0];
}

function reduceOp(kind: Kind): OpDef {
  return {
    infer(inputs: (InferInput | undefined)[], attrs: Attrs): StaticType[] {
      const x = need(inputs, 0, 'input data').type;
      checkDtype(kind, x.dtype);
      const axes = inputs[1] ? intsOf(constValue(inputs, 1, 'axes')) : undefined;
      const ax = resolveAxes(axes, x.shape.length, attrs);
      if (ax === null) return [{ dtype: x.dtype, shape: [...x.shape] }];
      return [{ dtype: x.dtype, shape: reducedShape(x.shape, ax, attrInt(attrs, 'keepdims', 1) !== 0) }];
    },
    evaluate(inputs: (Tensor | undefined)[], attrs: Attrs): Tensor[] {
      const x = need(inputs, 0, 'input data');
      checkDtype(kind, x.dtype);
      const ax = resolveAxes(inputs[1] ? intsOf(inputs[1]) : undefined, x.rank, attrs);
      if (ax === null) return [new Tensor(x.dtype, [...x.shape], x.data.slice())];
      const shape = reducedShape(x.shape, ax, attrInt(attrs, 'keepdims', 1) !== 0);
      const rows = rowsOver(x.data, x.shape, ax);
      const acc = new Float64Array(rows.outer);
      reduceRows(kind, rows.data, rows.outer, rows.len, acc);
      const out = allocData(x.dtype, rows.outer);
      const dtype = x.dtype;
      if (dtype === 'float32' || dtype === 'float64') out.set(acc);
      else {
        const extreme = !isFloat(dtype) && rows.len === 0 && (kind === 'max' || kind === 'min');
        for (let i = 0; i < acc.length; i++) out[i] = extreme ? intExtreme(dtype, kind === 'min') : castScalar(acc[i], dtype);
      }
      return [new Tensor(dtype, shape, out)];
    },
  };
}

/** ArgMax / ArgMin along one axis (first occurrence, or last with select_last_index=1); int64 result. */
function argOp(max: boolean): OpDef {
  const plan = (shape: readonly number[], attrs: Attrs) => {
    const axis = normAxis(attrInt(attrs, 'axis', 0), shape.length);
    const keep = attrInt(attrs, 'keepdims', 1) !== 0;
    if (shape[axis] === 0) fail(`cannot take ${max ? 'ArgMax' : 'ArgMin'} over the empty axis ${axis}`);
    return { axis, outShape: reducedShape(shape, [axis], keep) };
  };
  return {
    infer(inputs: (InferInput | undefined)[], attrs: Attrs): StaticType[] {
      const x = need(inputs, 0, 'input data').type;
      return [{ dtype: 'int64', shape: plan(x.shape, attrs).outShape }];
    },
    evaluate(inputs: (Tensor | undefined)[], attrs: Attrs): Tensor[] {
      const x = need(inputs, 0, 'input data');
      const { axis, outShape } = plan(x.shape, attrs);
      const last = attrInt(attrs, 'select_last_index', 0) !== 0;
      const { outer, n, inner } = splitAt(x.shape, axis);
      const d = x.data;
      const res = new Float64Array(outer * inner);
      const best = new Float64Array(inner);
      // scan the axis row by row so the inner dim is read contiguously
      for (let o = 0; o < outer; o++) {
        const base = o * n * inner;
        const ob = o * inner;
        for (let i = 0; i < inner; i++) best[i] = d[base + i];
        for (let k = 1; k < n; k++) {
          const row = base + k * inner;
          for (let i = 0; i < inner; i++) {
            const v = d[row + i];
            const b = best[i];
            const better = max ? v > b || (last && v === b) : v < b || (last && v === b);
            // NaN wins, as in numpy (the first NaN, or the last with select_last_index)
            if (better || (v !== v && (b === b || last))) {
              best[i] = v;
              res[ob + i] = k;
            }
          }
        }
      }
      return [new Tensor('int64', outShape, res)];
    },
  };
}

const r = reduceOp;

export const reduceOps: Record<string, OpDef> = {
  ReduceSum: r('sum'),
  ReduceMean: r('mean'),
  ReduceMax: r('max'),
  ReduceMin: r('min'),
  ReduceProd: r('prod'),
  ReduceL1: r('l1'),
  ReduceL2: r('l2'),
  ReduceLogSum: r('logsum'),
  ReduceLogSumExp: r('logsumexp'),
  ReduceSumSquare: r('sumsquare'),
  ArgMax: argOp(true),
  ArgMin: argOp(false),
};
