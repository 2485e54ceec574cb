// Indexing ops: hand-computed values, shape rules and diagnostics for Slice, Pad, CenterCropPad, Gather*,
// Scatter*, OneHot, DepthToSpace, SpaceToDepth, Trilu, CumSum, ReverseSequence, NonZero, Compress,
// TopK and Unique.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../ir/tensor.js';
import { errCode, f32, i64, int, iota, opHarness, str, t, vals } from './helpers/ops.js';

// evaluate alone: these tests check infer separately (with chosen constant inputs)
const { evaluate, infer } = opHarness();
const INT64_MAX = 9223372036854775807;

describe('Slice', () => {
  const x = iota([3, 4]);
  it('slices with starts/ends/axes/steps and clamps out-of-range bounds', () => {
    expect(vals(evaluate('Slice', [x, i64([1, 1]), i64([3, 3])])[0])).toEqual([5, 6, 9, 10]);
    expect(vals(evaluate('Slice', [x, i64([1]), i64([INT64_MAX]), i64([-1])])[0])).toEqual([1, 2, 3, 5, 6, 7, 9, 10, 11]);
    expect(vals(evaluate('Slice', [x, i64([-100]), i64([100]), i64([0]), i64([2])])[0])).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(evaluate('Slice', [x, i64([10]), i64([20])])[0].shape).toEqual([0, 4]);
  });
  it('negative steps walk backwards, INT64_MIN-like ends reach the start', () => {
    expect(vals(evaluate('Slice', [iota([5]), i64([-1]), i64([-INT64_MAX]), i64([0]), i64([-1])])[0])).toEqual([4, 3, 2, 1, 0]);
    expect(vals(evaluate('Slice', [iota([5]), i64([10]), i64([0]), i64([0]), i64([-2])])[0])).toEqual([4, 2]);
    expect(vals(evaluate('Slice', [x, i64([2, 3]), i64([0, 0]), i64([0, 1]), i64([-1, -2])])[0])).toEqual([11, 9, 7, 5]);
  });
  it('diagnoses zero steps, repeated axes and length mismatches; needs constant bounds', () => {
    expect(errCode(() => evaluate('Slice', [x, i64([0]), i64([1]), i64([0]), i64([0])]))).toMatch(/0 step/);
    expect(errCode(() => evaluate('Slice', [x, i64([0, 0]), i64([1, 1]), i64([1, -1])]))).toMatch(/repeats axis/);
    expect(errCode(() => evaluate('Slice', [x, i64([0, 0]), i64([1])]))).toMatch(/same length/);
    expect(errCode(() => infer('Slice', [x, i64([0]), i64([1])], {}, { consts: [1] }))).toMatch(/^W2003/);
  });
});

describe('Pad', () => {
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const pads = i64([0, 2, 0, 1]);
  it('constant mode with a value, and negative pads crop', () => {
    const [y] = evaluate('Pad', [x, pads, Tensor.scalar('float32', 9)]);
    expect(y.shape).toEqual([2, 6]);
    expect(vals(y)).toEqual([9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9]);
    expect(vals(evaluate('Pad', [x, i64([0, -1, 0, 0])])[0])).toEqual([2, 3, 5, 6]);
  });
  it('reflect, edge and wrap modes', () => {
    expect(vals(evaluate('Pad', [x, pads], { mode: str('reflect') })[0])).toEqual([3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5]);
    expect(vals(evaluate('Pad', [x, pads], { mode: str('edge') })[0])).toEqual([1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6]);
    expect(vals(evaluate('Pad', [x, pads], { mode: str('wrap') })[0])).toEqual([2, 3, 1, 2, 3, 1, 5, 6, 4, 5, 6, 4]);
    // reflect further than the axis repeats the reflection (numpy semantics)
    expect(vals(evaluate('Pad', [f32([3], [1, 2, 3]), i64([4, 0])], { mode: str('reflect') })[0])).toEqual([1, 2, 3, 2, 1, 2, 3]);
  });
  it('pads only the given (negative) axes', () => {
    const [y] = evaluate('Pad', [x, i64([1, 1]), undefined, i64([-2])]);
    expect(y.shape).toEqual([4, 3]);
    expect(vals(y)).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0]);
  });
  it('diagnoses bad pads and modes', () => {
    expect(errCode(() => evaluate('Pad', [x, i64([1, 1])]))).toMatch(/2 entries per padded axis/);
    expect(errCode(() => evaluate('Pad', [x, i64([0, -4, 0, 0])]))).toMatch(/remove more than/);
    expect(errCode(() => evaluate('Pad', [x, pads], { mode: str('mirror') }))).toMatch(/mode 'mirror'/);
    expect(errCode(() => evaluate('Pad', [Tensor.zeros('float32', [0]), i64([1, 1])], { mode: str('edge') }))).toMatch(/empty axis/);
  });
});

describe('CenterCropPad', () => {
  it('crops centered (odd excess dropped at the end) and zero-pads centered', () => {
    const x = iota([3, 4]);
    const [c] = evaluate('CenterCropPad', [x, i64([1, 2])]);
    expect(vals(c)).toEqual([5, 6]);
    const [p] = evaluate('CenterCropPad', [f32([2], [1, 2]), i64([5])]);
    expect(vals(p)).toEqual([0, 1, 2, 0, 0]);
    const [a] = evaluate('CenterCropPad', [x, i64([2])], { axes: { kind: 'ints', value: [-1] } });
    expect(vals(a)).toEqual([1, 2, 5, 6, 9, 10]);
    expect(errCode(() => evaluate('CenterCropPad', [x, i64([2])]))).toMatch(/one entry per axis/);
  });
});

describe('Gather family', () => {
  const x = iota([3, 2]);
  it('Gather along axis 0 and 1 with negative and 2-D indices', () => {
    expect(vals(evaluate('Gather', [x, i64([2, -3])])[0])).toEqual([4, 5, 0, 1]);
    const [y] = evaluate('Gather', [x, i64([1, 0, 1, 1], [2, 2])], { axis: int(1) });
    expect(y.shape).toEqual([3, 2, 2]);
    expect(vals(y)).toEqual([1, 0, 1, 1, 3, 2, 3, 3, 5, 4, 5, 5]);
    expect(evaluate('Gather', [x, Tensor.scalar('int32', 1)])[0].shape).toEqual([2]);
    expect(errCode(() => evaluate('Gather', [x, i64([3])]))).toMatch(/^W2002: index 3 is out of range for axis 0 of size 3/);
    expect(errCode(() => evaluate('Gather', [x, f32([1], [0])]))).toMatch(/indices must be an integer tensor/);
  });
  it('GatherElements picks per position along the axis', () => {
    const d = f32([2, 2], [1, 2, 3, 4]);
    expect(vals(evaluate('GatherElements', [d, i64([0, 0, 1, 0], [2, 2])], { axis: int(1) })[0])).toEqual([1, 1, 4, 3]);
    expect(vals(evaluate('GatherElements', [iota([3, 3]), i64([1, 2, 0, 2, 0, -1], [2, 3])])[0])).toEqual([3, 7, 2, 6, 1, 8]);
    expect(errCode(() => evaluate('GatherElements', [d, i64([2], [1, 1])]))).toMatch(/index 2 is out of range/);
  });
  it('GatherND with and without batch_dims', () => {
    const d = iota([2, 2]);
    expect(vals(evaluate('GatherND', [d, i64([0, 0, 1, 1], [2, 2])])[0])).toEqual([0, 3]);
    expect(vals(evaluate('GatherND', [d, i64([1, 0], [2, 1])])[0])).toEqual([2, 3, 0, 1]);
    const d3 = iota([2, 2, 2]);
    const [y] = evaluate('GatherND', [d3, i64([1, 0], [2, 1])], { batch_dims: int(1) });
    expect(y.shape).toEqual([2, 2]);
    expect(vals(y)).toEqual([2, 3, 4, 5]);
    expect(errCode(() => evaluate('GatherND', [d, i64([0, 0, 0], [1, 3])]))).toMatch(/too long/);
  });
});

describe('Scatter family', () => {
  it('ScatterElements with reductions; duplicates apply in order', () => {
    const d = f32([1, 5], [1, 2, 3, 4, 5]);
    const ind = i64([1, 1], [1, 2]);
    const upd = f32([1, 2], [1.1, 2.1]);
    const r = (red: string) => vals(evaluate('ScatterElements', [d, ind, upd], { axis: int(1), reduction: str(red) })[0]);
    expect(r('none')).toEqual([1, Math.fround(2.1), 3, 4, 5]);
    expect(r('add')[1]).toBeCloseTo(5.2, 5);
    expect(r('mul')[1]).toBeCloseTo(2 * 1.1 * 2.1, 5);
    expect(r('max')[1]).toBeCloseTo(2.1, 6);
    expect(r('min')[1]).toBe(1.100000023841858);
    expect(vals(evaluate('Scatter', [iota([3, 3]), i64([-1, 0], [1, 2]), f32([1, 2], [9, 8])])[0]).slice(0, 3)).toEqual([0, 8, 2]);
    expect(errCode(() => evaluate('ScatterElements', [d, ind, f32([1, 1], [0])]))).toMatch(/updates have shape \[1,1\]/);
  });
  it('ScatterND replaces slices and reduces; int wraps', () => {
    const d = iota([4, 2]);
    const [y] = evaluate('ScatterND', [d, i64([3, 1], [2, 1]), f32([2, 2], [10, 11, 12, 13])]);
    expect(vals(y)).toEqual([0, 1, 12, 13, 4, 5, 10, 11]);
    const [a] = evaluate('ScatterND', [t('int8', [2], [100, 1]), i64([0, 0], [2, 1]), t('int8', [2], [20, 10])], { reduction: str('add') });
    expect(vals(a)).toEqual([-126, 1]);
    const [m] = evaluate('ScatterND', [iota([3]), i64([2, 0], [2, 1]), f32([2], [1, 5])], { reduction: str('max') });
    expect(vals(m)).toEqual([5, 1, 2]);
    expect(errCode(() => evaluate('ScatterND', [d, i64([4], [1, 1]), f32([1, 2], [0, 0])]))).toMatch(/index 4 is out of range/);
    expect(errCode(() => evaluate('ScatterND', [d, i64([0], [1, 1]), f32([1, 2], [0, 0])], { reduction: str('sub') }))).toMatch(/reduction 'sub'/);
  });
});

describe('OneHot, DepthToSpace, SpaceToDepth', () => {
  it('OneHot with axis, negative and out-of-range indices', () => {
    const values = f32([2], [0, 5]);
    const [y] = evaluate('OneHot', [i64([0, -1, 3]), Tensor.scalar('float32', 3), values]);
    expect(y.shape).toEqual([3, 3]);
    expect(vals(y)).toEqual([5, 0, 0, 0, 0, 5, 0, 0, 0]);
    const [z] = evaluate('OneHot', [i64([1, 2]), i64([3]), values], { axis: int(0) });
    expect(z.shape).toEqual([3, 2]);
    expect(vals(z)).toEqual([0, 0, 5, 0, 0, 5]);
    expect(errCode(() => infer('OneHot', [i64([1]), i64([3]), values]))).toMatch(/^W2003.*depth/);
  });
  it('DepthToSpace DCR and CRD, SpaceToDepth inverts DCR', () => {
    const x = iota([1, 4, 1, 2]);
    // DCR: out[0,0,h*2+i,w*2+j] = x[0, (i*2+j), h, w]
    const [d] = evaluate('DepthToSpace', [x], { blocksize: int(2) });
    expect(d.shape).toEqual([1, 1, 2, 4]);
    expect(vals(d)).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    const x2 = iota([1, 8, 1, 1]);
    expect(vals(evaluate('DepthToSpace', [x2], { blocksize: int(2), mode: str('CRD') })[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(vals(evaluate('DepthToSpace', [x2], { blocksize: int(2) })[0])).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
    const [s] = evaluate('SpaceToDepth', [d], { blocksize: int(2) });
    expect(s.shape).toEqual([1, 4, 1, 2]);
    expect(vals(s)).toEqual(vals(x));
    expect(errCode(() => evaluate('DepthToSpace', [iota([1, 3, 1, 1])], { blocksize: int(2) }))).toMatch(/not divisible/);
    expect(errCode(() => evaluate('SpaceToDepth', [iota([1, 1, 3, 2])], { blocksize: int(2) }))).toMatch(/divisible/);
  });
});

describe('Trilu, CumSum, ReverseSequence', () => {
  const x = iota([3, 3], 'int32');
  it('Trilu upper/lower with k', () => {
    expect(vals(evaluate('Trilu', [x])[0])).toEqual([0, 1, 2, 0, 4, 5, 0, 0, 8]);
    expect(vals(evaluate('Trilu', [x, Tensor.scalar('int64', 1)])[0])).toEqual([0, 1, 2, 0, 0, 5, 0, 0, 0]);
    expect(vals(evaluate('Trilu', [x], { upper: int(0) })[0])).toEqual([0, 0, 0, 3, 4, 0, 6, 7, 8]);
    expect(vals(evaluate('Trilu', [x, Tensor.scalar('int64', -1)], { upper: int(0) })[0])).toEqual([0, 0, 0, 3, 0, 0, 6, 7, 0]);
    expect(vals(evaluate('Trilu', [x, Tensor.scalar('int64', -5)], { upper: int(0) })[0])).toEqual(new Array(9).fill(0));
    expect(errCode(() => evaluate('Trilu', [iota([3])]))).toMatch(/rank >= 2/);
  });
  it('CumSum exclusive/reverse along a negative axis', () => {
    const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const ax = (v: number) => Tensor.scalar('int32', v);
    expect(vals(evaluate('CumSum', [a, ax(-1)])[0])).toEqual([1, 3, 6, 4, 9, 15]);
    expect(vals(evaluate('CumSum', [a, ax(0)])[0])).toEqual([1, 2, 3, 5, 7, 9]);
    expect(vals(evaluate('CumSum', [a, ax(1)], { exclusive: int(1) })[0])).toEqual([0, 1, 3, 0, 4, 9]);
    expect(vals(evaluate('CumSum', [a, ax(1)], { reverse: int(1) })[0])).toEqual([6, 5, 3, 15, 11, 6]);
    expect(vals(evaluate('CumSum', [a, ax(1)], { reverse: int(1), exclusive: int(1) })[0])).toEqual([5, 3, 0, 11, 6, 0]);
    expect(errCode(() => evaluate('CumSum', [a, ax(2)]))).toMatch(/axis 2 is out of range/);
  });
  it('ReverseSequence reverses each batch up to its length', () => {
    const s = iota([4, 2]); // [time, batch]
    expect(vals(evaluate('ReverseSequence', [s, i64([4, 2])])[0])).toEqual([6, 3, 4, 1, 2, 5, 0, 7]);
    const b = iota([2, 3]); // [batch, time]
    expect(vals(evaluate('ReverseSequence', [b, i64([1, 3])], { batch_axis: int(0), time_axis: int(1) })[0])).toEqual([0, 1, 2, 5, 4, 3]);
    expect(errCode(() => evaluate('ReverseSequence', [s, i64([5, 1])]))).toMatch(/outside \[0, 4\]/);
  });
});

describe('NonZero, Compress, TopK, Unique', () => {
  it('NonZero lists coordinates; infer needs a constant input', () => {
    const x = f32([2, 2], [1, 0, 1, 1]);
    const [y] = evaluate('NonZero', [x]);
    expect(y.shape).toEqual([2, 3]);
    expect(vals(y)).toEqual([0, 1, 1, 0, 0, 1]);
    expect(errCode(() => infer('NonZero', [x]))).toMatch(/^W2003/);
    expect(infer('NonZero', [x], {}, { consts: [0] })[0].shape).toEqual([2, 3]);
  });
  it('Compress along an axis or the flattened input', () => {
    const x = iota([3, 2]);
    const c = t('bool', [3], [0, 1, 1]);
    expect(vals(evaluate('Compress', [x, c], { axis: int(0) })[0])).toEqual([2, 3, 4, 5]);
    expect(vals(evaluate('Compress', [x, t('bool', [2], [0, 1])], { axis: int(-1) })[0])).toEqual([1, 3, 5]);
    expect(vals(evaluate('Compress', [x, c])[0])).toEqual([1, 2]);
    expect(errCode(() => evaluate('Compress', [x, t('bool', [4], [0, 0, 0, 1])], { axis: int(0) }))).toMatch(/position 3/);
  });
  it('TopK largest/smallest with stable ties', () => {
    const x = f32([2, 4], [1, 3, 3, 2, 5, 5, 5, 0]);
    const [v, i] = evaluate('TopK', [x, i64([2])], {}, { numOutputs: 2 });
    expect(vals(v)).toEqual([3, 3, 5, 5]);
    expect(vals(i)).toEqual([1, 2, 0, 1]);
    const [vs, is] = evaluate('TopK', [x, i64([3])], { largest: int(0) }, { numOutputs: 2 });
    expect(vals(vs)).toEqual([1, 2, 3, 0, 5, 5]);
    expect(vals(is)).toEqual([0, 3, 1, 3, 0, 1]);
    const [v0, i0] = evaluate('TopK', [x, i64([1])], { axis: int(0) }, { numOutputs: 2 });
    expect(vals(v0)).toEqual([5, 5, 5, 2]);
    expect(vals(i0)).toEqual([1, 1, 1, 0]);
    expect(errCode(() => evaluate('TopK', [x, i64([5])], {}, { numOutputs: 2 }))).toMatch(/K = 5 must be in \[0, 4\]/);
  });
  it('TopK with small K over a long axis matches a stable full sort (ties by lower index)', () => {
    const n = 200;
    const v = Array.from({ length: n }, (_, i) => (i * 7919) % 5); // many ties
    const x = f32([1, n], v);
    for (const largest of [1, 0]) {
      const [vals6, idx6] = evaluate('TopK', [x, i64([6])], { largest: int(largest) }, { numOutputs: 2 });
      const ref = v.map((_, i) => i).sort((a, b) => (largest ? v[b] - v[a] : v[a] - v[b]) || a - b).slice(0, 6);
      expect(vals(idx6)).toEqual(ref);
      expect(vals(vals6)).toEqual(ref.map((i) => v[i]));
    }
    expect(evaluate('TopK', [x, i64([0])], {}, { numOutputs: 2 })[1].shape).toEqual([1, 0]);
  });
  it('Unique sorted, unsorted and along an axis', () => {
    const x = f32([6], [2, 1, 1, 3, 4, 3]);
    const [y, idx, inv, cnt] = evaluate('Unique', [x], {}, { numOutputs: 4 });
    expect([vals(y), vals(idx), vals(inv), vals(cnt)]).toEqual([[1, 2, 3, 4], [1, 0, 3, 4], [1, 0, 0, 2, 3, 2], [2, 1, 2, 1]]);
    const [yu, , invu] = evaluate('Unique', [x], { sorted: int(0) }, { numOutputs: 4 });
    expect([vals(yu), vals(invu)]).toEqual([[2, 1, 3, 4], [0, 1, 1, 2, 3, 2]]);
    const m = f32([3, 3], [1, 0, 0, 1, 0, 0, 2, 3, 4]);
    const [ya, ia, , ca] = evaluate('Unique', [m], { axis: int(0) }, { numOutputs: 4 });
    expect(ya.shape).toEqual([2, 3]);
    expect([vals(ya), vals(ia), vals(ca)]).toEqual([[1, 0, 0, 2, 3, 4], [0, 2], [2, 1]]);
    expect(errCode(() => infer('Unique', [x], {}, { numOutputs: 4 }))).toMatch(/^W2003/);
  });
});
