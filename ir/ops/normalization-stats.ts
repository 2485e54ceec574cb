/**
 * Normalizations by statistics over contiguous groups of elements: LayerNormalization,
 * RMSNormalization, InstanceNormalization, GroupNormalization and MeanVarianceNormalization.
 *
 * Statistics use two-pass float64 sums (mean, then the mean of squared deviations), so a constant
 * group gives variance exactly 0 rather than a tiny negative number. Results are cast once to the
 * output dtype. `stash_type` (the precision ONNX asks for the statistics) only sets the dtype of the
 * Mean / InvStdDev outputs: computing in float64 is at least as precise as any stash type.
 */
import { type DType, allocData, castScalar, dtypeFromOnnx, isFloat, type TensorData } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor, sizeOf } from '../tensor.js';
import type { InferInput, OpDef, OpInfo } from './registry.js';
import { normAxes, reducedShape, rowsOver } from './reduce-layout.js';
import { attrFloat, attrInt, attrInts, broadcastIndex, fail, need, normAxis, requireFloat } from './util.js';

// ---- shared helpers -------------------------------------------------------------------------

/** Stores float64 results into a new array of `dtype`, rounding narrow floats. */
export function storeAs(dtype: DType, values: Float64Array): TensorData {
  const out = allocData(dtype, values.length);
  if (dtype === 'float32' || dtype === 'float64') out.set(values);
  else for (let i = 0; i < values.length; i++) out[i] = castScalar(values[i], dtype);
  return out;
}

/** The dtype named by the `stash_type` attribute (default float32). */
function stashDtype(attrs: Attrs): DType {
  const code = attrInt(attrs, 'stash_type', 1);
  const t = dtypeFromOnnx(code);
  if (!t || !isFloat(t)) fail(`stash_type ${code} is not a floating-point type`);
  return t;
}

function floatType(inputs: (InferInput | undefined)[], i: number, what: string): StaticType {
  const t = need(inputs, i, what).type;
  requireFloat(t, what);
  return t;
}

/**
 * How to find the scale/bias element for element `j` of a normalized block of X: `local` indexes
 * within the block (param broadcast over the normalized dims), `global` indexes over all of X (the
 * param also varies along leading dims); both null means the param is exactly the block's shape.
 */
interface ParamIndex {
  local: Int32Array | null;
  global: Int32Array | null;
}

function paramIndex(xShape: readonly number[], axis: number, pShape: readonly number[], what: string): ParamIndex {
  const off = xShape.length - pShape.length;
  if (off < 0 || pShape.some((d, i) => d !== 1 && d !== xShape[off + i])) {
    fail(`${what} of shape [${pShape.join(',')}] does not broadcast to the input shape [${xShape.join(',')}]`);
  }
  const block = xShape.slice(axis);
  if (pShape.length <= block.length) return { local: broadcastIndex(block, pShape), global: null };
  return { local: null, global: broadcastIndex(xShape, pShape) ?? identityIndex(sizeOf(xShape)) };
}

function identityIndex(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function checkParamInfer(x: StaticType, axis: number, p: StaticType | undefined, what: string): void {
  if (p) paramIndex(x.shape, axis, p.shape, what);
}

// ---- LayerNormalization / RMSNormalization ---------------------------------------------------

function lnAxis(rank: number, attrs: Attrs): number {
  return normAxis(attrInt(attrs, 'axis', -1), rank);
}

const layerNormalization: OpDef = {
  infer(inputs, attrs, info) {
    const x = floatType(inputs, 0, 'input X');
    const axis = lnAxis(x.shape.length, attrs);
    checkParamInfer(x, axis, need(inputs, 1, 'input Scale').type, 'Scale');
    checkParamInfer(x, axis, inputs[2]?.type, 'B');
    if (info.numOutputs > 3) fail(`LayerNormalization has at most 3 outputs, the node declares ${info.numOutputs}`);
    const u = stashDtype(attrs);
    const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
    const all: StaticType[] = [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: u, shape: statShape }, { dtype: u, shape: [...statShape] }];
    return all.slice(0, Math.max(1, info.numOutputs));
  },
  evaluate(inputs, attrs, info) {
    return normalizeLastDims(inputs, attrs, info, false);
  },
};

const rmsNormalization: OpDef = {
  infer(inputs, attrs) {
    const x = floatType(inputs, 0, 'input X');
    const axis = lnAxis(x.shape.length, attrs);
    checkParamInfer(x, axis, need(inputs, 1, 'input scale').type, 'scale');
    stashDtype(attrs);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  evaluate(inputs, attrs, info) {
    return normalizeLastDims(inputs, attrs, info, true);
  },
};

/** LayerNormalization (rms=false) or RMSNormalization (rms=true) over the dims from `axis` on. */
function normalizeLastDims(inputs: (Tensor | undefined)[], attrs: Attrs, info: OpInfo, rms: boolean): Tensor[] {
  const x = need(inputs, 0, 'input X');
  const scale = need(inputs, 1, rms ? 'input scale' : 'input Scale');
  const bias = rms ? undefined : inputs[2];
  if (!isFloat(x.dtype)) fail(`input X must be a floating-point tensor, got ${x.dtype}`);
  const axis = lnAxis(x.rank, attrs);
  const eps = attrFloat(attrs, 'epsilon', 1e-5);
  const u = stashDtype(attrs);
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= x.shape[i];
  const D = outer === 0 ? 0 : x.size / outer;
  const si = paramIndex(x.shape, axis, scale.shape, 'scale');
  const bi = bias ? paramIndex(x.shape, axis, bias.shape, 'B') : null;
  const xd = x.data;
  const sd = scale.data;
  const bd = bias?.data;
  const y = new Float64Array(x.size);
  const means = new Float64Array(outer);
  const invs = new Float64Array(outer);
  for (let o = 0, base = 0; o < outer; o++, base += D) {
    const end = base + D;
    let mean = 0;
    if (!rms) {
      for (let i = base; i < end; i++) mean += xd[i];
      mean /= D;
    }
    let ss = 0;
    for (let i = base; i < end; i++) {
      const v = xd[i] - mean;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss / D + eps);
    means[o] = mean;
    invs[o] = inv;
    for (let j = 0, i = base; j < D; j++, i++) {
      const s = sd[si.local ? si.local[j] : si.global ? si.global[i] : j];
      let v = (xd[i] - mean) * inv * s;
      if (bd && bi) v += bd[bi.local ? bi.local[j] : bi.global ? bi.global[i] : j];
      y[i] = v;
    }
  }
  const out = [new Tensor(x.dtype, [...x.shape], storeAs(x.dtype, y))];
  if (!rms && info.numOutputs > 1) {
    const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
    out.push(new Tensor(u, statShape, storeAs(u, means)));
    out.push(new Tensor(u, [...statShape], storeAs(u, invs)));
  }
  return out.slice(0, Math.max(1, info.numOutputs));
}

// ---- InstanceNormalization / GroupNormalization -----------------------------------------------

/** N, C and the spatial size of an N x C x D1 x ... input. */
function ncs(shape: readonly number[], op: string): { N: number; C: number; S: number } {
  if (shape.length < 2) fail(`${op} needs an input of rank >= 2 (N x C x ...), got rank ${shape.length}`);
  return { N: shape[0], C: shape[1], S: sizeOf(shape.slice(2)) };
}

function checkVec(t: { shape: readonly number[] } | undefined, sizes: number[], what: string): void {
  if (!t) return;
  if (t.shape.length !== 1 || !sizes.includes(t.shape[0])) {
    fail(`${what} must be a vector of ${sizes.join(' or ')} elements, got shape [${t.shape.join(',')}]`);
  }
}

const instanceNormalization: OpDef = {
  infer(inputs) {
    const x = floatType(inputs, 0, 'input');
    const { C } = ncs(x.shape, 'InstanceNormalization');
    checkVec(need(inputs, 1, 'input scale').type, [C], 'scale');
    checkVec(need(inputs, 2, 'input B').type, [C], 'B');
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input');
    const { N, C, S } = ncs(x.shape, 'InstanceNormalization');
    const scale = need(inputs, 1, 'input scale');
    const bias = need(inputs, 2, 'input B');
    checkVec(scale, [C], 'scale');
    checkVec(bias, [C], 'B');
    const y = groupNorm(x.data, N * C, S, 1, attrFloat(attrs, 'epsilon', 1e-5), (row) => row % C, scale.data, bias.data);
    return [new Tensor(x.dtype, [...x.shape], storeAs(x.dtype, y))];
  },
};

/**
 * Normalizes `rows` contiguous rows of `len` elements; each row is made of `chunks` equal chunks and
 * chunk k of row r takes scale/bias element `param(r, k)`.
 */
function groupNorm(
  xd: TensorData, rows: number, len: number, chunks: number, eps: number,
  param: (row: number, chunk: number) => number, sd: TensorData, bd: TensorData,
): Float64Array {
  const y = new Float64Array(rows * len);
  const chunk = chunks === 0 ? 0 : len / chunks;
  for (let r = 0, base = 0; r < rows; r++, base += len) {
    const end = base + len;
    let mean = 0;
    for (let i = base; i < end; i++) mean += xd[i];
    mean /= len;
    let ss = 0;
    for (let i = base; i < end; i++) {
      const v = xd[i] - mean;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss / len + eps);
    for (let k = 0, i = base; k < chunks; k++) {
      const p = param(r, k);
      const s = sd[p] * inv;
      const b = bd[p];
      for (let j = 0; j < chunk; j++, i++) y[i] = (xd[i] - mean) * s + b;
    }
  }
  return y;
}

/**
 * GroupNormalization: opset 18 gives scale/bias one value per group, opset 21 one per channel. The
 * two are told apart by their length (when C equals num_groups they mean the same thing), so either
 * form is accepted whatever the opset.
 */
const groupNormalization: OpDef = {
  infer(inputs, attrs) {
    const x = floatType(inputs, 0, 'input X');
    const { C } = ncs(x.shape, 'GroupNormalization');
    const G = numGroups(attrs, C);
    checkVec(need(inputs, 1, 'input scale').type, [G, C], 'scale');
    checkVec(need(inputs, 2, 'input bias').type, [G, C], 'bias');
    stashDtype(attrs);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input X');
    const { N, C, S } = ncs(x.shape, 'GroupNormalization');
    const G = numGroups(attrs, C);
    const scale = need(inputs, 1, 'input scale');
    const bias = need(inputs, 2, 'input bias');
    checkVec(scale, [G, C], 'scale');
    checkVec(bias, [G, C], 'bias');
    if (scale.size !== bias.size) fail(`scale and bias must have the same length, got ${scale.size} and ${bias.size}`);
    const cpg = C / G;
    const perChannel = scale.size === C;
    const param = perChannel ? (r: number, k: number) => (r % G) * cpg + k : (r: number) => r % G;
    const y = groupNorm(x.data, N * G, cpg * S, cpg, attrFloat(attrs, 'epsilon', 1e-5), param, scale.data, bias.data);
    return [new Tensor(x.dtype, [...x.shape], storeAs(x.dtype, y))];
  },
};

function numGroups(attrs: Attrs, C: number): number {
  const g = attrInt(attrs, 'num_groups');
  if (g === undefined) fail('GroupNormalization needs the num_groups attribute');
  if (g <= 0 || C % g !== 0) fail(`num_groups ${g} must be positive and divide the channel count ${C}`);
  return g;
}

// ---- MeanVarianceNormalization ----------------------------------------------------------------

/** Y = (X - mean) / (std + 1e-9) over `axes` (default [0, 2, 3]), as the ONNX function body defines it. */
const meanVarianceNormalization: OpDef = {
  infer(inputs, attrs) {
    const x = floatType(inputs, 0, 'input X');
    normAxes(attrInts(attrs, 'axes') ?? [0, 2, 3], x.shape.length);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input X');
    const axes = normAxes(attrInts(attrs, 'axes') ?? [0, 2, 3], x.rank);
    const rows = rowsOver(x.data, x.shape, axes);
    const mean = new Float64Array(rows.outer);
    const den = new Float64Array(rows.outer);
    for (let o = 0, base = 0; o < rows.outer; o++, base += rows.len) {
      let m = 0;
      for (let i = 0; i < rows.len; i++) m += rows.data[base + i];
      m /= rows.len;
      let ss = 0;
      for (let i = 0; i < rows.len; i++) {
        const v = rows.data[base + i] - m;
        ss += v * v;
      }
      mean[o] = m;
      den[o] = Math.sqrt(ss / rows.len) + 1e-9;
    }
    // map every element of X back to its statistics row
    const rowOf = broadcastIndex(x.shape, reducedShape(x.shape, axes, true));
    const y = new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const r = rowOf ? rowOf[i] : i;
      y[i] = (x.data[i] - mean[r]) / den[r];
    }
    return [new Tensor(x.dtype, [...x.shape], storeAs(x.dtype, y))];
  },
};

export const statNormalizationOps: Record<string, OpDef> = {
  LayerNormalization: layerNormalization,
  RMSNormalization: rmsNormalization,
  InstanceNormalization: instanceNormalization,
  GroupNormalization: groupNormalization,
  MeanVarianceNormalization: meanVarianceNormalization,
};
