/**
 * Helpers shared by the shape and indexing op families (shape*.ts, indexing*.ts).
 *
 * - `defineOp` builds an OpDef whose `evaluate` first runs `infer` on the concrete inputs, so every
 *   shape rule and every input check lives in one place, and the output sizes are validated against
 *   MAX_ELEMENTS before anything is allocated.
 * - `gatherAxes` is the one copy kernel that Transpose, Slice, Expand, Tile, Pad and the depth/space
 *   shuffles reduce to: each output axis has a table mapping its coordinate to an offset in the
 *   source (or -1 for "fill"), so the inner loop is two array reads and no per-element allocation.
 */
import { type DType, type TensorData, allocData, isInteger } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor, sizeOf, stridesOf } from '../tensor.js';
import type { InferInput, OpDef, OpInfo } from './registry.js';
import { fail } from './util.js';

/** Largest tensor (in elements) the reference evaluator will allocate. */
export const MAX_ELEMENTS = 2 ** 31;

export const shapeStr = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Requires every dim to be a non-negative integer. */
export function checkDims(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) fail(`${what} ${shapeStr(shape)} has an invalid dimension ${d}`);
  }
}

/** The element count of a shape that is about to be allocated; OpError W2002 above MAX_ELEMENTS. */
export function checkAlloc(shape: readonly number[], what = 'output'): number {
  checkDims(shape, `${what} shape`);
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) {
    fail(`${what} ${shapeStr(shape)} would have ${n} elements, more than the evaluator's limit of 2^31`,
      'check the shape inputs; such a tensor can only be planned, not evaluated');
  }
  return n;
}

export function typeOf(t: Tensor): StaticType {
  return { dtype: t.dtype, shape: [...t.shape] };
}

/** Views concrete tensors as infer inputs whose values are all known. */
export function asInfer(inputs: (Tensor | undefined)[]): (InferInput | undefined)[] {
  return inputs.map((t) => (t ? { type: typeOf(t), value: t } : undefined));
}

export type ComputeFn = (inputs: (Tensor | undefined)[], attrs: Attrs, info: OpInfo, out: StaticType[]) => Tensor[];

/** An OpDef whose evaluate reuses infer (checks + output types) before computing values. */
export function defineOp(infer: OpDef['infer'], compute: ComputeFn): OpDef {
  return {
    infer,
    evaluate(inputs, attrs, info) {
      const out = infer(asInfer(inputs), attrs, info);
      for (const t of out) checkAlloc(t.shape);
      return compute(inputs, attrs, info, out);
    },
  };
}

/** The integer values of an index-like tensor (shape, axes, pads, k...). */
export function intValues(t: Tensor, what: string): number[] {
  if (!isInteger(t.dtype)) fail(`${what} must be an integer tensor, got ${t.dtype}`);
  return t.toArray();
}

/** The single value of a scalar or one-element tensor. */
export function scalarValue(t: Tensor, what: string): number {
  if (t.size !== 1) fail(`${what} must hold exactly one value, got shape ${shapeStr(t.shape)}`);
  return t.data[0];
}

export function requireIntegerType(t: StaticType, what: string): void {
  if (!isInteger(t.dtype)) fail(`${what} must be an integer tensor, got ${t.dtype}`);
}

/** Normalizes a list of axes, rejecting duplicates. */
export function normAxes(axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out: number[] = [];
  for (const a of axes) {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= rank) fail(`${what} value ${a} is out of range for rank ${rank}`);
    if (out.includes(n)) fail(`${what} ${shapeStr([...axes])} repeats axis ${a}`);
    out.push(n);
  }
  return out;
}

/** Product of shape[from..to). */
export function prod(shape: readonly number[], from = 0, to = shape.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}

/**
 * out[i0,..,ik] = src[offs[0][i0] + ... + offs[k][ik]], or `fill` where any table holds -1.
 * The caller has validated sizes (defineOp does).
 */
export function gatherAxes(src: TensorData, dtype: DType, outShape: readonly number[], offs: Int32Array[], fill = 0): Tensor {
  const n = sizeOf(outShape);
  const out = allocData(dtype, n);
  const rank = outShape.length;
  if (n === 0) return new Tensor(dtype, [...outShape], out);
  if (rank === 0) {
    out[0] = src[0];
    return new Tensor(dtype, [], out);
  }
  const m = outShape[rank - 1];
  const inner = offs[rank - 1];
  // A contiguous, hole-free innermost table lets each row be one block copy.
  let contiguous = true;
  for (let j = 0; j < m; j++) if (inner[j] !== inner[0] + j) contiguous = false;
  const cnt = new Int32Array(rank);
  for (let o = 0; o < n; o += m) {
    let base = 0;
    let hole = false;
    for (let d = 0; d < rank - 1; d++) {
      const v = offs[d][cnt[d]];
      if (v < 0) hole = true;
      base += v;
    }
    if (hole) out.fill(fill, o, o + m);
    else if (contiguous && inner[0] >= 0) out.set(src.subarray(base + inner[0], base + inner[0] + m), o);
    else {
      for (let j = 0; j < m; j++) {
        const v = inner[j];
        out[o + j] = v < 0 ? fill : src[base + v];
      }
    }
    for (let d = rank - 2; d >= 0; d--) {
      if (++cnt[d] < outShape[d]) break;
      cnt[d] = 0;
    }
  }
  return new Tensor(dtype, [...outShape], out);
}

/** Offset table i -> i * stride for an axis of length n. */
export function rampOffsets(n: number, stride: number, start = 0, step = 1): Int32Array {
  const t = new Int32Array(n);
  for (let i = 0; i < n; i++) t[i] = (start + i * step) * stride;
  return t;
}

/** Transpose of `data` (shape `shape`) by `perm`: out.shape[d] = shape[perm[d]]. */
export function transposeData(data: TensorData, dtype: DType, shape: readonly number[], perm: readonly number[]): Tensor {
  const st = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  return gatherAxes(data, dtype, outShape, perm.map((p) => rampOffsets(shape[p], st[p])));
}
