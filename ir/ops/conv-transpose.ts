/**
 * ConvTranspose (N-D, grouped, strides, dilations, pads / auto_pad, output_padding, output_shape).
 *
 * The output is the "full" transposed convolution — input i feeds output i*stride + k*dilation
 * through tap k — cropped by pad_begin at the start and sized by the ONNX rules:
 *   out = stride*(in-1) + output_padding + (k-1)*dilation + 1 - pad_begin - pad_end,
 * or `output_shape` / in*stride (SAME_*) with the padding derived from it (SAME_UPPER puts the odd
 * unit at the end, everything else at the start; a negative total pads the end with zeros, like
 * output_padding). Arithmetic: col = W_gᵀ · X_g (GEMM, the shared float32 kernel for float32-stored
 * data), then col2im scatter-add through a table into a float64 output.
 */
import type { TensorData } from '../dtype.js';
import type { Attrs } from '../graph.js';
import { checkedOp, extent, prod, scatterTable, spatialOf, windowAttrs } from './conv-geometry.js';
import { COL_BUDGET, floatConvOp, gemmAccTN } from './conv-gemm.js';
import { matmulF32Strided } from './matmul-kernel.js';
import type { OpDef } from './registry.js';
import { attrInt, attrInts, fail } from './util.js';

interface TransposeDims {
  N: number;
  C: number;
  M: number;
  group: number;
  inSize: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  outSize: number[];
  outShape: number[];
}

/** Checks X [N,C,...] against W [C, M/group, k...] and resolves the output geometry. */
export function convTransposeDims(x: readonly number[], w: readonly number[], attrs: Attrs): TransposeDims {
  const inSize = spatialOf(x, 'X');
  const r = inSize.length;
  if (w.length !== x.length) fail(`weight W of shape [${w.join(',')}] must have the same rank as X [${x.join(',')}]`);
  const group = attrInt(attrs, 'group', 1);
  if (!Number.isInteger(group) || group < 1) fail(`group must be a positive integer, got ${group}`);
  const [N, C] = x;
  if (C % group !== 0) fail(`group ${group} does not divide the ${C} input channels`);
  if (w[0] !== C) fail(`channel mismatch: X has ${C} channels but W [${w.join(',')}] has ${w[0]} (W dim 0 must equal X's channels)`);
  const M = w[1] * group;
  const wa = windowAttrs(attrs, r, w.slice(2));
  const outPad = attrInts(attrs, 'output_padding') ?? new Array<number>(r).fill(0);
  if (outPad.length !== r) fail(`output_padding has ${outPad.length} values, expected ${r}`);
  let outShapeAttr = attrInts(attrs, 'output_shape');
  if (outShapeAttr && outShapeAttr.length === r + 2) outShapeAttr = outShapeAttr.slice(2); // full N,C,... form
  if (outShapeAttr && outShapeAttr.length !== r) fail(`output_shape has ${outShapeAttr.length} values, expected ${r}`);
  const padBegin = new Array<number>(r);
  const outSize = new Array<number>(r);
  for (let d = 0; d < r; d++) {
    const s = wa.strides[d];
    if (!Number.isInteger(outPad[d]) || outPad[d] < 0 || (outPad[d] >= s && outPad[d] >= wa.dilations[d])) {
      fail(`output_padding ${outPad[d]} in spatial dim ${d} must be >= 0 and smaller than the stride ${s} or the dilation ${wa.dilations[d]}`);
    }
    const full = s * (inSize[d] - 1) + outPad[d] + extent(wa.kernel[d], wa.dilations[d]);
    const same = wa.autoPad === 'SAME_UPPER' || wa.autoPad === 'SAME_LOWER';
    if (outShapeAttr || same) {
      const out = outShapeAttr ? outShapeAttr[d] : inSize[d] * s;
      const total = full - out;
      const half = Math.floor(total / 2);
      padBegin[d] = total <= 0 ? 0 : wa.autoPad === 'SAME_UPPER' ? half : total - half;
      outSize[d] = out;
    } else {
      padBegin[d] = wa.pads[d];
      outSize[d] = full - wa.pads[d] - wa.pads[d + r];
    }
    if (!Number.isInteger(outSize[d]) || outSize[d] < 1) fail(`output size ${outSize[d]} in spatial dim ${d} is not positive (check pads / output_shape)`);
  }
  return {
    N, C, M, group, inSize, kernel: wa.kernel, strides: wa.strides, dilations: wa.dilations, padBegin, outSize,
    outShape: [N, M, ...outSize],
  };
}

function convTransposeCore(d: TransposeDims, x: TensorData, w: TensorData): Float64Array {
  const { N, C, M, group } = d;
  const Cg = C / group;
  const Mg = M / group;
  const K = prod(d.kernel);
  const inP = prod(d.inSize);
  const outP = prod(d.outSize);
  const table = scatterTable(d.inSize, d.kernel, d.strides, d.dilations, d.padBegin, d.outSize);
  const y = new Float64Array(N * M * outP);
  const rows = Mg * K;
  const chunk = Math.max(64, Math.min(inP, Math.floor(COL_BUDGET / Math.max(1, rows))));
  const f32 = x instanceof Float32Array && w instanceof Float32Array;
  const col = f32 ? new Float32Array(rows * Math.min(chunk, inP)) : new Float64Array(rows * Math.min(chunk, inP));
  // The float32 kernel wants A with unit column stride, so each group's W_g [Cg, rows] is transposed once.
  const wt = new Float32Array(f32 ? rows * Cg : 0);
  for (let g = 0; g < group; g++) {
    const wBase = g * Cg * rows;
    if (f32) {
      for (let c = 0; c < Cg; c++) for (let i = 0; i < rows; i++) wt[i * Cg + c] = w[wBase + c * rows + i];
    }
    for (let n = 0; n < N; n++) {
      const xBase = (n * C + g * Cg) * inP;
      const yBase = (n * M + g * Mg) * outP;
      for (let p0 = 0; p0 < inP; p0 += chunk) {
        const pt = Math.min(chunk, inP - p0);
        if (f32) {
          matmulF32Strided(wt, 0, Cg, x as Float32Array, xBase + p0, inP, 1, col as Float32Array, 0, pt, rows, Cg, pt);
        } else {
          (col as Float64Array).fill(0, 0, rows * pt);
          gemmAccTN(rows, Cg, pt, w, wBase, rows, x, xBase + p0, inP, col as Float64Array, 0, pt);
        }
        for (let m = 0; m < Mg; m++) {
          const ym = yBase + m * outP;
          for (let k = 0; k < K; k++) {
            const row = (m * K + k) * pt;
            const tk = k * inP + p0;
            for (let j = 0; j < pt; j++) {
              const t = table[tk + j];
              if (t >= 0) y[ym + t] += col[row + j];
            }
          }
        }
      }
    }
  }
  return y;
}

export const convTransposeOps: Record<string, OpDef> = { ConvTranspose: checkedOp(floatConvOp(convTransposeDims, convTransposeCore)) };
