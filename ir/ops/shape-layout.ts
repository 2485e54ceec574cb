/**
 * Data-movement shape ops (graph level, ONNX semantics): Transpose, Concat, Split, Expand, Tile.
 * Each output element is a copy of one input element; the copies are block copies along the
 * contiguous axes (Concat, Split) or go through the per-axis offset tables of gatherAxes.
 */
import { allocData } from '../dtype.js';
import { Tensor, stridesOf } from '../tensor.js';
import type { Attrs } from '../graph.js';
import type { InferInput, OpDef, OpInfo } from './registry.js';
import { defineOp, gatherAxes, intValues, prod, rampOffsets, shapeStr, transposeData } from './shape-util.js';
import { attrInt, attrInts, broadcastShapes, constValue, fail, need, normAxis } from './util.js';

function permOf(perm: number[] | undefined, rank: number): number[] {
  if (!perm) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const seen = new Array<boolean>(rank).fill(false);
  if (perm.length !== rank) fail(`perm ${shapeStr(perm)} has length ${perm.length}, the input has rank ${rank}`);
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen[p]) fail(`perm ${shapeStr(perm)} is not a permutation of 0..${rank - 1}`);
    seen[p] = true;
  }
  return perm;
}

const Transpose = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const perm = permOf(attrInts(attrs, 'perm'), x.shape.length);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  (inputs, attrs) => {
    const x = need(inputs, 0);
    return [transposeData(x.data, x.dtype, x.shape, permOf(attrInts(attrs, 'perm'), x.rank))];
  },
);

const Concat = defineOp(
  (inputs, attrs) => {
    if (inputs.length === 0) fail('Concat needs at least one input');
    const types = inputs.map((_, i) => need(inputs, i).type);
    const first = types[0];
    const a = attrInt(attrs, 'axis');
    if (a === undefined) fail("missing required attribute 'axis'");
    const axis = normAxis(a, first.shape.length);
    const shape = [...first.shape];
    for (const t of types.slice(1)) {
      if (t.dtype !== first.dtype) fail(`inputs must have the same dtype, got ${first.dtype} and ${t.dtype}`);
      const ok = t.shape.length === shape.length && t.shape.every((d, i) => i === axis || d === shape[i]);
      if (!ok) fail(`cannot concatenate ${shapeStr(first.shape)} and ${shapeStr(t.shape)} along axis ${axis}`);
      shape[axis] += t.shape[axis];
    }
    return [{ dtype: first.dtype, shape }];
  },
  (inputs, attrs, _info, out) => {
    const { dtype, shape } = out[0];
    const axis = normAxis(attrInt(attrs, 'axis', 0), shape.length);
    const outer = prod(shape, 0, axis);
    const rowOut = prod(shape, axis);
    const data = allocData(dtype, outer * rowOut);
    let col = 0;
    for (const t of inputs as Tensor[]) {
      const row = prod(t.shape, axis);
      for (let o = 0; o < outer; o++) data.set(t.data.subarray(o * row, (o + 1) * row), o * rowOut + col);
      col += row;
    }
    return [new Tensor(dtype, shape, data)];
  },
);

/** Sizes of Split's outputs along `axis`. */
function splitSizes(inputs: (InferInput | undefined)[], attrs: Attrs, info: OpInfo, dim: number): number[] {
  const n = info.numOutputs;
  if (inputs[1]) {
    const sizes = intValues(constValue(inputs, 1, 'the split input'), 'split');
    if (sizes.length !== n) fail(`split ${shapeStr(sizes)} has ${sizes.length} sizes for ${n} outputs`);
    if (sizes.some((s) => s < 0)) fail(`split ${shapeStr(sizes)} has a negative size`);
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (sum !== dim) fail(`split ${shapeStr(sizes)} sums to ${sum}, the axis has size ${dim}`);
    return sizes;
  }
  const numOutputs = info.opset >= 18 ? attrInt(attrs, 'num_outputs') : undefined;
  if (numOutputs !== undefined) {
    // opset 18: chunks of ceil(dim / n), the last one smaller when the split is uneven.
    if (numOutputs !== n) fail(`num_outputs is ${numOutputs} but the node has ${n} outputs`);
    const chunk = Math.ceil(dim / n);
    const last = dim - chunk * (n - 1);
    if (last < 0) fail(`an axis of size ${dim} cannot be split into ${n} chunks of ${chunk}`);
    return [...new Array<number>(n - 1).fill(chunk), last];
  }
  if (n < 1 || dim % n !== 0) fail(`an axis of size ${dim} cannot be split into ${n} equal parts`, "give the 'split' sizes input");
  return new Array<number>(n).fill(dim / n);
}

const Split = defineOp(
  (inputs, attrs, info) => {
    const x = need(inputs, 0).type;
    const axis = normAxis(attrInt(attrs, 'axis', 0), x.shape.length);
    return splitSizes(inputs, attrs, info, x.shape[axis]).map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return { dtype: x.dtype, shape };
    });
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const axis = normAxis(attrInt(attrs, 'axis', 0), x.rank);
    const outer = prod(x.shape, 0, axis);
    const inner = prod(x.shape, axis + 1);
    const rowIn = x.shape[axis] * inner;
    let col = 0;
    return out.map(({ dtype, shape }) => {
      const row = shape[axis] * inner;
      const data = allocData(dtype, outer * row);
      for (let o = 0; o < outer; o++) data.set(x.data.subarray(o * rowIn + col, o * rowIn + col + row), o * row);
      col += row;
      return new Tensor(dtype, shape, data);
    });
  },
);

/** Offset tables that read `inShape` broadcast (numpy rules, right-aligned) to `outShape`. */
function broadcastOffsets(inShape: readonly number[], outShape: readonly number[]): Int32Array[] {
  const st = stridesOf(inShape);
  const lead = outShape.length - inShape.length;
  return outShape.map((d, i) => {
    const j = i - lead;
    return j < 0 || inShape[j] === 1 ? new Int32Array(d) : rampOffsets(d, st[j]);
  });
}

const Expand = defineOp(
  (inputs) => {
    const x = need(inputs, 0).type;
    const target = intValues(constValue(inputs, 1, 'the shape input'), 'shape');
    if (target.some((d) => !Number.isInteger(d) || d < 0)) fail(`shape ${shapeStr(target)} has a negative dimension`);
    return [{ dtype: x.dtype, shape: broadcastShapes(x.shape, target) }];
  },
  (inputs, _a, _i, out) => {
    const x = need(inputs, 0);
    return [gatherAxes(x.data, x.dtype, out[0].shape, broadcastOffsets(x.shape, out[0].shape))];
  },
);

const Tile = defineOp(
  (inputs) => {
    const x = need(inputs, 0).type;
    const reps = intValues(constValue(inputs, 1, 'the repeats input'), 'repeats');
    if (reps.length !== x.shape.length) fail(`repeats ${shapeStr(reps)} must have one entry per input dim (rank ${x.shape.length})`);
    if (reps.some((r) => r < 0)) fail(`repeats ${shapeStr(reps)} has a negative entry`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => d * reps[i]) }];
  },
  (inputs, _a, _i, out) => {
    const x = need(inputs, 0);
    const st = stridesOf(x.shape);
    const offs = out[0].shape.map((n, d) => {
      const t = new Int32Array(n);
      for (let i = 0; i < n; i++) t[i] = (i % x.shape[d]) * st[d];
      return t;
    });
    return [gatherAxes(x.data, x.dtype, out[0].shape, offs)];
  },
);

export const layoutOps: Record<string, OpDef> = { Transpose, Concat, Split, Expand, Tile };
