/**
 * Sliding-window geometry shared by Conv, ConvTranspose and the pooling ops: reading the window
 * attributes (kernel_shape, strides, dilations, pads, auto_pad), the output-size rules of ONNX
 * (explicit pads, SAME_UPPER / SAME_LOWER, VALID, ceil_mode), and the index tables that let the
 * kernels run as flat typed-array loops.
 *
 * An index table has one row per kernel position (row-major over the kernel dims) and one column per
 * output position (gather tables) or input position (scatter tables). An entry is a row-major offset
 * into one spatial plane, or a negative code: PAD (-2) for a tap that falls in explicit padding, OUT
 * (-1) for a tap beyond the padded input (only ceil_mode windows reach there). The tables depend only
 * on the geometry, so one table serves every batch and channel.
 */
import type { Attrs } from '../graph.js';
import type { OpDef } from './registry.js';
import { attrInts, attrString, fail } from './util.js';

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

/** Table code: the tap lies outside the input and outside the explicit padding. */
export const OUT = -1;
/** Table code: the tap lies in the explicit (or auto) padding. */
export const PAD = -2;

/** The window attributes of a node, checked against the number of spatial dims. */
export interface WindowAttrs {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}] as in ONNX; zeros when auto_pad is set. */
  pads: number[];
  autoPad: AutoPad;
}

/** A resolved window: everything needed to run a kernel over one spatial plane. */
export interface Window {
  inSize: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  outSize: number[];
}

function intsAttr(attrs: Attrs, name: string, len: number, dflt: number, min: number): number[] {
  const v = attrInts(attrs, name);
  if (v === undefined) return new Array<number>(len).fill(dflt);
  if (v.length !== len) fail(`attribute '${name}' has ${v.length} values, expected ${len} for ${len / (name === 'pads' ? 2 : 1)} spatial dims`);
  for (const x of v) if (!Number.isInteger(x) || x < min) fail(`attribute '${name}' values must be integers >= ${min}, got [${v.join(',')}]`);
  return v;
}

/**
 * Reads the window attributes. `weightKernel` is the kernel taken from the weight's shape (Conv,
 * ConvTranspose); pools pass undefined and must carry kernel_shape.
 */
export function windowAttrs(attrs: Attrs, rank: number, weightKernel?: number[]): WindowAttrs {
  let kernel = attrInts(attrs, 'kernel_shape');
  if (kernel === undefined) {
    if (!weightKernel) fail("missing required attribute 'kernel_shape'");
    kernel = weightKernel;
  }
  if (kernel.length !== rank) fail(`kernel_shape [${kernel.join(',')}] has ${kernel.length} dims, but the input has ${rank} spatial dims`);
  for (const k of kernel) if (!Number.isInteger(k) || k < 1) fail(`kernel_shape values must be >= 1, got [${kernel.join(',')}]`);
  if (weightKernel && kernel.some((k, i) => k !== weightKernel[i])) {
    fail(`kernel_shape [${kernel.join(',')}] disagrees with the weight's spatial shape [${weightKernel.join(',')}]`);
  }
  const autoPad = attrString(attrs, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER' && autoPad !== 'VALID') {
    fail(`auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '${autoPad}'`);
  }
  return {
    kernel,
    strides: intsAttr(attrs, 'strides', rank, 1, 1),
    dilations: intsAttr(attrs, 'dilations', rank, 1, 1),
    pads: autoPad === 'NOTSET' ? intsAttr(attrs, 'pads', 2 * rank, 0, 0) : new Array<number>(2 * rank).fill(0),
    autoPad,
  };
}

/** Extent of a dilated kernel. */
export const extent = (k: number, d: number): number => (k - 1) * d + 1;

/**
 * The window of a forward op (Conv, pools) over spatial input `inSize`. `ceilMode` rounds the output
 * size up, dropping a last window that would start beyond the input and its left padding (the rule of
 * ONNX opset 19 and PyTorch). Throws when the kernel does not fit.
 */
export function forwardWindow(inSize: number[], wa: WindowAttrs, ceilMode = false): Window {
  const r = inSize.length;
  const padBegin = new Array<number>(r);
  const padEnd = new Array<number>(r);
  const outSize = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const n = inSize[i];
    const s = wa.strides[i];
    const ek = extent(wa.kernel[i], wa.dilations[i]);
    if (wa.autoPad === 'SAME_UPPER' || wa.autoPad === 'SAME_LOWER') {
      const out = Math.ceil(n / s);
      const total = Math.max(0, (out - 1) * s + ek - n);
      const small = Math.floor(total / 2);
      padBegin[i] = wa.autoPad === 'SAME_UPPER' ? small : total - small;
      padEnd[i] = total - padBegin[i];
      outSize[i] = out;
    } else {
      padBegin[i] = wa.pads[i];
      padEnd[i] = wa.pads[i + r];
      const span = n + padBegin[i] + padEnd[i] - ek;
      if (span < 0) {
        fail(`kernel extent ${ek} (kernel ${wa.kernel[i]}, dilation ${wa.dilations[i]}) exceeds the padded input size ${n + padBegin[i] + padEnd[i]} in spatial dim ${i}`);
      }
      let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
      if (ceilMode && (out - 1) * s >= n + padBegin[i]) out--;
      outSize[i] = out;
    }
  }
  return { inSize: [...inSize], kernel: wa.kernel, strides: wa.strides, dilations: wa.dilations, padBegin, padEnd, outSize };
}

/**
 * Combines per-dim maps into one table. `maps[d][k * cols_d + c]` is a coordinate in [0, size_d) or a
 * negative code; the result, `[K][C]` row-major with K = prod rows_d and C = prod cols_d, holds the
 * row-major offset over `size`, or the most severe code of any dim (OUT beats PAD).
 */
function combine(maps: Int32Array[], rows: number[], cols: number[], size: number[]): Int32Array {
  let table = new Int32Array([0]);
  let K = 1;
  let C = 1;
  for (let d = 0; d < maps.length; d++) {
    const kd = rows[d];
    const cd = cols[d];
    const sd = size[d];
    const m = maps[d];
    const next = new Int32Array(K * kd * C * cd);
    let w = 0;
    for (let k = 0; k < K; k++) {
      for (let kk = 0; kk < kd; kk++) {
        for (let c = 0; c < C; c++) {
          const prev = table[k * C + c];
          const mrow = kk * cd;
          for (let cc = 0; cc < cd; cc++) {
            const v = m[mrow + cc];
            next[w++] = prev === OUT || v === OUT ? OUT : prev === PAD || v === PAD ? PAD : prev * sd + v;
          }
        }
      }
    }
    table = next;
    K *= kd;
    C *= cd;
  }
  return table;
}

/** Gather table of a forward window: `[K][P]`, entry = input plane offset of tap k for output p. */
export function gatherTable(w: Window): Int32Array {
  const maps = w.inSize.map((n, d) => {
    const k = w.kernel[d];
    const out = w.outSize[d];
    const m = new Int32Array(k * out);
    for (let kk = 0; kk < k; kk++) {
      for (let o = 0; o < out; o++) {
        const x = o * w.strides[d] - w.padBegin[d] + kk * w.dilations[d];
        m[kk * out + o] = x >= 0 && x < n ? x : x >= -w.padBegin[d] && x < n + w.padEnd[d] ? PAD : OUT;
      }
    }
    return m;
  });
  return combine(maps, w.kernel, w.outSize, w.inSize);
}

/**
 * Scatter table of a transposed window: `[K][I]` (I = input positions), entry = output plane offset
 * that input i feeds through tap k, or OUT when it lands in the cropped border.
 */
export function scatterTable(
  inSize: number[], kernel: number[], strides: number[], dilations: number[], padBegin: number[], outSize: number[],
): Int32Array {
  const maps = inSize.map((n, d) => {
    const k = kernel[d];
    const m = new Int32Array(k * n);
    for (let kk = 0; kk < k; kk++) {
      for (let i = 0; i < n; i++) {
        const o = i * strides[d] + kk * dilations[d] - padBegin[d];
        m[kk * n + i] = o >= 0 && o < outSize[d] ? o : OUT;
      }
    }
    return m;
  });
  return combine(maps, kernel, inSize, outSize);
}

/** Product of a list of dims. */
export function prod(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/** Checks an N x C x spatial input; returns its spatial dims. */
export function spatialOf(shape: readonly number[], what = 'input'): number[] {
  if (shape.length < 3) fail(`${what} must have rank >= 3 (N x C x spatial dims), got shape [${shape.join(',')}]`);
  return shape.slice(2);
}

/**
 * Wraps an op so that `evaluate` first runs `infer` on its tensors' types: the evaluator then rejects
 * exactly the inputs shape inference rejects, with the same diagnostic.
 */
export function checkedOp(def: OpDef): OpDef {
  return {
    infer: def.infer,
    evaluate(inputs, attrs, info) {
      def.infer(inputs.map((t) => t && { type: { dtype: t.dtype, shape: [...t.shape] }, value: t }), attrs, info);
      return def.evaluate(inputs, attrs, info);
    },
  };
}
