/**
 * Elementwise ops: hand-computed values for every op kind, integer wrap/truncation, broadcasting,
 * float16 rounding, and the diagnostics for bad inputs.
 */
import { describe, expect, it } from 'vitest';
import type { Attrs, StaticType } from '../ir/graph.js';
import { erf, roundHalfEven } from '../ir/ops/elementwise-math.js';
import { Tensor } from '../ir/tensor.js';
import { int, opError, opHarness, str, t, vals } from './helpers/ops.js';

const { run, infer } = opHarness();

describe('arithmetic', () => {
  it('adds with numpy broadcasting', () => {
    const out = run('Add', [t('float32', [2, 3], [1, 2, 3, 4, 5, 6]), t('float32', [3], [10, 20, 30])]);
    expect(out.shape).toEqual([2, 3]);
    expect(vals(out)).toEqual([11, 22, 33, 14, 25, 36]);
    const col = run('Sub', [t('float32', [2, 1], [1, 2]), t('float32', [1, 3], [1, 2, 3])]);
    expect(vals(col)).toEqual([0, -1, -2, 1, 0, -1]);
    const scalar = run('Mul', [Tensor.scalar('float64', 3), t('float64', [2], [0.5, -2])]);
    expect(vals(scalar)).toEqual([1.5, -6]);
  });

  it('broadcasts inner and outer dims of rank-4 operands', () => {
    const a = t('int32', [2, 1, 2, 1], [1, 2, 3, 4]);
    const b = t('int32', [1, 3, 1, 2], [10, 20, 30, 40, 50, 60]);
    const out = run('Add', [a, b]);
    expect(out.shape).toEqual([2, 3, 2, 2]);
    // out[i,j,k,l] = a[i,0,k,0] + b[0,j,0,l]
    expect(vals(out).slice(0, 8)).toEqual([11, 21, 12, 22, 31, 41, 32, 42]);
    expect(vals(out)[23]).toEqual(4 + 60);
  });

  it('rounds float32 results to float32', () => {
    const out = run('Div', [t('float32', [1], [1]), t('float32', [1], [3])]);
    expect(out.data[0]).toBe(Math.fround(1 / 3));
  });

  it('wraps integer overflow to the dtype width', () => {
    expect(vals(run('Add', [t('int8', [2], [100, -100]), t('int8', [2], [100, -100])]))).toEqual([-56, 56]);
    expect(vals(run('Add', [t('uint8', [1], [200]), t('uint8', [1], [100])]))).toEqual([44]);
    expect(vals(run('Sub', [t('uint32', [1], [1]), t('uint32', [1], [2])]))).toEqual([4294967295]);
    // a double product would lose the low bits; the int32 result must be the exact wrapped one
    expect(vals(run('Mul', [t('int32', [2], [123456789, 65536]), t('int32', [2], [987654321, 65536])]))).toEqual([-67153019, 0]);
  });

  it('truncates integer division toward zero', () => {
    const out = run('Div', [t('int32', [4], [-7, 7, -7, 7]), t('int32', [4], [2, -2, -2, 2])]);
    expect(vals(out)).toEqual([-3, -3, 3, 3]);
    expect(vals(run('Div', [t('int64', [1], [-9]), t('int64', [1], [4])]))).toEqual([-2]);
    expect(vals(run('Div', [t('uint8', [1], [255]), t('uint8', [1], [2])]))).toEqual([127]);
  });

  it('Mod follows the divisor sign for integers and C fmod with fmod=1', () => {
    const x = t('int32', [4], [-7, 7, -7, 7]);
    const y = t('int32', [4], [3, -3, -3, 3]);
    expect(vals(run('Mod', [x, y]))).toEqual([2, -2, -1, 1]);
    expect(vals(run('Mod', [x, y], { fmod: int(1) }))).toEqual([-1, 1, -1, 1]);
    const f = run('Mod', [t('float32', [2], [5.5, -5.5]), t('float32', [2], [2, 2])], { fmod: int(1) });
    expect(vals(f)).toEqual([1.5, -1.5]);
  });

  it('Pow keeps the base dtype with any exponent dtype', () => {
    expect(vals(run('Pow', [t('int32', [2], [2, 3]), t('int32', [2], [10, 3])]))).toEqual([1024, 27]);
    const fi = run('Pow', [t('float32', [2], [2, 4]), t('int64', [2], [3, -1])]);
    expect(fi.dtype).toBe('float32');
    expect(vals(fi)).toEqual([8, 0.25]);
    const iF = run('Pow', [t('int64', [2], [2, 9]), t('float32', [2], [0.5, 0.5])]);
    expect(iF.dtype).toBe('int64');
    expect(vals(iF)).toEqual([1, 3]); // sqrt(2) truncates to 1
  });

  it('folds Sum, Mean, Min and Max over broadcast inputs', () => {
    const a = t('float32', [2, 2], [1, 2, 3, 4]);
    const b = t('float32', [2], [10, 20]);
    const c = Tensor.scalar('float32', 100);
    expect(vals(run('Sum', [a, b, c]))).toEqual([111, 122, 113, 124]);
    expect(vals(run('Mean', [a, b]))).toEqual([5.5, 11, 6.5, 12]);
    expect(vals(run('Max', [a, t('float32', [2], [2.5, NaN])]))).toEqual([2.5, NaN, 3, NaN]);
    expect(vals(run('Min', [t('int16', [3], [5, -3, 0]), t('int16', [1], [1])]))).toEqual([1, -3, 0]);
    const one = run('Max', [a]);
    expect(vals(one)).toEqual([1, 2, 3, 4]);
    expect(one.data).not.toBe(a.data);
  });

  it('supports opset < 7 broadcast with axis', () => {
    const a = t('float32', [2, 3, 2], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const b = t('float32', [3], [10, 20, 30]);
    const attrs: Attrs = { broadcast: int(1), axis: int(1) };
    expect(vals(run('Add', [a, b], attrs, { opset: 6 }))).toEqual([10, 10, 20, 20, 30, 30, 11, 11, 21, 21, 31, 31]);
  });

  it('computes float16 in double and rounds once to float16', () => {
    // 0.1 + 0.2 in float16: inputs round to 0.0999755859375 and 0.199951171875; the sum
    // 0.2999267578125 rounds to the float16 grid (spacing 2^-12 in [0.25, 0.5)).
    const out = run('Add', [t('float16', [1], [0.1]), t('float16', [1], [0.2])]);
    expect(out.dtype).toBe('float16');
    expect(out.data[0]).toBe(0.2998046875);
  });
});

describe('unary math', () => {
  it('rounds half to even', () => {
    const x = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6];
    expect(vals(run('Round', [t('float32', [9], x)]))).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -3]);
    expect(roundHalfEven(4503599627370497)).toBe(4503599627370497);
  });

  it('computes erf to double precision', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(-1)).toBeCloseTo(-0.8427007929497149, 15);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 15);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 15);
    expect(erf(10)).toBe(1);
    expect(vals(run('Erf', [t('float32', [1], [1])]))).toEqual([Math.fround(0.8427007929497149)]);
  });

  it('computes the Math functions', () => {
    const x = t('float64', [2], [0.25, 4]);
    expect(vals(run('Sqrt', [x]))).toEqual([0.5, 2]);
    expect(vals(run('Reciprocal', [x]))).toEqual([4, 0.25]);
    expect(vals(run('Log', [x]))[1]).toBeCloseTo(1.3862943611198906, 15);
    expect(vals(run('Atanh', [x]))[0]).toBeCloseTo(0.25541281188299536, 15);
    expect(vals(run('Floor', [t('float32', [2], [-1.5, 1.5])]))).toEqual([-2, 1]);
    expect(vals(run('Ceil', [t('float32', [2], [-1.5, 1.5])]))).toEqual([-1, 2]);
  });

  it('Abs, Neg and Sign on integers wrap like C', () => {
    expect(vals(run('Abs', [t('int8', [3], [-128, -5, 7])]))).toEqual([-128, 5, 7]);
    expect(vals(run('Neg', [t('int8', [2], [-128, 5])]))).toEqual([-128, -5]);
    expect(vals(run('Sign', [t('int32', [3], [-9, 0, 4])]))).toEqual([-1, 0, 1]);
  });

  it('IsNaN and IsInf honour detect_negative/detect_positive', () => {
    const x = t('float32', [4], [NaN, Infinity, -Infinity, 1]);
    expect(run('IsNaN', [x]).dtype).toBe('bool');
    expect(vals(run('IsNaN', [x]))).toEqual([1, 0, 0, 0]);
    expect(vals(run('IsInf', [x]))).toEqual([0, 1, 1, 0]);
    expect(vals(run('IsInf', [x], { detect_positive: int(0) }))).toEqual([0, 0, 1, 0]);
    expect(vals(run('IsInf', [x], { detect_negative: int(0) }))).toEqual([0, 1, 0, 0]);
  });
});

describe('comparisons, logic and bitwise ops', () => {
  it('compares into bool with broadcasting', () => {
    const a = t('int64', [2, 2], [1, 5, 3, 4]);
    const b = t('int64', [2], [3, 4]);
    expect(run('Greater', [a, b]).dtype).toBe('bool');
    expect(vals(run('Greater', [a, b]))).toEqual([0, 1, 0, 0]);
    expect(vals(run('LessOrEqual', [a, b]))).toEqual([1, 0, 1, 1]);
    expect(vals(run('Equal', [a, b]))).toEqual([0, 0, 1, 1]);
    expect(vals(run('Equal', [t('float32', [1], [NaN]), t('float32', [1], [NaN])]))).toEqual([0]);
  });

  it('computes And/Or/Xor/Not on bool', () => {
    const a = t('bool', [4], [0, 0, 1, 1]);
    const b = t('bool', [4], [0, 1, 0, 1]);
    expect(vals(run('And', [a, b]))).toEqual([0, 0, 0, 1]);
    expect(vals(run('Or', [a, b]))).toEqual([0, 1, 1, 1]);
    expect(vals(run('Xor', [a, b]))).toEqual([0, 1, 1, 0]);
    expect(vals(run('Not', [a]))).toEqual([1, 1, 0, 0]);
  });

  it('shifts unsigned integers, wrapping at the width', () => {
    const left: Attrs = { direction: str('LEFT') };
    const right: Attrs = { direction: str('RIGHT') };
    expect(vals(run('BitShift', [t('uint8', [2], [200, 1]), t('uint8', [2], [1, 7])], left))).toEqual([144, 128]);
    expect(vals(run('BitShift', [t('uint8', [1], [200]), t('uint8', [1], [3])], right))).toEqual([25]);
    expect(vals(run('BitShift', [t('uint32', [1], [0xffffffff]), t('uint32', [1], [4])], left))).toEqual([0xfffffff0]);
    expect(vals(run('BitShift', [t('uint64', [2], [1, 3]), t('uint64', [2], [40, 63])], left))).toEqual([2 ** 40, 2 ** 63]);
    expect(vals(run('BitShift', [t('uint64', [1], [2 ** 40]), t('uint64', [1], [38])], right))).toEqual([4]);
  });

  it('computes bitwise ops exactly on 64-bit values', () => {
    expect(vals(run('BitwiseAnd', [t('int64', [2], [-1, 2 ** 40 + 5]), t('int64', [2], [255, 7])]))).toEqual([255, 5]);
    expect(vals(run('BitwiseOr', [t('uint64', [1], [2 ** 52]), t('uint64', [1], [3])]))).toEqual([2 ** 52 + 3]);
    expect(vals(run('BitwiseXor', [t('int32', [1], [-1]), t('int32', [1], [5])]))).toEqual([-6]);
    expect(vals(run('BitwiseOr', [t('uint32', [1], [0x80000000]), t('uint32', [1], [1])]))).toEqual([0x80000001]);
    expect(vals(run('BitwiseNot', [t('uint8', [2], [0, 5])]))).toEqual([255, 250]);
    expect(vals(run('BitwiseNot', [t('int64', [2], [5, -1])]))).toEqual([-6, 0]);
  });
});

describe('Cast, CastLike, Clip and Where', () => {
  const to = (code: number): Attrs => ({ to: int(code) });

  it('casts floats to integers by truncation and wrap-around', () => {
    const x = t('float32', [4], [-1.7, 2.9, 300, -129]);
    expect(vals(run('Cast', [x], to(3)))).toEqual([-1, 2, 44, 127]); // int8
    expect(vals(run('Cast', [x], to(2)))).toEqual([255, 2, 44, 127]); // uint8
    expect(vals(run('Cast', [t('float64', [2], [-3.99, 1e10])], to(7)))).toEqual([-3, 1e10]); // int64
  });

  it('casts to and from bool and narrow floats', () => {
    expect(vals(run('Cast', [t('float32', [3], [0, 0.5, -2])], to(9)))).toEqual([0, 1, 1]);
    expect(vals(run('Cast', [t('bool', [2], [1, 0])], to(1)))).toEqual([1, 0]);
    expect(vals(run('Cast', [t('float32', [1], [0.1])], to(10)))).toEqual([0.0999755859375]); // float16
    expect(vals(run('Cast', [t('float32', [1], [0.1])], to(16)))).toEqual([0.10009765625]); // bfloat16
    const like = run('CastLike', [t('float64', [1], [2.5]), t('int16', [0], [])]);
    expect(like.dtype).toBe('int16');
    expect(vals(like)).toEqual([2]);
  });

  it('returns a fresh tensor when the dtype is unchanged', () => {
    const x = t('float32', [2], [1, 2]);
    const y = run('Cast', [x], to(1));
    expect(vals(y)).toEqual([1, 2]);
    expect(y.data).not.toBe(x.data);
  });

  it('clips with optional bounds', () => {
    const x = t('float32', [5], [-3, -1, 0, 1, 3]);
    const lo = Tensor.scalar('float32', -1);
    const hi = Tensor.scalar('float32', 2);
    expect(vals(run('Clip', [x, lo, hi]))).toEqual([-1, -1, 0, 1, 2]);
    expect(vals(run('Clip', [x, undefined, hi]))).toEqual([-3, -1, 0, 1, 2]);
    expect(vals(run('Clip', [x, lo]))).toEqual([-1, -1, 0, 1, 3]);
    expect(vals(run('Clip', [x]))).toEqual([-3, -1, 0, 1, 3]);
    // min > max: every element becomes max
    expect(vals(run('Clip', [x, Tensor.scalar('float32', 2), Tensor.scalar('float32', 1)]))).toEqual([1, 1, 1, 1, 1]);
    expect(vals(run('Clip', [t('int8', [3], [-128, 5, 127]), Tensor.scalar('int8', -5)]))).toEqual([-5, 5, 127]);
  });

  it('selects with Where over a three-way broadcast', () => {
    const cond = t('bool', [2, 1], [1, 0]);
    const x = t('int32', [3], [1, 2, 3]);
    const y = Tensor.scalar('int32', -1);
    const out = run('Where', [cond, x, y]);
    expect(out.shape).toEqual([2, 3]);
    expect(vals(out)).toEqual([1, 2, 3, -1, -1, -1]);
    // out[i,j,k] = cond[i,0,k] ? x[0,j,0] : y[k]
    const c3 = t('bool', [2, 1, 3], [1, 0, 1, 0, 1, 0]);
    const x3 = t('float32', [1, 2, 1], [10, 20]);
    const y3 = t('float32', [3], [-1, -2, -3]);
    expect(vals(run('Where', [c3, x3, y3]))).toEqual([10, -2, 10, 20, -2, 20, -1, 10, -3, -1, 20, -3]);
    const s = run('Where', [Tensor.scalar('bool', 0), Tensor.scalar('int64', 1), Tensor.scalar('int64', 2)]);
    expect(s.shape).toEqual([]);
    expect(vals(s)).toEqual([2]);
  });
});

describe('diagnostics', () => {
  it('reports shapes that do not broadcast', () => {
    const e = opError(() => run('Add', [t('float32', [2, 3], [0, 0, 0, 0, 0, 0]), t('float32', [4], [0, 0, 0, 0])]));
    expect(e.code).toBe('W2002');
    expect(e.message).toMatch(/\[2,3\] and \[4\] cannot be broadcast/);
    expect(() => infer('Mul', [{ dtype: 'float32', shape: [5, 2] }, { dtype: 'float32', shape: [3, 1] }])).toThrow(/cannot be broadcast/);
  });

  it('reports mismatched and unsupported dtypes', () => {
    expect(opError(() => infer('Add', [{ dtype: 'float32', shape: [2] }, { dtype: 'int32', shape: [2] }])).message).toMatch(
      /same dtype, got float32 and int32/,
    );
    expect(opError(() => infer('Sqrt', [{ dtype: 'int32', shape: [2] }])).message).toMatch(/int32.*floating|float dtype/);
    expect(opError(() => infer('And', [{ dtype: 'int32', shape: [2] }, { dtype: 'int32', shape: [2] }])).message).toMatch(/bool/);
    expect(opError(() => infer('BitShift', [{ dtype: 'int32', shape: [2] }, { dtype: 'int32', shape: [2] }])).message).toMatch(/unsigned/);
  });

  it('rejects bad attributes and unsupported cast targets', () => {
    const u8: StaticType = { dtype: 'uint8', shape: [1] };
    expect(opError(() => infer('BitShift', [u8, u8], { direction: str('UP') })).message).toMatch(/LEFT.*RIGHT/);
    expect(opError(() => infer('Cast', [u8])).message).toMatch(/'to'/);
    expect(opError(() => infer('Cast', [u8], { to: int(8) })).message).toMatch(/STRING/);
    expect(opError(() => infer('Cast', [u8], { to: int(17) })).message).toMatch(/FLOAT8E4M3FN/);
    expect(opError(() => run('Clip', [t('float32', [1], [0]), t('float32', [2], [0, 1])])).message).toMatch(/min must be a scalar/);
  });
});
