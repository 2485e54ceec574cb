/**
 * Softmax, LogSoftmax, Hardmax and LpNormalization (normalizations along one axis), and the registry
 * entry of the whole normalization family (statistics-based ones live in normalization-stats.ts,
 * BatchNormalization in normalization-batch.ts).
 *
 * Softmax-like ops changed meaning at opset 13: before, the input is coerced to 2-D at `axis`
 * (default 1) and the op runs over the whole flattened tail [axis, rank); from 13 on it runs over the
 * single dim `axis` (default -1). Both are the same strided kernel over (outer, n, inner) blocks.
 * Softmax subtracts the maximum first, so large inputs do not overflow.
 */
import type { Attrs, StaticType } from '../graph.js';
import { Tensor } from '../tensor.js';
import type { InferInput, OpDef, OpInfo } from './registry.js';
import { batchNormalization } from './normalization-batch.js';
import { statNormalizationOps, storeAs } from './normalization-stats.js';
import { splitAt } from './reduce-layout.js';
import { attrInt, fail, need, normAxis, requireFloat } from './util.js';

type SoftKind = 'softmax' | 'logsoftmax' | 'hardmax';

/** The (outer, n, inner) blocks a softmax-like op works on, per the opset's axis semantics. */
function softBlocks(shape: readonly number[], attrs: Attrs, opset: number): { outer: number; n: number; inner: number } {
  const rank = shape.length;
  if (opset >= 13) {
    if (rank === 0) fail('input must have rank >= 1');
    return splitAt(shape, normAxis(attrInt(attrs, 'axis', -1), rank));
  }
  // opset < 13: flatten to [prod(shape[:axis]), prod(shape[axis:])]; axis may equal rank
  const raw = attrInt(attrs, 'axis', 1);
  const axis = raw < 0 ? raw + rank : raw;
  if (!Number.isInteger(axis) || axis < 0 || axis > rank) fail(`axis ${raw} is out of range for rank ${rank}`);
  let outer = 1;
  let n = 1;
  for (let i = 0; i < rank; i++) {
    if (i < axis) outer *= shape[i];
    else n *= shape[i];
  }
  return { outer, n, inner: 1 };
}

function softOp(kind: SoftKind): OpDef {
  return {
    infer(inputs: (InferInput | undefined)[], attrs: Attrs, info: OpInfo): StaticType[] {
      const x = need(inputs, 0, 'input').type;
      requireFloat(x);
      softBlocks(x.shape, attrs, info.opset);
      return [{ dtype: x.dtype, shape: [...x.shape] }];
    },
    evaluate(inputs: (Tensor | undefined)[], attrs: Attrs, info: OpInfo): Tensor[] {
      const x = need(inputs, 0, 'input');
      requireFloat({ dtype: x.dtype, shape: [] });
      const { outer, n, inner } = softBlocks(x.shape, attrs, info.opset);
      const y = kind === 'hardmax' ? hardmax(x.data, outer, n, inner) : softmax(x.data, outer, n, inner, kind === 'logsoftmax');
      return [new Tensor(x.dtype, [...x.shape], storeAs(x.dtype, y))];
    },
  };
}

/**
 * Softmax (or log-softmax) over the middle dim of [outer, n, inner] blocks. The loops walk the
 * block row by row (k outer, i inner) so memory is read contiguously whatever the axis.
 */
function softmax(xd: ArrayLike<number>, outer: number, n: number, inner: number, log: boolean): Float64Array {
  const y = new Float64Array(outer * n * inner);
  if (inner === 1) {
    softmaxRows(xd, outer, n, log, y);
    return y;
  }
  const mx = new Float64Array(inner);
  const sum = new Float64Array(inner);
  const block = n * inner;
  for (let o = 0, base = 0; o < outer; o++, base += block) {
    mx.fill(-Infinity);
    sum.fill(0);
    for (let k = 0, row = base; k < n; k++, row += inner) {
      for (let i = 0; i < inner; i++) if (xd[row + i] > mx[i] || xd[row + i] !== xd[row + i]) mx[i] = xd[row + i];
    }
    for (let k = 0, row = base; k < n; k++, row += inner) {
      for (let i = 0; i < inner; i++) {
        const e = Math.exp(xd[row + i] - mx[i]);
        if (!log) y[row + i] = e;
        sum[i] += e;
      }
    }
    if (log) {
      for (let i = 0; i < inner; i++) sum[i] = Math.log(sum[i]) + mx[i];
      for (let k = 0, row = base; k < n; k++, row += inner) {
        for (let i = 0; i < inner; i++) y[row + i] = xd[row + i] - sum[i];
      }
    } else {
      for (let i = 0; i < inner; i++) sum[i] = 1 / sum[i];
      for (let k = 0, row = base; k < n; k++, row += inner) {
        for (let i = 0; i < inner; i++) y[row + i] *= sum[i];
      }
    }
  }
  return y;
}

/** The contiguous case (softmax over the last axis, as in attention): scalar accumulators. */
function softmaxRows(xd: ArrayLike<number>, rows: number, n: number, log: boolean, y: Float64Array): void {
  for (let r = 0, base = 0; r < rows; r++, base += n) {
    const end = base + n;
    let mx = -Infinity;
    for (let i = base; i < end; i++) if (xd[i] > mx || xd[i] !== xd[i]) mx = xd[i];
    let sum = 0;
    for (let i = base; i < end; i++) {
      const e = Math.exp(xd[i] - mx);
      y[i] = e;
      sum += e;
    }
    if (log) {
      const shift = Math.log(sum) + mx;
      for (let i = base; i < end; i++) y[i] = xd[i] - shift;
    } else {
      const inv = 1 / sum;
      for (let i = base; i < end; i++) y[i] *= inv;
    }
  }
}

/** 1 at the first maximum of each row along the axis, 0 elsewhere. */
function hardmax(xd: ArrayLike<number>, outer: number, n: number, inner: number): Float64Array {
  const y = new Float64Array(outer * n * inner);
  const best = new Float64Array(inner);
  const at = new Int32Array(inner);
  const block = n * inner;
  if (n === 0) return y;
  for (let o = 0, base = 0; o < outer; o++, base += block) {
    for (let i = 0; i < inner; i++) {
      best[i] = xd[base + i];
      at[i] = 0;
    }
    for (let k = 1, row = base + inner; k < n; k++, row += inner) {
      for (let i = 0; i < inner; i++) {
        if (xd[row + i] > best[i]) {
          best[i] = xd[row + i];
          at[i] = k;
        }
      }
    }
    for (let i = 0; i < inner; i++) y[base + at[i] * inner + i] = 1;
  }
  return y;
}

/** LpNormalization: x / ||x||_p along `axis` (default -1), p in {1, 2} (default 2). */
const lpNormalization: OpDef = {
  infer(inputs, attrs) {
    const x = need(inputs, 0, 'input').type;
    requireFloat(x);
    lpPlan(x.shape, attrs);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input');
    requireFloat({ dtype: x.dtype, shape: [] });
    const { p, outer, n, inner } = lpPlan(x.shape, attrs);
    const xd = x.data;
    const y = new Float64Array(x.size);
    const norm = new Float64Array(inner);
    for (let o = 0, base = 0; o < outer; o++, base += n * inner) {
      norm.fill(0);
      for (let k = 0, row = base; k < n; k++, row += inner) {
        for (let i = 0; i < inner; i++) norm[i] += p === 1 ? Math.abs(xd[row + i]) : xd[row + i] * xd[row + i];
      }
      // a zero vector stays zero (divide by 1), as the ONNX suite expects, rather than 0/0 = NaN
      for (let i = 0; i < inner; i++) norm[i] = norm[i] === 0 ? 1 : p === 2 ? Math.sqrt(norm[i]) : norm[i];
      for (let k = 0, row = base; k < n; k++, row += inner) {
        for (let i = 0; i < inner; i++) y[row + i] = xd[row + i] / norm[i];
      }
    }
    return [new Tensor(x.dtype, [...x.shape], storeAs(x.dtype, y))];
  },
};

function lpPlan(shape: readonly number[], attrs: Attrs): { p: number; outer: number; n: number; inner: number } {
  const p = attrInt(attrs, 'p', 2);
  if (p !== 1 && p !== 2) fail(`p must be 1 or 2, got ${p}`);
  if (shape.length === 0) fail('input must have rank >= 1');
  return { p, ...splitAt(shape, normAxis(attrInt(attrs, 'axis', -1), shape.length)) };
}

export const normalizationOps: Record<string, OpDef> = {
  Softmax: softOp('softmax'),
  LogSoftmax: softOp('logsoftmax'),
  Hardmax: softOp('hardmax'),
  LpNormalization: lpNormalization,
  BatchNormalization: batchNormalization,
  ...statNormalizationOps,
};
