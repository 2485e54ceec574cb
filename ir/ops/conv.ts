/**
 * Convolutions: Conv, ConvInteger and QLinearConv (N-D, grouped, with strides, dilations, explicit
 * pads or auto_pad); ConvTranspose, DeformConv and CausalConvWithState live in conv-*.ts and are
 * re-exported here. The forward ops share `convDims` for checking shapes and `convCore` (im2col +
 * GEMM) for the arithmetic; the integer variants subtract zero points first, so padding reads the
 * zero point, as in ONNX.
 */
import { type DType, allocData } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor } from '../tensor.js';
import { causalConvOps } from './conv-causal.js';
import { convTransposeOps } from './conv-transpose.js';
import { deformConvOps } from './conv-deform.js';
import { checkedOp, forwardWindow, prod, spatialOf, windowAttrs } from './conv-geometry.js';
import { type ConvDims, checkBias, convCore, finish, floatConvOp } from './conv-gemm.js';
import type { InferInput, OpDef } from './registry.js';
import { attrInt, fail, need } from './util.js';

/** Checks X [N,C,...] against W [M,C/group,k...] and resolves the window. */
export function convDims(x: readonly number[], w: readonly number[], attrs: Attrs): ConvDims & { outShape: number[] } {
  const inSize = spatialOf(x, 'X');
  if (w.length !== x.length) fail(`weight W of shape [${w.join(',')}] must have the same rank as X [${x.join(',')}]`);
  const group = attrInt(attrs, 'group', 1);
  if (!Number.isInteger(group) || group < 1) fail(`group must be a positive integer, got ${group}`);
  const [N, C] = x;
  const M = w[0];
  if (C % group !== 0) fail(`group ${group} does not divide the ${C} input channels`);
  if (M % group !== 0) fail(`group ${group} does not divide the ${M} output channels (W dim 0)`);
  if (w[1] * group !== C) {
    fail(`channel mismatch: X has ${C} channels but W [${w.join(',')}] expects ${w[1]} x group ${group} = ${w[1] * group}`);
  }
  const win = forwardWindow(inSize, windowAttrs(attrs, inSize.length, w.slice(2)));
  return { N, C, M, group, win, outShape: [N, M, ...win.outSize] };
}

function typeOf(inputs: (InferInput | undefined)[], i: number, what: string): StaticType {
  return need(inputs, i, what).type;
}

const QUANT: readonly DType[] = ['uint8', 'int8'];

/** Zero point as a per-tensor scalar or a per-channel vector of length `n`; returns n values. */
function zeroPoints(t: Tensor | undefined, n: number, what: string): Float64Array {
  const z = new Float64Array(n);
  if (!t) return z;
  if (t.size === 1) z.fill(t.data[0]);
  else if (t.size === n && t.rank === 1) z.set(t.data);
  else fail(`${what} must be a scalar or have ${n} elements, got shape [${t.shape.join(',')}]`);
  return z;
}

function checkScalarOrVec(t: StaticType | undefined, n: number, what: string): void {
  if (!t) return;
  const size = prod(t.shape);
  if (size !== 1 && !(t.shape.length === 1 && size === n)) fail(`${what} must be a scalar or have ${n} elements, got shape [${t.shape.join(',')}]`);
}

/** x - zx (one zero point) and w - zw[m] (per output channel), as float64. */
function centered(x: Tensor, xz: Tensor | undefined, w: Tensor, wz: Tensor | undefined, M: number): [Float64Array, Float64Array] {
  const zx = zeroPoints(xz, 1, 'x_zero_point')[0];
  const zw = zeroPoints(wz, M, 'w_zero_point');
  const xc = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) xc[i] = x.data[i] - zx;
  const per = w.size / M;
  const wc = new Float64Array(w.size);
  for (let m = 0; m < M; m++) for (let i = m * per; i < (m + 1) * per; i++) wc[i] = w.data[i] - zw[m];
  return [xc, wc];
}

function checkQuant(t: StaticType, what: string): void {
  if (!QUANT.includes(t.dtype)) fail(`${what} must be uint8 or int8, got ${t.dtype}`);
}

const convInteger: OpDef = {
  infer(inputs, attrs) {
    const x = typeOf(inputs, 0, 'input x');
    const w = typeOf(inputs, 1, 'weight w');
    checkQuant(x, 'x');
    checkQuant(w, 'w');
    const d = convDims(x.shape, w.shape, attrs);
    checkScalarOrVec(inputs[2]?.type, 1, 'x_zero_point');
    checkScalarOrVec(inputs[3]?.type, d.M, 'w_zero_point');
    return [{ dtype: 'int32', shape: d.outShape }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input x');
    const w = need(inputs, 1, 'weight w');
    const d = convDims(x.shape, w.shape, attrs);
    const [xc, wc] = centered(x, inputs[2], w, inputs[3], d.M);
    return [finish(convCore(d, xc, wc), d.outShape, 'int32')];
  },
};

const qlinearConv: OpDef = {
  infer(inputs, attrs) {
    const x = typeOf(inputs, 0, 'input x');
    const w = typeOf(inputs, 3, 'weight w');
    checkQuant(x, 'x');
    checkQuant(w, 'w');
    const d = convDims(x.shape, w.shape, attrs);
    for (const [i, what] of [[1, 'x_scale'], [6, 'y_scale']] as const) checkScalarOrVec(typeOf(inputs, i, what), 1, what);
    checkScalarOrVec(typeOf(inputs, 4, 'w_scale'), d.M, 'w_scale');
    checkScalarOrVec(inputs[2]?.type, 1, 'x_zero_point');
    checkScalarOrVec(inputs[5]?.type, d.M, 'w_zero_point');
    checkScalarOrVec(inputs[7]?.type, 1, 'y_zero_point');
    checkBias(inputs[8]?.type.shape, d.M);
    const yz = inputs[7]?.type;
    return [{ dtype: yz ? yz.dtype : x.dtype, shape: d.outShape }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input x');
    const w = need(inputs, 3, 'weight w');
    const d = convDims(x.shape, w.shape, attrs);
    const [xc, wc] = centered(x, inputs[2], w, inputs[5], d.M);
    const acc = convCore(d, xc, wc);
    const xs = need(inputs, 1, 'x_scale').data[0];
    const ws = zeroPoints(need(inputs, 4, 'w_scale'), d.M, 'w_scale');
    const ys = need(inputs, 6, 'y_scale').data[0];
    const yzT = inputs[7];
    const yz = yzT ? yzT.data[0] : 0;
    const dt: DType = yzT ? yzT.dtype : x.dtype;
    const [lo, hi] = dt === 'uint8' ? [0, 255] : [-128, 127];
    const bias = inputs[8];
    checkBias(bias?.shape, d.M);
    const P = prod(d.win.outSize);
    const out = allocData(dt, acc.length);
    for (let n = 0; n < d.N; n++) {
      for (let m = 0; m < d.M; m++) {
        // The real multiplier is formed in float32, as the ONNX reference and onnxruntime do.
        const scale = Math.fround(Math.fround(xs * ws[m]) / ys);
        const bv = bias ? bias.data[m] : 0;
        for (let p = (n * d.M + m) * P, e = p + P; p < e; p++) {
          const v = roundHalfEven(Math.fround((acc[p] + bv) * scale)) + yz;
          out[p] = v < lo ? lo : v > hi ? hi : v;
        }
      }
    }
    return [new Tensor(dt, d.outShape, out)];
  },
};

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const convOps: Record<string, OpDef> = {
  Conv: checkedOp(floatConvOp(convDims, convCore)),
  ConvInteger: checkedOp(convInteger),
  QLinearConv: checkedOp(qlinearConv),
  ...convTransposeOps,
  ...deformConvOps,
  ...causalConvOps,
};
