/**
 * Reductions and ArgMax/ArgMin: hand-computed values, keepdims and axes variants, empty sets, dtype
 * rounding, agreement with a naive loop on non-trailing axes, and the diagnostics for bad axes.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../ir/tensor.js';
import { f32, i64, int, opError, opHarness, t } from './helpers/ops.js';

const { run, infer } = opHarness({ opset: 18, consts: true });
const axes = (...a: number[]): Tensor => i64(a);

function expectClose(got: Tensor, want: number[], tol = 1e-6): void {
  expect(got.size).toBe(want.length);
  want.forEach((w, i) => {
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(got.data[i]).toBe(w);
    else expect(Math.abs(got.data[i] - w)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
  });
}

// the ONNX suite's example: shape [3,2,2]
const DATA = f32([3, 2, 2], [5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2]);

describe('ReduceSum and friends: axes and keepdims', () => {
  it('sums over one axis, keeping it as size 1', () => {
    const y = run('ReduceSum', [DATA, axes(1)]);
    expect(y.shape).toEqual([3, 1, 2]);
    expect(y.toArray()).toEqual([25, 3, 70, 3, 115, 3]);
  });
  it('accepts negative axes', () => {
    expect(run('ReduceSum', [DATA, axes(-2)]).toArray()).toEqual([25, 3, 70, 3, 115, 3]);
  });
  it('drops the axis with keepdims=0', () => {
    const y = run('ReduceSum', [DATA, axes(1)], { keepdims: int(0) });
    expect(y.shape).toEqual([3, 2]);
    expect(y.toArray()).toEqual([25, 3, 70, 3, 115, 3]);
  });
  it('reduces every axis when axes are missing or empty', () => {
    const a = run('ReduceSum', [DATA]);
    expect(a.shape).toEqual([1, 1, 1]);
    expect(a.toArray()).toEqual([219]);
    const b = run('ReduceSum', [DATA, axes()], { keepdims: int(0) });
    expect(b.shape).toEqual([]);
    expect(b.toArray()).toEqual([219]);
  });
  it('returns a copy of the input for empty axes with noop_with_empty_axes=1', () => {
    const y = run('ReduceSum', [DATA, axes()], { noop_with_empty_axes: int(1) });
    expect(y.shape).toEqual([3, 2, 2]);
    expect(y.toArray()).toEqual(DATA.toArray());
    expect(y.data).not.toBe(DATA.data);
  });
  it('reduces over non-adjacent axes (mean over 0 and 2)', () => {
    const y = run('ReduceMean', [DATA, axes(2, 0)], { keepdims: int(0) });
    expect(y.shape).toEqual([2]);
    expectClose(y, [93 / 6, 126 / 6]);
  });
  it('agrees with a naive loop on a 4-D tensor over axes [0, 2]', () => {
    const shape = [3, 4, 5, 2];
    const v = Array.from({ length: 120 }, (_, i) => Math.sin(i * 1.7) * 10);
    const y = run('ReduceSum', [f32(shape, v), axes(0, 2)]);
    expect(y.shape).toEqual([1, 4, 1, 2]);
    const want = new Array<number>(8).fill(0);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 4; b++) for (let c = 0; c < 5; c++) for (let d = 0; d < 2; d++) {
      want[b * 2 + d] += Math.fround(v[((a * 4 + b) * 5 + c) * 2 + d]);
    }
    expectClose(y, want, 1e-6);
  });
});

describe('each reduction kind', () => {
  const x = f32([2, 2], [1, 2, 3, 4]);
  const cases: [string, number[]][] = [
    ['ReduceMax', [2, 4]],
    ['ReduceMin', [1, 3]],
    ['ReduceProd', [2, 12]],
    ['ReduceMean', [1.5, 3.5]],
    ['ReduceSumSquare', [5, 25]],
    ['ReduceL2', [Math.sqrt(5), 5]],
    ['ReduceLogSum', [Math.log(3), Math.log(7)]],
    ['ReduceLogSumExp', [2.3132616875182228, 4.313261687518223]],
  ];
  for (const [op, want] of cases) {
    it(`${op} over the last axis`, () => expectClose(run(op, [x, axes(1)], { keepdims: int(0) }), want));
  }
  it('ReduceL1 sums absolute values', () => {
    expect(run('ReduceL1', [f32([2, 2], [-1, 2, 3, -4]), axes(1)]).toArray()).toEqual([3, 7]);
  });
  it('ReduceLogSumExp does not overflow on large values', () => {
    expectClose(run('ReduceLogSumExp', [t('float64', [2], [1000, 1000])]), [1000 + Math.LN2], 1e-12);
  });
  it('ReduceMax propagates NaN', () => {
    expect(run('ReduceMax', [f32([3], [1, NaN, 2])]).toArray()).toEqual([NaN]);
  });
});

describe('empty sets and dtypes', () => {
  const empty = f32([2, 0, 4], []);
  const cases: [string, number][] = [
    ['ReduceSum', 0], ['ReduceProd', 1], ['ReduceMax', -Infinity], ['ReduceMin', Infinity],
    ['ReduceLogSum', -Infinity], ['ReduceLogSumExp', -Infinity], ['ReduceSumSquare', 0], ['ReduceL2', 0],
  ];
  for (const [op, v] of cases) {
    it(`${op} of an empty set is ${v}`, () => {
      const y = run(op, [empty, axes(1)]);
      expect(y.shape).toEqual([2, 1, 4]);
      expect(y.toArray()).toEqual(new Array(8).fill(v));
    });
  }
  it('integer ReduceMax / ReduceMin of an empty set give the dtype limits', () => {
    expect(run('ReduceMax', [t('int32', [0, 2], []), axes(0)]).toArray()).toEqual([-2147483648, -2147483648]);
    expect(run('ReduceMin', [t('uint8', [0, 1], []), axes(0)]).toArray()).toEqual([255]);
  });
  it('reducing a non-empty axis of a tensor with a zero dim gives an empty result', () => {
    const y = run('ReduceSum', [empty, axes(2)]);
    expect(y.shape).toEqual([2, 0, 1]);
    expect(y.size).toBe(0);
  });
  it('integer sums wrap like C', () => {
    const y = run('ReduceSum', [t('int32', [2], [2147483647, 1])]);
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([-2147483648]);
  });
  it('float16 sums are rounded once to float16', () => {
    const y = run('ReduceSum', [t('float16', [3], [1, 2 ** -11, 2 ** -11])]);
    expect(y.toArray()).toEqual([1 + 2 ** -10]); // exact 1 + 2^-10 is representable in f16
    const z = run('ReduceSum', [t('float16', [2], [1, 2 ** -11])]);
    expect(z.toArray()).toEqual([1]); // the tie rounds to even
  });
  it('ReduceMax / ReduceMin accept bool', () => {
    const b = t('bool', [2, 2], [1, 0, 0, 0]);
    expect(run('ReduceMax', [b, axes(1)]).toArray()).toEqual([1, 0]);
    expect(run('ReduceMin', [b, axes(1)]).toArray()).toEqual([0, 0]);
    expect(run('ReduceMax', [b]).dtype).toBe('bool');
  });
});

describe('ArgMax / ArgMin', () => {
  const x = f32([2, 2], [2, 2, 3, 10]);
  it('returns int64 indices along the axis', () => {
    const y = run('ArgMax', [x], { axis: int(0) });
    expect(y.dtype).toBe('int64');
    expect(y.shape).toEqual([1, 2]);
    expect(y.toArray()).toEqual([1, 1]);
  });
  it('picks the first tie, or the last with select_last_index', () => {
    expect(run('ArgMax', [x], { axis: int(1), keepdims: int(0) }).toArray()).toEqual([0, 1]);
    expect(run('ArgMax', [x], { axis: int(-1), keepdims: int(0), select_last_index: int(1) }).toArray()).toEqual([1, 1]);
    expect(run('ArgMin', [x], { axis: int(1), keepdims: int(0) }).toArray()).toEqual([0, 0]);
    expect(run('ArgMin', [x], { axis: int(1), keepdims: int(0), select_last_index: int(1) }).toArray()).toEqual([1, 0]);
  });
  it('works along a middle axis', () => {
    // shape [2,3,2]: argmax over axis 1
    const v = f32([2, 3, 2], [1, 9, 5, 0, 3, 4, 7, 7, 8, 1, 2, 9]);
    const y = run('ArgMax', [v], { axis: int(1) });
    expect(y.shape).toEqual([2, 1, 2]);
    expect(y.toArray()).toEqual([1, 0, 1, 2]);
    expect(run('ArgMin', [v], { axis: int(1), keepdims: int(0) }).toArray()).toEqual([0, 1, 2, 1]);
  });
});

describe('diagnostics', () => {
  it('rejects out-of-range and repeated axes', () => {
    expect(opError(() => run('ReduceSum', [DATA, axes(3)])).code).toBe('W2002');
    expect(opError(() => run('ReduceSum', [DATA, axes(1, -2)])).message).toMatch(/repeat/);
    expect(opError(() => run('ArgMax', [DATA], { axis: int(-4) })).message).toMatch(/out of range/);
  });
  it('needs constant axes to infer the shape', () => {
    const e = opError(() => infer('ReduceSum', [{ dtype: 'float32', shape: [2, 2] }, { dtype: 'int64', shape: [1] }]));
    expect(e.code).toBe('W2003');
  });
  it('rejects bool for arithmetic reductions', () => {
    expect(opError(() => run('ReduceSum', [t('bool', [2], [1, 1])])).code).toBe('W2002');
  });
});
