/**
 * Pooling: MaxPool (with the optional int64 Indices output and storage_order), AveragePool
 * (count_include_pad), LpPool, their Global* forms, and MaxUnpool; N-D with strides, dilations,
 * explicit pads or auto_pad, and ceil_mode (see conv-geometry.ts for the output-size rules).
 *
 * Every window op walks one index table ([P][K]: output position x kernel tap) over each N*C plane.
 * Padding never contributes a value: MaxPool ignores it, LpPool treats it as 0, AveragePool counts
 * it in the divisor only with count_include_pad=1, and then only the pads proper — the extra cells a
 * ceil_mode window hangs past the padded input are never counted.
 */
import { type DType, allocData, castScalar, isFloat } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor, stridesOf } from '../tensor.js';
import { OUT, PAD, type Window, checkedOp, forwardWindow, gatherTable, prod, spatialOf, windowAttrs } from './conv-geometry.js';
import type { InferInput, OpDef } from './registry.js';
import { attrFloat, attrInt, attrInts, constValue, fail, need } from './util.js';

/** A resolved pooling window with its table transposed to [P][K] for per-output scans. */
interface PoolPlan {
  win: Window;
  K: number;
  P: number;
  inP: number;
  /** table[p*K + k]: plane offset of tap k for output p, or PAD / OUT. */
  table: Int32Array;
  outShape: number[];
}

function poolWindow(x: readonly number[], attrs: Attrs): Window {
  const inSize = spatialOf(x, 'X');
  const ceil = attrInt(attrs, 'ceil_mode', 0);
  if (ceil !== 0 && ceil !== 1) fail(`ceil_mode must be 0 or 1, got ${ceil}`);
  return forwardWindow(inSize, windowAttrs(attrs, inSize.length), ceil === 1);
}

function poolPlan(x: readonly number[], attrs: Attrs): PoolPlan {
  const win = poolWindow(x, attrs);
  const K = prod(win.kernel);
  const P = prod(win.outSize);
  const byTap = gatherTable(win);
  const table = new Int32Array(K * P);
  for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) table[p * K + k] = byTap[k * P + p];
  return { win, K, P, inP: prod(win.inSize), table, outShape: [x[0], x[1], ...win.outSize] };
}

function xType(inputs: (InferInput | undefined)[]): StaticType {
  return need(inputs, 0, 'input X').type;
}

function requireFloatX(t: StaticType): void {
  if (!isFloat(t.dtype)) fail(`X must be a floating-point tensor, got ${t.dtype}`);
}

const NUMERIC_MAX: readonly DType[] = ['float32', 'float16', 'bfloat16', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];

/** Flat row-major plane offset -> column-major offset (MaxPool storage_order=1). */
function columnMajor(off: number, dims: number[]): number {
  let rest = off;
  let r = 0;
  let stride = 1;
  const coords = new Array<number>(dims.length);
  for (let d = dims.length - 1; d >= 0; d--) {
    coords[d] = rest % dims[d];
    rest = Math.floor(rest / dims[d]);
  }
  for (let d = 0; d < dims.length; d++) {
    r += coords[d] * stride;
    stride *= dims[d];
  }
  return r;
}

const maxPool: OpDef = {
  infer(inputs, attrs, info) {
    const x = xType(inputs);
    if (!NUMERIC_MAX.includes(x.dtype)) fail(`X must be a numeric tensor, got ${x.dtype}`);
    const win = poolWindow(x.shape, attrs);
    const shape = [x.shape[0], x.shape[1], ...win.outSize];
    const out: StaticType[] = [{ dtype: x.dtype, shape }];
    if (info.numOutputs > 1) out.push({ dtype: 'int64', shape: [...shape] });
    return out;
  },
  evaluate(inputs, attrs, info) {
    const x = need(inputs, 0, 'input X');
    const order = attrInt(attrs, 'storage_order', 0);
    if (order !== 0 && order !== 1) fail(`storage_order must be 0 or 1, got ${order}`);
    const { K, P, inP, table, outShape, win } = poolPlan(x.shape, attrs);
    const planes = x.shape[0] * x.shape[1];
    const y = allocData(x.dtype, planes * P);
    const wantIdx = info.numOutputs > 1;
    const idx = new Float64Array(wantIdx ? planes * P : 0);
    const xd = x.data;
    for (let c = 0; c < planes; c++) {
      const base = c * inP;
      for (let p = 0; p < P; p++) {
        let best = -Infinity;
        let at = -1;
        for (let k = p * K, e = k + K; k < e; k++) {
          const t = table[k];
          if (t < 0) continue;
          const v = xd[base + t];
          if (v > best || at < 0) {
            best = v;
            at = t;
          }
        }
        y[c * P + p] = at < 0 ? castScalar(-Infinity, x.dtype) : best;
        if (wantIdx) idx[c * P + p] = at < 0 ? -1 : base + (order === 0 ? at : columnMajor(at, win.inSize));
      }
    }
    const res = [new Tensor(x.dtype, outShape, y)];
    if (wantIdx) res.push(new Tensor('int64', [...outShape], idx));
    return res;
  },
};

/** AveragePool and LpPool: a sum over taps, then a per-output finish. */
function sumPool(x: Tensor, attrs: Attrs, lp: number | null): Tensor {
  const cip = attrInt(attrs, 'count_include_pad', 0);
  const { K, P, inP, table, outShape } = poolPlan(x.shape, attrs);
  // Divisor of each output: its taps inside the input, plus explicit padding with count_include_pad.
  const count = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    let n = 0;
    for (let k = p * K; k < (p + 1) * K; k++) {
      const t = table[k];
      if (t >= 0 || (cip && t === PAD)) n++;
    }
    count[p] = n;
  }
  const planes = x.shape[0] * x.shape[1];
  const y = allocData(x.dtype, planes * P);
  const xd = x.data;
  for (let c = 0; c < planes; c++) {
    const base = c * inP;
    for (let p = 0; p < P; p++) {
      let s = 0;
      for (let k = p * K, e = k + K; k < e; k++) {
        const t = table[k];
        if (t === OUT || t === PAD) continue;
        const v = xd[base + t];
        s += lp === null ? v : lp === 1 ? Math.abs(v) : lp === 2 ? v * v : Math.abs(v) ** lp;
      }
      const r = lp === null ? s / count[p] : lp === 1 ? s : lp === 2 ? Math.sqrt(s) : s ** (1 / lp);
      y[c * P + p] = castScalar(r, x.dtype);
    }
  }
  return new Tensor(x.dtype, outShape, y);
}

function lpOf(attrs: Attrs): number {
  const p = attrFloat(attrs, 'p', 2);
  if (!(p > 0)) fail(`p must be positive, got ${p}`);
  return p;
}

function windowPool(kind: 'avg' | 'lp'): OpDef {
  return {
    infer(inputs, attrs) {
      const x = xType(inputs);
      requireFloatX(x);
      if (kind === 'lp') lpOf(attrs);
      const win = poolWindow(x.shape, attrs);
      return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...win.outSize] }];
    },
    evaluate(inputs, attrs) {
      const x = need(inputs, 0, 'input X');
      return [sumPool(x, attrs, kind === 'lp' ? lpOf(attrs) : null)];
    },
  };
}

/** Global pools reduce every spatial dim of each N*C plane to 1. */
function globalPool(kind: 'avg' | 'max' | 'lp'): OpDef {
  const shapeOf = (s: readonly number[]) => [s[0], s[1], ...spatialOf(s, 'X').map(() => 1)];
  return {
    infer(inputs, attrs) {
      const x = xType(inputs);
      if (kind !== 'max') requireFloatX(x);
      else if (!NUMERIC_MAX.includes(x.dtype)) fail(`X must be a numeric tensor, got ${x.dtype}`);
      if (kind === 'lp') lpOf(attrs);
      return [{ dtype: x.dtype, shape: shapeOf(x.shape) }];
    },
    evaluate(inputs, attrs) {
      const x = need(inputs, 0, 'input X');
      const outShape = shapeOf(x.shape);
      const planes = x.shape[0] * x.shape[1];
      const n = prod(x.shape.slice(2));
      const p = kind === 'lp' ? lpOf(attrs) : 1;
      const y = allocData(x.dtype, planes);
      const xd = x.data;
      for (let c = 0; c < planes; c++) {
        let acc = kind === 'max' ? -Infinity : 0;
        for (let i = c * n, e = i + n; i < e; i++) {
          const v = xd[i];
          if (kind === 'max') acc = v > acc ? v : acc;
          else if (kind === 'avg') acc += v;
          else acc += p === 2 ? v * v : Math.abs(v) ** p;
        }
        y[c] = castScalar(kind === 'avg' ? acc / n : kind === 'lp' ? acc ** (1 / p) : acc, x.dtype);
      }
      return [new Tensor(x.dtype, outShape, y)];
    },
  };
}

/**
 * Shapes of MaxUnpool: `base` is the inverse of the pool's size rule, which the indices address;
 * `out` is the `output_shape` input when given (at least `base`; the extra cells at the end of each
 * spatial dim stay 0, as in the ONNX reference), else `base`.
 */
function unpoolShapes(x: readonly number[], attrs: Attrs, given: Tensor | undefined): { base: number[]; out: number[] } {
  const inSize = spatialOf(x, 'X');
  const r = inSize.length;
  const kernel = attrInts(attrs, 'kernel_shape');
  if (!kernel) fail("missing required attribute 'kernel_shape'");
  const wa = windowAttrs(attrs, r);
  if (wa.autoPad !== 'NOTSET') fail('MaxUnpool has no auto_pad');
  const base = [x[0], x[1], ...inSize.map((n, d) => (n - 1) * wa.strides[d] - wa.pads[d] - wa.pads[d + r] + kernel[d])];
  if (base.some((v) => v < 1)) fail(`unpooled shape [${base.join(',')}] is not positive (check pads)`);
  if (!given) return { base, out: base };
  const s = given.toArray();
  if (s.length !== x.length || s[0] !== x[0] || s[1] !== x[1] || s.some((v) => !Number.isInteger(v) || v < 1)) {
    fail(`output_shape [${s.join(',')}] must be [N=${x[0]}, C=${x[1]}, ${r} positive spatial dims]`);
  }
  for (let d = 2; d < x.length; d++) {
    if (s[d] < base[d]) fail(`output_shape [${s.join(',')}] is smaller than the unpooled shape [${base.join(',')}]`);
  }
  return { base, out: s };
}

const maxUnpool: OpDef = {
  infer(inputs, attrs) {
    const x = xType(inputs);
    const i = need(inputs, 1, 'indices I').type;
    if (i.dtype !== 'int64') fail(`indices I must be int64, got ${i.dtype}`);
    if (i.shape.length !== x.shape.length || i.shape.some((v, k) => v !== x.shape[k])) {
      fail(`indices I [${i.shape.join(',')}] must have the shape of X [${x.shape.join(',')}]`);
    }
    const given = inputs[2] ? constValue(inputs, 2, 'output_shape') : undefined;
    return [{ dtype: x.dtype, shape: unpoolShapes(x.shape, attrs, given).out }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input X');
    const ind = need(inputs, 1, 'indices I');
    if (ind.size !== x.size) fail(`indices I [${ind.shape.join(',')}] must have the shape of X [${x.shape.join(',')}]`);
    const { base, out } = unpoolShapes(x.shape, attrs, inputs[2]);
    const total = prod(base);
    // Scatter into the base shape, then place it at the origin of the output's row-major layout.
    const outStrides = stridesOf(out);
    const baseStrides = stridesOf(base);
    const y = allocData(x.dtype, prod(out));
    for (let k = 0; k < x.size; k++) {
      const at = ind.data[k];
      if (!Number.isInteger(at) || at < 0 || at >= total) fail(`index ${at} in I is outside the unpooled shape [${base.join(',')}]`);
      let rest = at;
      let o = 0;
      for (let d = 0; d < base.length; d++) {
        const c = Math.floor(rest / baseStrides[d]);
        rest -= c * baseStrides[d];
        o += c * outStrides[d];
      }
      y[o] = x.data[k];
    }
    return [new Tensor(x.dtype, out, y)];
  },
};

export const poolOps: Record<string, OpDef> = {
  MaxPool: checkedOp(maxPool),
  AveragePool: checkedOp(windowPool('avg')),
  LpPool: checkedOp(windowPool('lp')),
  GlobalAveragePool: checkedOp(globalPool('avg')),
  GlobalMaxPool: checkedOp(globalPool('max')),
  GlobalLpPool: checkedOp(globalPool('lp')),
  MaxUnpool: checkedOp(maxUnpool),
};
