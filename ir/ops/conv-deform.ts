/**
 * DeformConv (opset 19), 2-D: a grouped convolution whose taps are moved by learned fractional
 * offsets and optionally scaled by a mask. Each tap samples X by bilinear interpolation with zeros
 * outside the image (torchvision's deform_conv2d, which the ONNX reference follows); the sampled
 * columns then go through the same GEMM as Conv.
 */
import { allocData, castScalar, isFloat } from '../dtype.js';
import type { Attrs } from '../graph.js';
import { Tensor } from '../tensor.js';
import { type Window, checkedOp, forwardWindow, prod, spatialOf, windowAttrs } from './conv-geometry.js';
import { checkBias, gemmAcc } from './conv-gemm.js';
import type { OpDef } from './registry.js';
import { attrInt, fail, need } from './util.js';

interface DeformDims {
  N: number;
  C: number;
  M: number;
  group: number;
  /** offset_group: channel blocks sharing one set of offsets. */
  og: number;
  win: Window;
  K: number;
  outShape: number[];
}

function deformDims(
  x: readonly number[], w: readonly number[], attrs: Attrs, offset: readonly number[], mask?: readonly number[],
): DeformDims {
  const inSize = spatialOf(x, 'X');
  if (inSize.length !== 2) fail(`DeformConv supports 2-D inputs only, got X of shape [${x.join(',')}]`);
  if (w.length !== 4) fail(`weight W must have rank 4, got [${w.join(',')}]`);
  const group = attrInt(attrs, 'group', 1);
  const og = attrInt(attrs, 'offset_group', 1);
  const [N, C] = x;
  const M = w[0];
  if (group < 1 || C % group !== 0 || M % group !== 0) fail(`group ${group} must divide the ${C} input and ${M} output channels`);
  if (w[1] * group !== C) fail(`channel mismatch: X has ${C} channels but W [${w.join(',')}] expects ${w[1]} x group ${group}`);
  if (og < 1 || C % og !== 0) fail(`offset_group ${og} must divide the ${C} input channels`);
  const win = forwardWindow(inSize, windowAttrs(attrs, 2, w.slice(2)));
  const K = prod(win.kernel);
  const want = [N, og * 2 * K, ...win.outSize];
  if (offset.length !== 4 || offset.some((v, i) => v !== want[i])) fail(`offset must have shape [${want.join(',')}], got [${offset.join(',')}]`);
  const wantMask = [N, og * K, ...win.outSize];
  if (mask && (mask.length !== 4 || mask.some((v, i) => v !== wantMask[i]))) fail(`mask must have shape [${wantMask.join(',')}], got [${mask.join(',')}]`);
  return { N, C, M, group, og, win, K, outShape: [N, M, ...win.outSize] };
}

const deformConv: OpDef = {
  infer(inputs, attrs) {
    const x = need(inputs, 0, 'input X').type;
    const w = need(inputs, 1, 'weight W').type;
    const off = need(inputs, 2, 'offset').type;
    if (!isFloat(x.dtype)) fail(`X must be a floating-point tensor, got ${x.dtype}`);
    const d = deformDims(x.shape, w.shape, attrs, off.shape, inputs[4]?.type.shape);
    const b = inputs[3]?.type;
    checkBias(b?.shape, d.M);
    return [{ dtype: x.dtype, shape: d.outShape }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input X');
    const w = need(inputs, 1, 'weight W');
    const off = need(inputs, 2, 'offset');
    const b = inputs[3];
    const mask = inputs[4];
    const d = deformDims(x.shape, w.shape, attrs, off.shape, mask?.shape);
    const { N, C, M, group, og, win, K } = d;
    const [H, W] = win.inSize;
    const [oH, oW] = win.outSize;
    const [kH, kW] = win.kernel;
    const P = oH * oW;
    const Cg = C / group;
    const Mg = M / group;
    const cPerOg = C / og;
    const xd = x.data;
    const od = off.data;
    const md = mask?.data;
    const col = new Float64Array(C * K * P);
    const acc = new Float64Array(Mg * P);
    const out = allocData(x.dtype, N * M * P);
    const at = (base: number, h: number, ww: number): number => (h >= 0 && h < H && ww >= 0 && ww < W ? xd[base + h * W + ww] : 0);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const g = Math.floor(c / cPerOg);
        const xBase = (n * C + c) * H * W;
        for (let i = 0; i < kH; i++) {
          for (let j = 0; j < kW; j++) {
            const k = i * kW + j;
            const offH = ((n * og + g) * 2 * K + 2 * k) * P;
            const offW = offH + P;
            const mBase = ((n * og + g) * K + k) * P;
            const row = (c * K + k) * P;
            for (let oh = 0; oh < oH; oh++) {
              for (let ow = 0; ow < oW; ow++) {
                const p = oh * oW + ow;
                const h = oh * win.strides[0] - win.padBegin[0] + i * win.dilations[0] + od[offH + p];
                const ww = ow * win.strides[1] - win.padBegin[1] + j * win.dilations[1] + od[offW + p];
                let v = 0;
                if (h > -1 && h < H && ww > -1 && ww < W) {
                  const h0 = Math.floor(h);
                  const w0 = Math.floor(ww);
                  const lh = h - h0;
                  const lw = ww - w0;
                  v = (1 - lh) * (1 - lw) * at(xBase, h0, w0) + (1 - lh) * lw * at(xBase, h0, w0 + 1)
                    + lh * (1 - lw) * at(xBase, h0 + 1, w0) + lh * lw * at(xBase, h0 + 1, w0 + 1);
                }
                col[row + p] = md ? v * md[mBase + p] : v;
              }
            }
          }
        }
      }
      for (let g = 0; g < group; g++) {
        acc.fill(0);
        gemmAcc(Mg, Cg * K, P, w.data, g * Mg * Cg * K, Cg * K, col, g * Cg * K * P, P, acc, 0, P);
        for (let m = 0; m < Mg; m++) {
          const oc = g * Mg + m;
          const bv = b ? b.data[oc] : 0;
          const base = (n * M + oc) * P;
          for (let p = 0; p < P; p++) out[base + p] = castScalar(acc[m * P + p] + bv, x.dtype);
        }
      }
    }
    return [new Tensor(x.dtype, d.outShape, out)];
  },
};

export const deformConvOps: Record<string, OpDef> = { DeformConv: checkedOp(deformConv) };
