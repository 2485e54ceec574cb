// Shape ops: hand-computed values, shape rules and diagnostics for Shape, Size, Reshape, Flatten,
// Squeeze, Unsqueeze, Transpose, Concat, Split, Expand, Tile, ConstantOfShape, Range, Identity,
// Dropout and EyeLike.
import { describe, expect, it } from 'vitest';
import type { DType } from '../ir/dtype.js';
import { Tensor } from '../ir/tensor.js';
import { errCode, f32, i64, int, ints, iota, opHarness, t, vals } from './helpers/ops.js';

// evaluate alone: these tests check infer separately (with chosen constant inputs)
const { evaluate, infer } = opHarness();

describe('Shape and Size', () => {
  const x = iota([2, 3, 4, 5]);
  it('returns the dims as int64, honouring start/end with clamping', () => {
    const [s] = evaluate('Shape', [x]);
    expect(s.dtype).toBe('int64');
    expect(vals(s)).toEqual([2, 3, 4, 5]);
    expect(vals(evaluate('Shape', [x], { start: int(1), end: int(-1) })[0])).toEqual([3, 4]);
    expect(vals(evaluate('Shape', [x], { start: int(-10) })[0])).toEqual([2, 3, 4, 5]);
    expect(vals(evaluate('Shape', [x], { end: int(10) })[0])).toEqual([2, 3, 4, 5]);
    expect(evaluate('Shape', [x], { start: int(3), end: int(1) })[0].shape).toEqual([0]);
    expect(infer('Shape', [x], { start: int(-1) })).toEqual([{ dtype: 'int64', shape: [1] }]);
  });
  it('Size counts elements, including zero-size tensors', () => {
    expect(evaluate('Size', [x])[0].toArray()).toEqual([120]);
    expect(evaluate('Size', [Tensor.zeros('float32', [3, 0])])[0].toArray()).toEqual([0]);
    expect(evaluate('Size', [x])[0].shape).toEqual([]);
  });
});

describe('Reshape', () => {
  const x = iota([2, 3, 4]);
  it('copies dims for 0 and infers -1', () => {
    const [y] = evaluate('Reshape', [x, i64([0, -1])]);
    expect(y.shape).toEqual([2, 12]);
    expect(vals(y)).toEqual(vals(x));
    expect(evaluate('Reshape', [x, i64([4, 0, -1])])[0].shape).toEqual([4, 3, 2]);
    expect(evaluate('Reshape', [x, i64([-1])])[0].shape).toEqual([24]);
  });
  it('allowzero=1 makes 0 a real zero dim', () => {
    const e = Tensor.zeros('float32', [0, 3]);
    expect(evaluate('Reshape', [e, i64([3, 0])], { allowzero: int(1) })[0].shape).toEqual([3, 0]);
    expect(errCode(() => evaluate('Reshape', [x, i64([0, 24])], { allowzero: int(1) }))).toMatch(/^W2002.*cannot reshape \[2,3,4\]/);
    expect(errCode(() => evaluate('Reshape', [e, i64([0, -1])], { allowzero: int(1) }))).toMatch(/both 0 and -1/);
  });
  it('rejects incompatible shapes, two -1 and bad dims', () => {
    expect(errCode(() => evaluate('Reshape', [x, i64([5, -1])]))).toMatch(/^W2002: cannot reshape \[2,3,4\] \(24 elements\) to \[5,-1\]/);
    expect(errCode(() => evaluate('Reshape', [x, i64([-1, -1])]))).toMatch(/more than one -1/);
    expect(errCode(() => evaluate('Reshape', [x, i64([-2, 12])]))).toMatch(/invalid dimension -2/);
    expect(errCode(() => evaluate('Reshape', [x, i64([0, 0, 0, 0])]))).toMatch(/copies dim 3/);
  });
  it('needs a constant shape to infer', () => {
    expect(errCode(() => infer('Reshape', [x, i64([6, 4])]))).toMatch(/^W2003/);
    expect(infer('Reshape', [x, i64([6, 4])], {}, { consts: [1] })).toEqual([{ dtype: 'float32', shape: [6, 4] }]);
  });
});

describe('Flatten, Squeeze, Unsqueeze', () => {
  const x = iota([2, 3, 4]);
  it('Flatten splits the dims at axis (default 1, negative, 0 and rank)', () => {
    expect(evaluate('Flatten', [x])[0].shape).toEqual([2, 12]);
    expect(evaluate('Flatten', [x], { axis: int(0) })[0].shape).toEqual([1, 24]);
    expect(evaluate('Flatten', [x], { axis: int(3) })[0].shape).toEqual([24, 1]);
    expect(evaluate('Flatten', [x], { axis: int(-1) })[0].shape).toEqual([6, 4]);
    expect(errCode(() => evaluate('Flatten', [x], { axis: int(4) }))).toMatch(/^W2002: axis 4 is out of range/);
  });
  it('Squeeze removes given axes or all 1-dims', () => {
    const y = iota([1, 3, 1, 2]);
    expect(evaluate('Squeeze', [y])[0].shape).toEqual([3, 2]);
    expect(evaluate('Squeeze', [y, i64([-2])])[0].shape).toEqual([1, 3, 2]);
    expect(vals(evaluate('Squeeze', [y, i64([0, 2])])[0])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(errCode(() => evaluate('Squeeze', [y, i64([1])]))).toMatch(/cannot squeeze axis 1/);
    expect(errCode(() => evaluate('Squeeze', [y, i64([4])]))).toMatch(/out of range/);
  });
  it('Unsqueeze inserts axes in output coordinates, unsorted and negative', () => {
    expect(evaluate('Unsqueeze', [x, i64([0])])[0].shape).toEqual([1, 2, 3, 4]);
    expect(evaluate('Unsqueeze', [x, i64([4, 0])])[0].shape).toEqual([1, 2, 3, 4, 1]);
    expect(errCode(() => evaluate('Unsqueeze', [x, i64([5, 0])]))).toMatch(/value 5 is out of range for rank 5/);
    expect(evaluate('Unsqueeze', [x, i64([-1, 1])])[0].shape).toEqual([2, 1, 3, 4, 1]);
    expect(evaluate('Unsqueeze', [Tensor.scalar('int64', 7), i64([0])])[0].shape).toEqual([1]);
    expect(errCode(() => evaluate('Unsqueeze', [x, i64([1, 1])]))).toMatch(/repeats axis 1/);
  });
});

describe('Transpose', () => {
  it('reverses dims by default', () => {
    const [y] = evaluate('Transpose', [iota([2, 3])]);
    expect(y.shape).toEqual([3, 2]);
    expect(vals(y)).toEqual([0, 3, 1, 4, 2, 5]);
  });
  it('applies a perm on 3-D (element [i,j,k] of out = x[j,k,i] for perm [1,2,0])', () => {
    const x = iota([2, 3, 4]);
    const [y] = evaluate('Transpose', [x], { perm: ints(1, 2, 0) });
    expect(y.shape).toEqual([3, 4, 2]);
    for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) {
      expect(y.data[(j * 4 + k) * 2 + i]).toBe(x.data[(i * 3 + j) * 4 + k]);
    }
  });
  it('keeps bool and int64 dtypes and rejects a bad perm', () => {
    const [y] = evaluate('Transpose', [t('bool', [1, 2], [1, 0])]);
    expect(y.dtype).toBe('bool');
    expect(vals(y)).toEqual([1, 0]);
    expect(errCode(() => evaluate('Transpose', [iota([2, 3])], { perm: ints(0, 0) }))).toMatch(/not a permutation/);
    expect(errCode(() => evaluate('Transpose', [iota([2, 3])], { perm: ints(0) }))).toMatch(/has length 1/);
  });
});

describe('Concat and Split', () => {
  it('Concat joins along a (negative) axis', () => {
    const a = iota([2, 2]);
    const b = f32([2, 1], [10, 11]);
    const [y] = evaluate('Concat', [a, b], { axis: int(-1) });
    expect(y.shape).toEqual([2, 3]);
    expect(vals(y)).toEqual([0, 1, 10, 2, 3, 11]);
    expect(vals(evaluate('Concat', [a, f32([1, 2], [7, 8])], { axis: int(0) })[0])).toEqual([0, 1, 2, 3, 7, 8]);
    expect(evaluate('Concat', [a, Tensor.zeros('float32', [2, 0])], { axis: int(1) })[0].shape).toEqual([2, 2]);
  });
  it('Concat diagnoses mismatched shapes, dtypes and a missing axis', () => {
    expect(errCode(() => evaluate('Concat', [iota([2, 2]), iota([3, 1])], { axis: int(1) }))).toMatch(/cannot concatenate \[2,2\] and \[3,1\]/);
    expect(errCode(() => evaluate('Concat', [iota([2]), iota([2], 'int32')], { axis: int(0) }))).toMatch(/same dtype/);
    expect(errCode(() => evaluate('Concat', [iota([2])]))).toMatch(/axis/);
  });
  it('Split by sizes, equally, and by num_outputs (opset 18, uneven last chunk)', () => {
    const x = iota([2, 6]);
    const parts = evaluate('Split', [x, i64([1, 2, 3])], { axis: int(1) }, { numOutputs: 3 });
    expect(parts.map((p) => p.shape)).toEqual([[2, 1], [2, 2], [2, 3]]);
    expect(vals(parts[1])).toEqual([1, 2, 7, 8]);
    expect(vals(parts[2])).toEqual([3, 4, 5, 9, 10, 11]);
    const eq = evaluate('Split', [x], { axis: int(-1) }, { numOutputs: 2, opset: 13 });
    expect(eq.map(vals)).toEqual([[0, 1, 2, 6, 7, 8], [3, 4, 5, 9, 10, 11]]);
    const un = evaluate('Split', [iota([7])], { num_outputs: int(4) }, { numOutputs: 4, opset: 18 });
    expect(un.map(vals)).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    expect(evaluate('Split', [Tensor.zeros('float32', [0]), i64([0, 0])], {}, { numOutputs: 2 }).map((p) => p.shape)).toEqual([[0], [0]]);
  });
  it('Split diagnoses bad sizes', () => {
    expect(errCode(() => evaluate('Split', [iota([5])], {}, { numOutputs: 2, opset: 13 }))).toMatch(/cannot be split into 2 equal parts/);
    expect(errCode(() => evaluate('Split', [iota([5]), i64([2, 2])], {}, { numOutputs: 2 }))).toMatch(/sums to 4/);
    expect(errCode(() => evaluate('Split', [iota([5]), i64([5])], {}, { numOutputs: 2 }))).toMatch(/1 sizes for 2 outputs/);
    expect(errCode(() => evaluate('Split', [iota([5])], { num_outputs: int(3) }, { numOutputs: 2, opset: 18 }))).toMatch(/num_outputs is 3/);
  });
});

describe('Expand and Tile', () => {
  it('Expand broadcasts both ways', () => {
    const [y] = evaluate('Expand', [f32([3, 1], [1, 2, 3]), i64([2, 1, 2])]);
    expect(y.shape).toEqual([2, 3, 2]);
    expect(vals(y)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    expect(evaluate('Expand', [iota([2, 3]), i64([1, 1])])[0].shape).toEqual([2, 3]);
    expect(errCode(() => evaluate('Expand', [iota([2, 3]), i64([4])]))).toMatch(/cannot be broadcast/);
  });
  it('Tile repeats each axis', () => {
    const [y] = evaluate('Tile', [f32([2, 2], [1, 2, 3, 4]), i64([2, 3])]);
    expect(y.shape).toEqual([4, 6]);
    expect(vals(y).slice(0, 12)).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
    expect(vals(y).slice(12)).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
    expect(evaluate('Tile', [iota([2]), i64([0])])[0].shape).toEqual([0]);
    expect(errCode(() => evaluate('Tile', [iota([2]), i64([1, 2])]))).toMatch(/one entry per input dim/);
  });
  it('refuses to allocate more than 2^31 elements, naming the size', () => {
    expect(errCode(() => evaluate('Expand', [iota([1]), i64([65536, 65536])]))).toMatch(/^W2002: .*4294967296 elements/);
    expect(errCode(() => evaluate('Tile', [iota([1024]), i64([1 << 22])]))).toMatch(/^W2002: .*4294967296 elements/);
    // shapes alone (planning) are fine
    expect(infer('Expand', [iota([1]), i64([65536, 65536])], {}, { consts: [1] })[0].shape).toEqual([65536, 65536]);
  });
});

describe('ConstantOfShape, Range, EyeLike', () => {
  it('ConstantOfShape defaults to float32 zeros and takes the value tensor dtype', () => {
    const [z] = evaluate('ConstantOfShape', [i64([2, 3])]);
    expect(z.dtype).toBe('float32');
    expect(vals(z)).toEqual([0, 0, 0, 0, 0, 0]);
    const [o] = evaluate('ConstantOfShape', [i64([2])], { value: { kind: 'tensor', value: t('int32', [1], [7]) } });
    expect(o.dtype).toBe('int32');
    expect(vals(o)).toEqual([7, 7]);
    expect(evaluate('ConstantOfShape', [i64([0])])[0].shape).toEqual([0]);
    expect(evaluate('ConstantOfShape', [t('int64', [0], [])])[0].shape).toEqual([]);
    expect(errCode(() => evaluate('ConstantOfShape', [i64([1 << 20, 1 << 20])]))).toMatch(/^W2002: .*1099511627776 elements/);
    expect(errCode(() => evaluate('ConstantOfShape', [i64([-1])]))).toMatch(/invalid dimension -1/);
  });
  it('Range counts ceil((limit-start)/delta), empty when the sign is wrong', () => {
    const r = (dt: DType, a: number, b: number, c: number) => evaluate('Range', [Tensor.scalar(dt, a), Tensor.scalar(dt, b), Tensor.scalar(dt, c)])[0];
    expect(vals(r('int32', 10, 4, -3))).toEqual([10, 7]);
    expect(vals(r('float32', 1, 2, 0.25))).toEqual([1, 1.25, 1.5, 1.75]);
    expect(vals(r('int64', 0, 5, 2))).toEqual([0, 2, 4]);
    expect(r('int64', 5, 0, 1).shape).toEqual([0]);
    expect(errCode(() => r('int64', 0, 5, 0))).toMatch(/delta must not be 0/);
    expect(errCode(() => r('float64', 0, 1e12, 1e-3))).toMatch(/^W2002.*elements/);
  });
  it('EyeLike places ones on diagonal k with an optional dtype', () => {
    const [e] = evaluate('EyeLike', [Tensor.zeros('float32', [3, 4])], { k: int(1) });
    expect(vals(e)).toEqual([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const [d] = evaluate('EyeLike', [Tensor.zeros('float32', [3, 2])], { k: int(-1), dtype: int(6) });
    expect(d.dtype).toBe('int32');
    expect(vals(d)).toEqual([0, 0, 1, 0, 0, 1]);
    expect(errCode(() => evaluate('EyeLike', [iota([3])]))).toMatch(/must be 2-D/);
  });
});

describe('Identity and Dropout', () => {
  const x = f32([2, 2], [1, -2, 3, -4]);
  it('Identity and inference-mode Dropout return the input; the mask is all true', () => {
    expect(vals(evaluate('Identity', [x])[0])).toEqual([1, -2, 3, -4]);
    const [y, m] = evaluate('Dropout', [x, Tensor.scalar('float32', 0.5)], {}, { numOutputs: 2 });
    expect(vals(y)).toEqual([1, -2, 3, -4]);
    expect(m.dtype).toBe('bool');
    expect(vals(m)).toEqual([1, 1, 1, 1]);
    expect(infer('Dropout', [x], {}, { numOutputs: 2, opset: 9 })[1].dtype).toBe('float32');
  });
  it('training mode is also the identity (wafer compiles for inference, like onnxruntime sessions)', () => {
    const on = t('bool', [], [1]);
    const [y, m] = evaluate('Dropout', [x, Tensor.scalar('float32', 0.5), on], { seed: int(3) }, { numOutputs: 2 });
    expect(vals(y)).toEqual([1, -2, 3, -4]);
    expect(vals(m)).toEqual([1, 1, 1, 1]);
    expect(vals(evaluate('Dropout', [x, Tensor.scalar('float32', 0.25), on])[0])).toEqual([1, -2, 3, -4]);
  });
});
