// Indexing ops: hand-computed values, shape rules and diagnostics for Slice, Pad, CenterCropPad, Gather*,
// Scatter*, OneHot, DepthToSpace, SpaceToDepth, Trilu, CumSum, ReverseSequence, NonZero, Compress,
// TopK and Unique.
import { describe, expect, it } from 'vitest';
import type { DType } from '../ir/dtype.js';
import type { Attrs, StaticType } from '../ir/graph.js';
import { indexingOps } from '../ir/ops/indexing.js';
import { OpError } from '../ir/ops/registry.js';
import { shapeOps } from '../ir/ops/shape.js';
import { Tensor } from '../ir/tensor.js';

type In = Tensor | undefined;

function op(name: string) {
  const d = shapeOps[name] ?? indexingOps[name];
  if (!d) throw new Error(`op ${name} not registered`);
  return d;
}
function run(name: string, inputs: In[], attrs: Attrs = {}, numOutputs = 1, opset = 21): Tensor[] {
  return op(name).evaluate(inputs, attrs, { name: 'n', opset, numOutputs });
}
function infer(name: string, inputs: In[], attrs: Attrs = {}, consts: number[] = [], numOutputs = 1): StaticType[] {
  const ii = inputs.map((t, i) => t && { type: { dtype: t.dtype, shape: [...t.shape] }, value: consts.includes(i) ? t : undefined });
  return op(name).infer(ii, attrs, { name: 'n', opset: 21, numOutputs });
}
function errCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof OpError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}
const T = (dtype: DType, shape: number[], v: number[]) => Tensor.from(dtype, shape, v);
const f32 = (shape: number[], v: number[]) => T('float32', shape, v);
const i64 = (v: number[], shape = [v.length]) => T('int64', shape, v);
const iota = (shape: number[], dtype: DType = 'float32') => T(dtype, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i));
const int = (value: number) => ({ kind: 'int' as const, value });
const str = (value: string) => ({ kind: 'string' as const, value });
const vals = (t: Tensor) => t.toArray();
const INT64_MAX = 9223372036854775807;

describe('Slice', () => {
  const x = iota([3, 4]);
  it('slices with starts/ends/axes/steps and clamps out-of-range bounds', () => {
    expect(vals(run('Slice', [x, i64([1, 1]), i64([3, 3])])[0])).toEqual([5, 6, 9, 10]);
    expect(vals(run('Slice', [x, i64([1]), i64([INT64_MAX]), i64([-1])])[0])).toEqual([1, 2, 3, 5, 6, 7, 9, 10, 11]);
    expect(vals(run('Slice', [x, i64([-100]), i64([100]), i64([0]), i64([2])])[0])).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(run('Slice', [x, i64([10]), i64([20])])[0].shape).toEqual([0, 4]);
  });
  it('negative steps walk backwards, INT64_MIN-like ends reach the start', () => {
    expect(vals(run('Slice', [iota([5]), i64([-1]), i64([-INT64_MAX]), i64([0]), i64([-1])])[0])).toEqual([4, 3, 2, 1, 0]);
    expect(vals(run('Slice', [iota([5]), i64([10]), i64([0]), i64([0]), i64([-2])])[0])).toEqual([4, 2]);
    expect(vals(run('Slice', [x, i64([2, 3]), i64([0, 0]), i64([0, 1]), i64([-1, -2])])[0])).toEqual([11, 9, 7, 5]);
  });
  it('diagnoses zero steps, repeated axes and length mismatches; needs constant bounds', () => {
    expect(errCode(() => run('Slice', [x, i64([0]), i64([1]), i64([0]), i64([0])]))).toMatch(/0 step/);
    expect(errCode(() => run('Slice', [x, i64([0, 0]), i64([1, 1]), i64([1, -1])]))).toMatch(/repeats axis/);
    expect(errCode(() => run('Slice', [x, i64([0, 0]), i64([1])]))).toMatch(/same length/);
    expect(errCode(() => infer('Slice', [x, i64([0]), i64([1])], {}, [1]))).toMatch(/^W2003/);
  });
});

describe('Pad', () => {
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const pads = i64([0, 2, 0, 1]);
  it('constant mode with a value, and negative pads crop', () => {
    const [y] = run('Pad', [x, pads, Tensor.scalar('float32', 9)]);
    expect(y.shape).toEqual([2, 6]);
    expect(vals(y)).toEqual([9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9]);
    expect(vals(run('Pad', [x, i64([0, -1, 0, 0])])[0])).toEqual([2, 3, 5, 6]);
  });
  it('reflect, edge and wrap modes', () => {
    expect(vals(run('Pad', [x, pads], { mode: str('reflect') })[0])).toEqual([3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5]);
    expect(vals(run('Pad', [x, pads], { mode: str('edge') })[0])).toEqual([1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6]);
    expect(vals(run('Pad', [x, pads], { mode: str('wrap') })[0])).toEqual([2, 3, 1, 2, 3, 1, 5, 6, 4, 5, 6, 4]);
    // reflect further than the axis repeats the reflection (numpy semantics)
    expect(vals(run('Pad', [f32([3], [1, 2, 3]), i64([4, 0])], { mode: str('reflect') })[0])).toEqual([1, 2, 3, 2, 1, 2, 3]);
  });
  it('pads only the given (negative) axes', () => {
    const [y] = run('Pad', [x, i64([1, 1]), undefined, i64([-2])]);
    expect(y.shape).toEqual([4, 3]);
    expect(vals(y)).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0]);
  });
  it('diagnoses bad pads and modes', () => {
    expect(errCode(() => run('Pad', [x, i64([1, 1])]))).toMatch(/2 entries per padded axis/);
    expect(errCode(() => run('Pad', [x, i64([0, -4, 0, 0])]))).toMatch(/remove more than/);
    expect(errCode(() => run('Pad', [x, pads], { mode: str('mirror') }))).toMatch(/mode 'mirror'/);
    expect(errCode(() => run('Pad', [Tensor.zeros('float32', [0]), i64([1, 1])], { mode: str('edge') }))).toMatch(/empty axis/);
  });
});

describe('CenterCropPad', () => {
  it('crops centered (odd excess dropped at the end) and zero-pads centered', () => {
    const x = iota([3, 4]);
    const [c] = run('CenterCropPad', [x, i64([1, 2])]);
    expect(vals(c)).toEqual([5, 6]);
    const [p] = run('CenterCropPad', [f32([2], [1, 2]), i64([5])]);
    expect(vals(p)).toEqual([0, 1, 2, 0, 0]);
    const [a] = run('CenterCropPad', [x, i64([2])], { axes: { kind: 'ints', value: [-1] } });
    expect(vals(a)).toEqual([1, 2, 5, 6, 9, 10]);
    expect(errCode(() => run('CenterCropPad', [x, i64([2])]))).toMatch(/one entry per axis/);
  });
});

describe('Gather family', () => {
  const x = iota([3, 2]);
  it('Gather along axis 0 and 1 with negative and 2-D indices', () => {
    expect(vals(run('Gather', [x, i64([2, -3])])[0])).toEqual([4, 5, 0, 1]);
    const [y] = run('Gather', [x, i64([1, 0, 1, 1], [2, 2])], { axis: int(1) });
    expect(y.shape).toEqual([3, 2, 2]);
    expect(vals(y)).toEqual([1, 0, 1, 1, 3, 2, 3, 3, 5, 4, 5, 5]);
    expect(run('Gather', [x, Tensor.scalar('int32', 1)])[0].shape).toEqual([2]);
    expect(errCode(() => run('Gather', [x, i64([3])]))).toMatch(/^W2002: index 3 is out of range for axis 0 of size 3/);
    expect(errCode(() => run('Gather', [x, f32([1], [0])]))).toMatch(/indices must be an integer tensor/);
  });
  it('GatherElements picks per position along the axis', () => {
    const d = f32([2, 2], [1, 2, 3, 4]);
    expect(vals(run('GatherElements', [d, i64([0, 0, 1, 0], [2, 2])], { axis: int(1) })[0])).toEqual([1, 1, 4, 3]);
    expect(vals(run('GatherElements', [iota([3, 3]), i64([1, 2, 0, 2, 0, -1], [2, 3])])[0])).toEqual([3, 7, 2, 6, 1, 8]);
    expect(errCode(() => run('GatherElements', [d, i64([2], [1, 1])]))).toMatch(/index 2 is out of range/);
  });
  it('GatherND with and without batch_dims', () => {
    const d = iota([2, 2]);
    expect(vals(run('GatherND', [d, i64([0, 0, 1, 1], [2, 2])])[0])).toEqual([0, 3]);
    expect(vals(run('GatherND', [d, i64([1, 0], [2, 1])])[0])).toEqual([2, 3, 0, 1]);
    const d3 = iota([2, 2, 2]);
    const [y] = run('GatherND', [d3, i64([1, 0], [2, 1])], { batch_dims: int(1) });
    expect(y.shape).toEqual([2, 2]);
    expect(vals(y)).toEqual([2, 3, 4, 5]);
    expect(errCode(() => run('GatherND', [d, i64([0, 0, 0], [1, 3])]))).toMatch(/too long/);
  });
});

describe('Scatter family', () => {
  it('ScatterElements with reductions; duplicates apply in order', () => {
    const d = f32([1, 5], [1, 2, 3, 4, 5]);
    const ind = i64([1, 1], [1, 2]);
    const upd = f32([1, 2], [1.1, 2.1]);
    const r = (red: string) => vals(run('ScatterElements', [d, ind, upd], { axis: int(1), reduction: str(red) })[0]);
    expect(r('none')).toEqual([1, Math.fround(2.1), 3, 4, 5]);
    expect(r('add')[1]).toBeCloseTo(5.2, 5);
    expect(r('mul')[1]).toBeCloseTo(2 * 1.1 * 2.1, 5);
    expect(r('max')[1]).toBeCloseTo(2.1, 6);
    expect(r('min')[1]).toBe(1.100000023841858);
    expect(vals(run('Scatter', [iota([3, 3]), i64([-1, 0], [1, 2]), f32([1, 2], [9, 8])])[0]).slice(0, 3)).toEqual([0, 8, 2]);
    expect(errCode(() => run('ScatterElements', [d, ind, f32([1, 1], [0])]))).toMatch(/updates have shape \[1,1\]/);
  });
  it('ScatterND replaces slices and reduces; int wraps', () => {
    const d = iota([4, 2]);
    const [y] = run('ScatterND', [d, i64([3, 1], [2, 1]), f32([2, 2], [10, 11, 12, 13])]);
    expect(vals(y)).toEqual([0, 1, 12, 13, 4, 5, 10, 11]);
    const [a] = run('ScatterND', [T('int8', [2], [100, 1]), i64([0, 0], [2, 1]), T('int8', [2], [20, 10])], { reduction: str('add') });
    expect(vals(a)).toEqual([-126, 1]);
    const [m] = run('ScatterND', [iota([3]), i64([2, 0], [2, 1]), f32([2], [1, 5])], { reduction: str('max') });
    expect(vals(m)).toEqual([5, 1, 2]);
    expect(errCode(() => run('ScatterND', [d, i64([4], [1, 1]), f32([1, 2], [0, 0])]))).toMatch(/index 4 is out of range/);
    expect(errCode(() => run('ScatterND', [d, i64([0], [1, 1]), f32([1, 2], [0, 0])], { reduction: str('sub') }))).toMatch(/reduction 'sub'/);
  });
});

describe('OneHot, DepthToSpace, SpaceToDepth', () => {
  it('OneHot with axis, negative and out-of-range indices', () => {
    const values = f32([2], [0, 5]);
    const [y] = run('OneHot', [i64([0, -1, 3]), Tensor.scalar('float32', 3), values]);
    expect(y.shape).toEqual([3, 3]);
    expect(vals(y)).toEqual([5, 0, 0, 0, 0, 5, 0, 0, 0]);
    const [z] = run('OneHot', [i64([1, 2]), i64([3]), values], { axis: int(0) });
    expect(z.shape).toEqual([3, 2]);
    expect(vals(z)).toEqual([0, 0, 5, 0, 0, 5]);
    expect(errCode(() => infer('OneHot', [i64([1]), i64([3]), values]))).toMatch(/^W2003.*depth/);
  });
  it('DepthToSpace DCR and CRD, SpaceToDepth inverts DCR', () => {
    const x = iota([1, 4, 1, 2]);
    // DCR: out[0,0,h*2+i,w*2+j] = x[0, (i*2+j), h, w]
    const [d] = run('DepthToSpace', [x], { blocksize: int(2) });
    expect(d.shape).toEqual([1, 1, 2, 4]);
    expect(vals(d)).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    const x2 = iota([1, 8, 1, 1]);
    expect(vals(run('DepthToSpace', [x2], { blocksize: int(2), mode: str('CRD') })[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(vals(run('DepthToSpace', [x2], { blocksize: int(2) })[0])).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
    const [s] = run('SpaceToDepth', [d], { blocksize: int(2) });
    expect(s.shape).toEqual([1, 4, 1, 2]);
    expect(vals(s)).toEqual(vals(x));
    expect(errCode(() => run('DepthToSpace', [iota([1, 3, 1, 1])], { blocksize: int(2) }))).toMatch(/not divisible/);
    expect(errCode(() => run('SpaceToDepth', [iota([1, 1, 3, 2])], { blocksize: int(2) }))).toMatch(/divisible/);
  });
});

describe('Trilu, CumSum, ReverseSequence', () => {
  const x = iota([3, 3], 'int32');
  it('Trilu upper/lower with k', () => {
    expect(vals(run('Trilu', [x])[0])).toEqual([0, 1, 2, 0, 4, 5, 0, 0, 8]);
    expect(vals(run('Trilu', [x, Tensor.scalar('int64', 1)])[0])).toEqual([0, 1, 2, 0, 0, 5, 0, 0, 0]);
    expect(vals(run('Trilu', [x], { upper: int(0) })[0])).toEqual([0, 0, 0, 3, 4, 0, 6, 7, 8]);
    expect(vals(run('Trilu', [x, Tensor.scalar('int64', -1)], { upper: int(0) })[0])).toEqual([0, 0, 0, 3, 0, 0, 6, 7, 0]);
    expect(vals(run('Trilu', [x, Tensor.scalar('int64', -5)], { upper: int(0) })[0])).toEqual(new Array(9).fill(0));
    expect(errCode(() => run('Trilu', [iota([3])]))).toMatch(/rank >= 2/);
  });
  it('CumSum exclusive/reverse along a negative axis', () => {
    const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const ax = (v: number) => Tensor.scalar('int32', v);
    expect(vals(run('CumSum', [a, ax(-1)])[0])).toEqual([1, 3, 6, 4, 9, 15]);
    expect(vals(run('CumSum', [a, ax(0)])[0])).toEqual([1, 2, 3, 5, 7, 9]);
    expect(vals(run('CumSum', [a, ax(1)], { exclusive: int(1) })[0])).toEqual([0, 1, 3, 0, 4, 9]);
    expect(vals(run('CumSum', [a, ax(1)], { reverse: int(1) })[0])).toEqual([6, 5, 3, 15, 11, 6]);
    expect(vals(run('CumSum', [a, ax(1)], { reverse: int(1), exclusive: int(1) })[0])).toEqual([5, 3, 0, 11, 6, 0]);
    expect(errCode(() => run('CumSum', [a, ax(2)]))).toMatch(/axis 2 is out of range/);
  });
  it('ReverseSequence reverses each batch up to its length', () => {
    const s = iota([4, 2]); // [time, batch]
    expect(vals(run('ReverseSequence', [s, i64([4, 2])])[0])).toEqual([6, 3, 4, 1, 2, 5, 0, 7]);
    const b = iota([2, 3]); // [batch, time]
    expect(vals(run('ReverseSequence', [b, i64([1, 3])], { batch_axis: int(0), time_axis: int(1) })[0])).toEqual([0, 1, 2, 5, 4, 3]);
    expect(errCode(() => run('ReverseSequence', [s, i64([5, 1])]))).toMatch(/outside \[0, 4\]/);
  });
});

describe('NonZero, Compress, TopK, Unique', () => {
  it('NonZero lists coordinates; infer needs a constant input', () => {
    const x = f32([2, 2], [1, 0, 1, 1]);
    const [y] = run('NonZero', [x]);
    expect(y.shape).toEqual([2, 3]);
    expect(vals(y)).toEqual([0, 1, 1, 0, 0, 1]);
    expect(errCode(() => infer('NonZero', [x]))).toMatch(/^W2003/);
    expect(infer('NonZero', [x], {}, [0])[0].shape).toEqual([2, 3]);
  });
  it('Compress along an axis or the flattened input', () => {
    const x = iota([3, 2]);
    const c = T('bool', [3], [0, 1, 1]);
    expect(vals(run('Compress', [x, c], { axis: int(0) })[0])).toEqual([2, 3, 4, 5]);
    expect(vals(run('Compress', [x, T('bool', [2], [0, 1])], { axis: int(-1) })[0])).toEqual([1, 3, 5]);
    expect(vals(run('Compress', [x, c])[0])).toEqual([1, 2]);
    expect(errCode(() => run('Compress', [x, T('bool', [4], [0, 0, 0, 1])], { axis: int(0) }))).toMatch(/position 3/);
  });
  it('TopK largest/smallest with stable ties', () => {
    const x = f32([2, 4], [1, 3, 3, 2, 5, 5, 5, 0]);
    const [v, i] = run('TopK', [x, i64([2])], {}, 2);
    expect(vals(v)).toEqual([3, 3, 5, 5]);
    expect(vals(i)).toEqual([1, 2, 0, 1]);
    const [vs, is] = run('TopK', [x, i64([3])], { largest: int(0) }, 2);
    expect(vals(vs)).toEqual([1, 2, 3, 0, 5, 5]);
    expect(vals(is)).toEqual([0, 3, 1, 3, 0, 1]);
    const [v0, i0] = run('TopK', [x, i64([1])], { axis: int(0) }, 2);
    expect(vals(v0)).toEqual([5, 5, 5, 2]);
    expect(vals(i0)).toEqual([1, 1, 1, 0]);
    expect(errCode(() => run('TopK', [x, i64([5])], {}, 2))).toMatch(/K = 5 must be in \[0, 4\]/);
  });
  it('TopK with small K over a long axis matches a stable full sort (ties by lower index)', () => {
    const n = 200;
    const v = Array.from({ length: n }, (_, i) => (i * 7919) % 5); // many ties
    const x = f32([1, n], v);
    for (const largest of [1, 0]) {
      const [vals6, idx6] = run('TopK', [x, i64([6])], { largest: int(largest) }, 2);
      const ref = v.map((_, i) => i).sort((a, b) => (largest ? v[b] - v[a] : v[a] - v[b]) || a - b).slice(0, 6);
      expect(vals(idx6)).toEqual(ref);
      expect(vals(vals6)).toEqual(ref.map((i) => v[i]));
    }
    expect(run('TopK', [x, i64([0])], {}, 2)[1].shape).toEqual([1, 0]);
  });
  it('Unique sorted, unsorted and along an axis', () => {
    const x = f32([6], [2, 1, 1, 3, 4, 3]);
    const [y, idx, inv, cnt] = run('Unique', [x], {}, 4);
    expect([vals(y), vals(idx), vals(inv), vals(cnt)]).toEqual([[1, 2, 3, 4], [1, 0, 3, 4], [1, 0, 0, 2, 3, 2], [2, 1, 2, 1]]);
    const [yu, , invu] = run('Unique', [x], { sorted: int(0) }, 4);
    expect([vals(yu), vals(invu)]).toEqual([[2, 1, 3, 4], [0, 1, 1, 2, 3, 2]]);
    const m = f32([3, 3], [1, 0, 0, 1, 0, 0, 2, 3, 4]);
    const [ya, ia, , ca] = run('Unique', [m], { axis: int(0) }, 4);
    expect(ya.shape).toEqual([2, 3]);
    expect([vals(ya), vals(ia), vals(ca)]).toEqual([[1, 0, 0, 2, 3, 4], [0, 2], [2, 1]]);
    expect(errCode(() => infer('Unique', [x], {}, [], 4))).toMatch(/^W2003/);
  });
});
