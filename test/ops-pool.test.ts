/**
 * Pooling: MaxPool (pads never win, dilations, ceil_mode and its last-window rule, Indices in both
 * storage orders, integer inputs), AveragePool (count_include_pad with pads and with ceil_mode
 * overhang, auto_pad), LpPool, the Global* pools, MaxUnpool (round trip through MaxPool's indices,
 * output_shape), and diagnostics.
 */
import { describe, expect, it } from 'vitest';
import type { Attrs } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { f32, int, ints, opError, opHarness, seq, str, t } from './helpers/ops.js';

const { run, runAll, evaluate, infer } = opHarness({ opset: 22, consts: true });
const evalError = (op: string, inputs: (Tensor | undefined)[], attrs: Attrs = {}) => opError(() => evaluate(op, inputs, attrs));

const k = (...v: number[]) => ({ kernel_shape: ints(...v) });

describe('MaxPool', () => {
  const x = f32([1, 1, 5], [1, 3, 2, 5, 4]);
  it('windows, strides and dilations', () => {
    expect(run('MaxPool', [x], k(2)).toArray()).toEqual([3, 3, 5, 5]);
    expect(run('MaxPool', [x], { ...k(2), strides: ints(2) }).toArray()).toEqual([3, 5]);
    expect(run('MaxPool', [f32([1, 1, 5], [1, 5, 2, 4, 3])], { ...k(2), dilations: ints(2) }).toArray()).toEqual([2, 5, 3]);
  });
  it('ceil_mode adds a partial last window', () => {
    const y = run('MaxPool', [x], { ...k(2), strides: ints(2), ceil_mode: int(1) });
    expect(y.shape).toEqual([1, 1, 3]);
    expect(y.toArray()).toEqual([3, 5, 4]);
  });
  it('ceil_mode drops a last window that would start past the input and its left pad', () => {
    // (2-1)/2 rounds up to 1 -> 2 windows, but the second would start at 2 = the input size
    const y = run('MaxPool', [f32([1, 1, 2], [7, 8])], { ...k(1), strides: ints(2), ceil_mode: int(1) });
    expect(y.toArray()).toEqual([7]);
    // with pads [1,1]: 3 windows in both modes; the 4th ceil window would start at 5 (in the right pad)
    const x5 = f32([1, 1, 5], [1, 2, 3, 4, 5]);
    expect(run('MaxPool', [x5], { ...k(2), strides: ints(2), pads: ints(1, 1), ceil_mode: int(1) }).toArray()).toEqual([1, 3, 5]);
  });
  it('padding never wins, even over negative values', () => {
    const y = run('MaxPool', [t('int8', [1, 1, 3], [-5, -3, -4])], { ...k(2), pads: ints(1, 1) });
    expect(y.dtype).toBe('int8');
    expect(y.toArray()).toEqual([-5, -3, -3, -4]);
  });
  it('2-D SAME_UPPER / SAME_LOWER with an even kernel', () => {
    const x2 = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    expect(run('MaxPool', [x2], { ...k(2, 2), auto_pad: str('SAME_UPPER') }).toArray()).toEqual([4, 4, 4, 4]);
    expect(run('MaxPool', [x2], { ...k(2, 2), auto_pad: str('SAME_LOWER') }).toArray()).toEqual([1, 2, 3, 4]);
  });
  it('Indices are flat over N*C*spatial, row-major or column-major within the plane', () => {
    const xi = f32([1, 2, 2, 3], [1, 6, 3, 4, 2, 5, 9, 0, 0, 0, 0, 8]);
    const [y, i] = runAll('MaxPool', [xi], k(2, 2), { numOutputs: 2 });
    expect(i.dtype).toBe('int64');
    expect(y.toArray()).toEqual([6, 6, 9, 8]);
    expect(i.toArray()).toEqual([1, 1, 6, 11]);
    const [, ic] = runAll('MaxPool', [xi], { ...k(2, 2), storage_order: int(1) }, { numOutputs: 2 });
    // (h, w) -> h + w * H: (0,1) -> 2; channel 1 (offset 6): (0,0) -> 0, (1,2) -> 5
    expect(ic.toArray()).toEqual([2, 2, 6, 11]);
  });
  it('ties pick the first tap in window order', () => {
    const [, i] = runAll('MaxPool', [f32([1, 1, 2, 2], [7, 7, 7, 7])], k(2, 2), { numOutputs: 2 });
    expect(i.toArray()).toEqual([0]);
  });
  it('3-D', () => {
    const y = run('MaxPool', [f32([1, 1, 2, 2, 2], [8, 1, 2, 3, 4, 5, 6, 7])], { ...k(2, 2, 1) });
    expect(y.shape).toEqual([1, 1, 1, 1, 2]);
    expect(y.toArray()).toEqual([8, 7]);
  });
});

describe('AveragePool and LpPool', () => {
  const x3 = f32([1, 1, 3], [1, 2, 3]);
  it('count_include_pad decides whether pads count in the divisor', () => {
    expect(run('AveragePool', [x3], { ...k(2), pads: ints(1, 1) }).toArray()).toEqual([1, 1.5, 2.5, 3]);
    expect(run('AveragePool', [x3], { ...k(2), pads: ints(1, 1), count_include_pad: int(1) }).toArray()).toEqual([0.5, 1.5, 2.5, 1.5]);
  });
  it('the ceil_mode overhang is never counted, even with count_include_pad', () => {
    const x4 = f32([1, 1, 4], [1, 2, 3, 4]);
    const ceil = { ...k(3), strides: ints(2), ceil_mode: int(1), count_include_pad: int(1) };
    expect(run('AveragePool', [x4], ceil).toArray()).toEqual([2, 3.5]);
    // windows start at -1, 1, 3: the last covers 4, the right pad and the overhang
    expect(run('AveragePool', [x4], { ...ceil, pads: ints(1, 1) }).toArray()).toEqual([1, 3, 2]);
    expect(run('AveragePool', [x4], { ...ceil, pads: ints(1, 1), count_include_pad: int(0) }).toArray()).toEqual([1.5, 3, 4]);
  });
  it('auto_pad and dilations', () => {
    const x4 = f32([1, 1, 4], [1, 2, 3, 4]);
    expect(run('AveragePool', [x4], { ...k(2), auto_pad: str('SAME_UPPER') }).toArray()).toEqual([1.5, 2.5, 3.5, 4]);
    expect(run('AveragePool', [x4], { ...k(2), auto_pad: str('SAME_LOWER') }).toArray()).toEqual([1, 1.5, 2.5, 3.5]);
    expect(run('AveragePool', [x4], { ...k(2), dilations: ints(2) }).toArray()).toEqual([2, 3]);
  });
  it('2-D and 3-D averages; float16 rounds', () => {
    expect(run('AveragePool', [f32([1, 1, 2, 2, 2], seq(8))], k(2, 2, 2)).toArray()).toEqual([4.5]);
    const y = run('AveragePool', [f32([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40])], { ...k(2, 2), strides: ints(2, 2) });
    expect(y.toArray()).toEqual([2.5, 25]);
    const h = run('AveragePool', [t('float16', [1, 1, 3], [1, 0, 0])], k(3));
    expect(h.dtype).toBe('float16');
    expect(h.data[0]).toBe(1365 * 2 ** -12); // 1/3 rounded to float16
  });
  it('LpPool is the p-norm of each window', () => {
    expect(run('LpPool', [f32([1, 1, 3], [3, -4, 0])], { ...k(2), p: int(2) }).toArray()).toEqual([5, 4]);
    const y = run('LpPool', [f32([1, 1, 2], [1, 2])], { ...k(2), p: int(3) });
    expect(y.data[0]).toBeCloseTo(9 ** (1 / 3), 6);
    expect(run('LpPool', [f32([1, 1, 2], [-1, 2])], { ...k(2), p: int(1) }).toArray()).toEqual([3]);
  });
  it('rejects integer inputs', () => {
    expect(evalError('AveragePool', [t('int32', [1, 1, 2], [1, 2])], k(2)).message).toMatch(/floating-point/);
  });
});

describe('Global pools', () => {
  const x = f32([1, 2, 2, 2], [1, 2, 3, 4, -1, -2, -3, -4]);
  it('reduce every spatial dim to 1', () => {
    const a = run('GlobalAveragePool', [x]);
    expect(a.shape).toEqual([1, 2, 1, 1]);
    expect(a.toArray()).toEqual([2.5, -2.5]);
    expect(run('GlobalMaxPool', [x]).toArray()).toEqual([4, -1]);
    expect(run('GlobalLpPool', [x], { p: int(2) }).toArray()).toEqual([Math.fround(Math.sqrt(30)), Math.fround(Math.sqrt(30))]);
    expect(run('GlobalMaxPool', [f32([2, 1, 3], [1, 9, 2, 4, 0, 3])]).shape).toEqual([2, 1, 1]);
  });
});

describe('MaxUnpool', () => {
  const x = f32([1, 1, 4, 4], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  const pool = { ...k(2, 2), strides: ints(2, 2) };
  it('puts each value back where MaxPool found it', () => {
    const [y, i] = runAll('MaxPool', [x], pool, { numOutputs: 2 });
    expect(i.toArray()).toEqual([5, 7, 13, 15]);
    const u = run('MaxUnpool', [y, i], pool);
    expect(u.shape).toEqual([1, 1, 4, 4]);
    expect(u.toArray()).toEqual([0, 0, 0, 0, 0, 6, 0, 8, 0, 0, 0, 0, 0, 14, 0, 16]);
  });
  it('output_shape pads the end of each spatial dim with zeros', () => {
    const [y, i] = runAll('MaxPool', [x], pool, { numOutputs: 2 });
    const u = run('MaxUnpool', [y, i, t('int64', [4], [1, 1, 5, 5])], pool);
    expect(u.shape).toEqual([1, 1, 5, 5]);
    const want = new Array(25).fill(0);
    want[6] = 6;
    want[8] = 8;
    want[16] = 14;
    want[18] = 16;
    expect(u.toArray()).toEqual(want);
  });
  it('diagnostics: out-of-range index, too small output_shape, non-constant output_shape', () => {
    const y = f32([1, 1, 1, 1], [3]);
    expect(evalError('MaxUnpool', [y, t('int64', [1, 1, 1, 1], [4])], pool).message).toMatch(/index 4 in I is outside/);
    expect(evalError('MaxUnpool', [y, t('int64', [1, 1, 1, 1], [0]), t('int64', [4], [1, 1, 1, 2])], pool).message).toMatch(/smaller than/);
    const e = opError(() => infer('MaxUnpool',
      [{ dtype: 'float32', shape: [1, 1, 1, 1] }, { dtype: 'int64', shape: [1, 1, 1, 1] }, { dtype: 'int64', shape: [4] }], pool));
    expect(e.code).toBe('W2003');
  });
});

describe('pool diagnostics', () => {
  it('missing kernel_shape, bad rank, kernel too large, wrong pads length', () => {
    const x = f32([1, 1, 3], [1, 2, 3]);
    expect(evalError('MaxPool', [x]).message).toMatch(/missing required attribute 'kernel_shape'/);
    expect(evalError('MaxPool', [f32([3], [1, 2, 3])], k(2)).message).toMatch(/rank >= 3/);
    expect(evalError('AveragePool', [x], k(4)).message).toMatch(/exceeds the padded input size 3/);
    expect(evalError('MaxPool', [x], { ...k(2), pads: ints(1) }).message).toMatch(/'pads' has 1 values, expected 2/);
    expect(evalError('MaxPool', [x], { ...k(2, 2) }).message).toMatch(/kernel_shape \[2,2\] has 2 dims, but the input has 1 spatial dims/);
    expect(evalError('MaxPool', [x], { ...k(2), storage_order: int(2) }).message).toMatch(/storage_order/);
  });
});
