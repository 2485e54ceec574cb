/**
 * Selection ops whose result depends on data (graph level, ONNX semantics): NonZero, Compress,
 * TopK, Unique. NonZero, Compress and Unique have data-dependent output shapes, so `infer` needs the
 * (constant) input value and raises W2003 otherwise; TopK needs the value of k.
 *
 * Ordering is deterministic: TopK breaks ties by the lower index (as ONNX requires), NaN sorts above
 * every number, and Unique sorts slices lexicographically.
 */
import type { Attrs, StaticType } from '../graph.js';
import { Tensor, stridesOf } from '../tensor.js';
import type { OpDef } from './registry.js';
import { defineOp, gatherAxes, prod, rampOffsets, scalarValue, shapeStr } from './shape-util.js';
import { attrInt, constValue, fail, need, normAxis } from './util.js';

function countNonZero(t: Tensor): number {
  let n = 0;
  for (let i = 0; i < t.size; i++) if (t.data[i] !== 0) n++;
  return n;
}

const NonZero = defineOp(
  (inputs) => {
    const x = constValue(inputs, 0, 'the input');
    return [{ dtype: 'int64', shape: [Math.max(1, x.rank), countNonZero(x)] }];
  },
  (inputs, _a, _i, out) => {
    const x = need(inputs, 0);
    const [rank, nnz] = out[0].shape;
    const t = Tensor.zeros('int64', out[0].shape);
    const shape = x.rank === 0 ? [1] : x.shape;
    const cnt = new Array<number>(rank).fill(0);
    let j = 0;
    for (let p = 0; p < x.size; p++) {
      if (x.data[p] !== 0) {
        for (let d = 0; d < rank; d++) t.data[d * nnz + j] = cnt[d];
        j++;
      }
      for (let d = rank - 1; d >= 0; d--) {
        if (++cnt[d] < shape[d]) break;
        cnt[d] = 0;
      }
    }
    return [t];
  },
);

/** Compress: the selected positions along the axis (or along the flattened input). */
function compressPlan(x: { shape: readonly number[] }, cond: Tensor, attrs: Attrs): { axis: number | undefined; picked: number[] } {
  if (cond.rank !== 1) fail(`condition must be 1-D, got shape ${shapeStr(cond.shape)}`);
  const a = attrInt(attrs, 'axis');
  const axis = a === undefined ? undefined : normAxis(a, x.shape.length);
  const dim = axis === undefined ? prod(x.shape) : x.shape[axis];
  const picked: number[] = [];
  for (let i = 0; i < cond.size; i++) {
    if (cond.data[i] === 0) continue;
    if (i >= dim) fail(`condition selects position ${i} but the axis has only ${dim} elements`);
    picked.push(i);
  }
  return { axis, picked };
}

const Compress = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const { axis, picked } = compressPlan(x, constValue(inputs, 1, 'the condition input'), attrs);
    if (axis === undefined) return [{ dtype: x.dtype, shape: [picked.length] }];
    const shape = [...x.shape];
    shape[axis] = picked.length;
    return [{ dtype: x.dtype, shape }];
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const { axis, picked } = compressPlan(x, need(inputs, 1), attrs);
    if (axis === undefined) return [gatherAxes(x.data, x.dtype, out[0].shape, [Int32Array.from(picked)])];
    const st = stridesOf(x.shape);
    const offs = out[0].shape.map((n, d) => (d === axis ? Int32Array.from(picked, (p) => p * st[d]) : rampOffsets(n, st[d])));
    return [gatherAxes(x.data, x.dtype, out[0].shape, offs)];
  },
);

const TopK = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const axis = normAxis(attrInt(attrs, 'axis', -1), x.shape.length);
    const k = scalarValue(constValue(inputs, 1, 'the K input'), 'K');
    if (!Number.isInteger(k) || k < 0 || k > x.shape[axis]) fail(`K = ${k} must be in [0, ${x.shape[axis]}] (the size of axis ${axis})`);
    const shape = [...x.shape];
    shape[axis] = k;
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape: [...shape] }];
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const axis = normAxis(attrInt(attrs, 'axis', -1), x.rank);
    const largest = attrInt(attrs, 'largest', 1) !== 0;
    const k = out[0].shape[axis];
    const n = x.shape[axis];
    const outer = prod(x.shape, 0, axis);
    const inner = prod(x.shape, axis + 1);
    const values = Tensor.zeros(x.dtype, out[0].shape);
    const indices = Tensor.zeros('int64', out[1].shape);
    const keys = new Float64Array(n);
    const order = new Int32Array(n);
    // NaN ranks above every number; ties keep the lower index first.
    const cmp = (a: number, b: number): number => {
      const va = keys[a];
      const vb = keys[b];
      const na = Number.isNaN(va);
      const nb = Number.isNaN(vb);
      let c = na || nb ? (na ? 1 : 0) - (nb ? 1 : 0) : va < vb ? -1 : va > vb ? 1 : 0;
      if (largest) c = -c;
      return c || a - b;
    };
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        for (let j = 0; j < n; j++) {
          keys[j] = x.data[base + j * inner];
          order[j] = j;
        }
        if (k * 4 < n) selectBest(order, n, k, cmp);
        else order.sort(cmp);
        const ob = o * k * inner + i;
        for (let j = 0; j < k; j++) {
          values.data[ob + j * inner] = keys[order[j]];
          indices.data[ob + j * inner] = order[j];
        }
      }
    }
    return [values, indices];
  },
);

/**
 * Leaves the k best of 0..n-1 (by `cmp`, best first) in order[0..k): one pass with binary insertion
 * into a sorted prefix, O(n log k) compares when k is small (e.g. top-50 over a 32k vocabulary).
 */
function selectBest(order: Int32Array, n: number, k: number, cmp: (a: number, b: number) => number): void {
  let c = 0;
  for (let j = 0; j < n; j++) {
    if (c === k && (k === 0 || cmp(j, order[k - 1]) >= 0)) continue;
    let lo = 0;
    let hi = c;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(j, order[mid]) < 0) hi = mid;
      else lo = mid + 1;
    }
    order.copyWithin(lo + 1, lo, Math.min(c, k - 1));
    order[lo] = j;
    if (c < k) c++;
  }
}

interface UniquePlan {
  axis: number | undefined;
  /** Input slice index of each unique slice, in output order. */
  firsts: number[];
  inverse: number[];
  counts: number[];
}

/** Unique slices along `axis` (elements when no axis), in first-occurrence or sorted order. */
function uniquePlan(x: Tensor, attrs: Attrs): UniquePlan {
  const a = attrInt(attrs, 'axis');
  const axis = a === undefined ? undefined : normAxis(a, x.rank);
  const n = axis === undefined ? x.size : x.shape[axis];
  const outer = axis === undefined ? 1 : prod(x.shape, 0, axis);
  const inner = axis === undefined ? 1 : prod(x.shape, axis + 1);
  const slices: number[][] = [];
  for (let s = 0; s < n; s++) {
    const v: number[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) v.push(x.data[(o * n + s) * inner + i]);
    slices.push(v);
  }
  const ids = new Map<string, number>();
  const firsts: number[] = [];
  const idOf = slices.map((v, s) => {
    const key = v.join(',');
    let id = ids.get(key);
    if (id === undefined) {
      id = firsts.length;
      ids.set(key, id);
      firsts.push(s);
    }
    return id;
  });
  const order = firsts.map((_, id) => id);
  if (attrInt(attrs, 'sorted', 1) !== 0) {
    order.sort((p, q) => {
      const u = slices[firsts[p]];
      const w = slices[firsts[q]];
      for (let i = 0; i < u.length; i++) if (u[i] !== w[i]) return u[i] < w[i] ? -1 : 1;
      return 0;
    });
  }
  const pos = new Array<number>(order.length);
  order.forEach((id, p) => (pos[id] = p));
  const counts = new Array<number>(order.length).fill(0);
  const inverse = idOf.map((id) => {
    counts[pos[id]]++;
    return pos[id];
  });
  return { axis, firsts: order.map((id) => firsts[id]), inverse, counts };
}

const Unique = defineOp(
  (inputs, attrs, info) => {
    const x = constValue(inputs, 0, 'the input');
    const { axis, firsts, inverse } = uniquePlan(x, attrs);
    const u = firsts.length;
    const shape = axis === undefined ? [u] : x.shape.map((d, i) => (i === axis ? u : d));
    const types: StaticType[] = [
      { dtype: x.dtype, shape },
      { dtype: 'int64', shape: [u] },
      { dtype: 'int64', shape: [inverse.length] },
      { dtype: 'int64', shape: [u] },
    ];
    return types.slice(0, Math.max(1, info.numOutputs));
  },
  (inputs, attrs, _info, out) => {
    const x = need(inputs, 0);
    const { axis, firsts, inverse, counts } = uniquePlan(x, attrs);
    let y: Tensor;
    if (axis === undefined) y = gatherAxes(x.data, x.dtype, out[0].shape, [Int32Array.from(firsts)]);
    else {
      const st = stridesOf(x.shape);
      const offs = out[0].shape.map((n, d) => (d === axis ? Int32Array.from(firsts, (f) => f * st[d]) : rampOffsets(n, st[d])));
      y = gatherAxes(x.data, x.dtype, out[0].shape, offs);
    }
    return [y, Tensor.from('int64', [firsts.length], firsts), Tensor.from('int64', [inverse.length], inverse), Tensor.from('int64', [counts.length], counts)];
  },
);

export const selectOps: Record<string, OpDef> = { NonZero, Compress, TopK, Unique };
