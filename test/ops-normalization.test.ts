/**
 * Softmax family and normalizations: hand-computed values, opset-dependent axis semantics, numerical
 * stability on large inputs, LayerNormalization against a naive implementation, BatchNormalization's
 * training outputs, and the diagnostics for bad axes, shapes and attributes.
 */
import { describe, expect, it } from 'vitest';
import { roundFloat16 } from '../ir/dtype.js';
import type { Tensor } from '../ir/tensor.js';
import { f32, f64, float, int, opError, opHarness, t } from './helpers/ops.js';

const { run, runAll, evaluate } = opHarness({ opset: 23 });

function expectClose(got: Tensor, want: number[], tol = 1e-6): void {
  expect(got.size).toBe(want.length);
  want.forEach((w, i) => {
    if (Number.isNaN(w)) expect(got.data[i]).toBeNaN();
    else expect(Math.abs(got.data[i] - w)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
  });
}

const SM123 = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];

describe('Softmax / LogSoftmax / Hardmax', () => {
  it('softmax over the last axis by default', () => {
    expectClose(run('Softmax', [f64([2, 3], [1, 2, 3, 0, 0, 0])]), [...SM123, 1 / 3, 1 / 3, 1 / 3], 1e-12);
  });
  it('is stable on large values', () => {
    const y = run('Softmax', [f32([1, 3], [10000, 10001, 10002])]);
    expectClose(y, SM123);
    const l = run('LogSoftmax', [f32([3], [1000, 1001, 1002])]);
    expectClose(l, [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806]);
  });
  it('softmax along axis 0 (strided)', () => {
    const s = 1 / (1 + Math.exp(-1));
    const u = 1 / (1 + Math.exp(-2));
    expectClose(run('Softmax', [f64([2, 3], [0, 1, 2, 0, 0, 0])], { axis: int(0) }), [0.5, s, u, 0.5, 1 - s, 1 - u], 1e-12);
  });
  it('opset < 13 flattens to 2-D at axis (default 1); opset 13 uses a single axis', () => {
    const x = f64([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    const row = [0.03205860328008499, 0.08714431874203257, 0.23688281808991013, 0.6439142598879722];
    expectClose(run('Softmax', [x], {}, { opset: 11 }), [...row, ...row], 1e-12);
    const a = 1 / (1 + Math.exp(2));
    expectClose(run('Softmax', [x], { axis: int(1) }, { opset: 13 }), [a, a, 1 - a, 1 - a, a, a, 1 - a, 1 - a], 1e-12);
    // opset 11, axis 0: the whole tensor is one row
    const y = run('Softmax', [x], { axis: int(0) }, { opset: 11 });
    expect(y.toArray().reduce((p, q) => p + q, 0)).toBeCloseTo(1, 12);
  });
  it('logsoftmax equals log of softmax', () => {
    const x = f64([2, 3, 4], Array.from({ length: 24 }, (_, i) => Math.cos(i) * 3));
    const s = run('Softmax', [x], { axis: int(1) });
    const l = run('LogSoftmax', [x], { axis: int(1) });
    expectClose(l, s.toArray().map(Math.log), 1e-12);
  });
  it('hardmax marks the first maximum', () => {
    const x = f32([2, 3], [3, 1, 3, 0, 2, 1]);
    expect(run('Hardmax', [x]).toArray()).toEqual([1, 0, 0, 0, 1, 0]);
    expect(run('Hardmax', [x], { axis: int(0) }).toArray()).toEqual([1, 0, 1, 0, 1, 0]);
  });
  it('rounds float16 results to float16', () => {
    const y = run('Softmax', [t('float16', [3], [1, 2, 3])]);
    expect(y.dtype).toBe('float16');
    expect(y.toArray()).toEqual(SM123.map(roundFloat16));
  });
  it('rejects bad axes and non-float inputs', () => {
    expect(opError(() => run('Softmax', [f32([2, 2], [1, 2, 3, 4])], { axis: int(2) })).code).toBe('W2002');
    expect(opError(() => run('Softmax', [f32([2, 2], [1, 2, 3, 4])], { axis: int(3) }, { opset: 11 })).message).toMatch(/out of range/);
    expect(opError(() => run('LogSoftmax', [t('int32', [2], [1, 2])])).message).toMatch(/floating-point/);
  });
});

/** Naive LayerNormalization for comparison: explicit index arithmetic, no shared code. */
function naiveLayerNorm(x: number[], shape: number[], axis: number, w: number[], b: number[], eps: number) {
  const outer = shape.slice(0, axis).reduce((p, q) => p * q, 1);
  const d = x.length / outer;
  const y: number[] = [];
  const means: number[] = [];
  const invs: number[] = [];
  for (let o = 0; o < outer; o++) {
    const row = x.slice(o * d, (o + 1) * d);
    const m = row.reduce((p, q) => p + q, 0) / d;
    const v = row.reduce((p, q) => p + (q - m) ** 2, 0) / d;
    const inv = 1 / Math.sqrt(v + eps);
    means.push(m);
    invs.push(inv);
    row.forEach((q, j) => y.push((q - m) * inv * w[j % w.length] + b[j % b.length]));
  }
  return { y, means, invs };
}

describe('LayerNormalization / RMSNormalization', () => {
  it('hand-computed row', () => {
    const y = run('LayerNormalization', [f64([1, 4], [1, 2, 3, 4]), f64([4], [1, 1, 1, 1])], { epsilon: float(0) });
    expectClose(y, [-1.3416407864998738, -0.4472135954999579, 0.4472135954999579, 1.3416407864998738], 1e-12);
  });
  for (const axis of [-1, 1, 2, 0]) {
    it(`matches a naive implementation at axis ${axis}, with Mean and InvStdDev`, () => {
      const shape = [2, 3, 4];
      const x = Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.9) * 5 + i * 0.1);
      const a = axis < 0 ? axis + 3 : axis;
      const D = shape.slice(a).reduce((p, q) => p * q, 1);
      const wShape = shape.slice(a).slice(-Math.min(2, 3 - a));
      const wn = wShape.reduce((p, q) => p * q, 1);
      const w = Array.from({ length: wn }, (_, i) => 0.5 + i * 0.25);
      const b = Array.from({ length: wn }, (_, i) => i - 1);
      const [y, mean, inv] = runAll('LayerNormalization', [f64(shape, x), f64(wShape, w), f64(wShape, b)],
        { axis: int(axis), epsilon: float(1e-3) }, { opset: 17, numOutputs: 3 });
      const want = naiveLayerNorm(x, shape, a, w, b, 1e-3);
      expect(D % wn).toBe(0);
      expectClose(y, want.y, 1e-12);
      expect(mean.dtype).toBe('float32'); // stash_type default
      expect(mean.shape).toEqual(shape.map((d, i) => (i < a ? d : 1)));
      expectClose(mean, want.means, 1e-6);
      expectClose(inv, want.invs, 1e-6);
    });
  }
  it('bias is optional and stash_type sets the dtype of the statistics', () => {
    const [, mean] = runAll('LayerNormalization', [f32([2, 2], [1, 3, 5, 9]), f32([2], [1, 1])], { stash_type: int(11) }, { opset: 17, numOutputs: 2 });
    expect(mean.dtype).toBe('float64');
    expect(mean.toArray()).toEqual([2, 7]);
  });
  it('RMSNormalization divides by the root mean square', () => {
    expectClose(run('RMSNormalization', [f64([1, 2], [3, 4]), f64([2], [2, 1])], { epsilon: float(0) }),
      [6 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)], 1e-12);
    // axis 0 normalizes over everything
    expectClose(run('RMSNormalization', [f64([2, 1], [3, 4]), f64([2, 1], [1, 1])], { axis: int(0), epsilon: float(0) }),
      [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)], 1e-12);
  });
  it('rejects a scale that does not broadcast and a bad axis', () => {
    const x = f32([2, 4], new Array(8).fill(1));
    expect(opError(() => run('LayerNormalization', [x, f32([3], [1, 1, 1])])).message).toMatch(/does not broadcast/);
    expect(opError(() => run('RMSNormalization', [x, f32([4], [1, 1, 1, 1])], { axis: int(2) })).code).toBe('W2002');
  });
});

describe('BatchNormalization', () => {
  const x = f32([1, 2, 1, 2], [1, 2, 3, 4]);
  const p = (v: number[]) => f32([2], v);
  it('inference: per-channel affine with the given statistics', () => {
    const y = run('BatchNormalization', [x, p([1, 2]), p([0, 1]), p([1, 3]), p([4, 1])], { epsilon: float(0) }, { opset: 15 });
    expect(y.toArray()).toEqual([0, 0.5, 1, 3]);
  });
  it('training_mode=1 uses batch statistics and returns running mean / var (opset 15)', () => {
    const xt = f32([2, 1, 1, 1], [1, 3]);
    const one = (v: number) => f32([1], [v]);
    const [y, rm, rv] = runAll('BatchNormalization', [xt, one(1), one(0), one(0), one(1)],
      { epsilon: float(0), training_mode: int(1) }, { opset: 15, numOutputs: 3 });
    expect(y.toArray()).toEqual([-1, 1]);
    expectClose(rm, [0.1 * 2]); // 0 * 0.9 + 2 * 0.1
    expectClose(rv, [1]); // 1 * 0.9 + 1 * 0.1
  });
  it('opset 9 training returns saved batch mean and variance as outputs 3 and 4', () => {
    const xt = f32([2, 1], [2, 6]);
    const one = (v: number) => f32([1], [v]);
    const outs = runAll('BatchNormalization', [xt, one(1), one(0), one(0), one(0)], { momentum: float(0.5) }, { opset: 9, numOutputs: 5 });
    expect(outs.map((o) => o.toArray()[0])).toEqual([expect.closeTo(-1, 4), 2, 2, 4, 4]);
  });
  it('opset 7 spatial=0 keeps statistics per channel and position', () => {
    const xs = f32([1, 1, 2], [2, 5]);
    const q = (v: number[]) => f32([1, 2], v);
    const y = run('BatchNormalization', [xs, q([1, 1]), q([0, 0]), q([0, 1]), q([1, 4])], { spatial: int(0), epsilon: float(0) }, { opset: 7 });
    expect(y.toArray()).toEqual([2, 2]);
  });
  it('rejects extra outputs in inference mode and wrongly sized parameters', () => {
    const e = opError(() => evaluate('BatchNormalization', [x, p([1, 1]), p([0, 0]), p([0, 0]), p([1, 1])], {}, { opset: 15, numOutputs: 3 }));
    expect(e.hint).toMatch(/training_mode/);
    expect(opError(() => run('BatchNormalization', [x, f32([3], [1, 1, 1]), p([0, 0]), p([0, 0]), p([1, 1])], {}, { opset: 15 })).message)
      .toMatch(/scale must have shape \[2\]/);
  });
});

describe('InstanceNormalization / GroupNormalization / MeanVarianceNormalization / LpNormalization', () => {
  it('instance norm normalizes each (n, c) over space', () => {
    const y = run('InstanceNormalization', [f32([1, 2, 2], [1, 3, 5, 5]), f32([2], [1, 2]), f32([2], [0, 1])]);
    const k = 1 / Math.sqrt(1 + 1e-5);
    expectClose(y, [-k, k, 1, 1]);
  });
  it('group norm with per-channel (opset 21) and per-group (opset 18) parameters', () => {
    const x = f32([1, 4, 1], [1, 3, 10, 30]);
    const attrs = { num_groups: int(2), epsilon: float(0) };
    expectClose(run('GroupNormalization', [x, f32([4], [1, 2, 3, 4]), f32([4], [0, 0, 0, 1])], attrs, { opset: 21 }), [-1, 2, -3, 5]);
    expectClose(run('GroupNormalization', [x, f32([2], [2, 3]), f32([2], [0, 1])], attrs, { opset: 18 }), [-2, 2, -2, 4]);
  });
  it('group norm rejects a group count that does not divide C', () => {
    const x = f32([1, 4, 1], [1, 3, 10, 30]);
    expect(opError(() => run('GroupNormalization', [x, f32([4], [1, 1, 1, 1]), f32([4], [0, 0, 0, 0])], { num_groups: int(3) })).message)
      .toMatch(/divide/);
  });
  it('MVN normalizes over axes [0, 2, 3] by default', () => {
    const y = run('MeanVarianceNormalization', [f64([1, 2, 1, 2], [1, 3, 2, 2])]);
    expectClose(y, [-1 / (1 + 1e-9), 1 / (1 + 1e-9), 0, 0], 1e-12);
    expect(opError(() => run('MeanVarianceNormalization', [f64([2, 2], [1, 2, 3, 4])])).message).toMatch(/out of range/);
  });
  it('Lp normalization with p = 2 and p = 1 along an axis', () => {
    expectClose(run('LpNormalization', [f32([1, 2], [3, 4])]), [0.6, 0.8]);
    expectClose(run('LpNormalization', [f32([2, 1], [3, -4])], { axis: int(0), p: int(1) }), [3 / 7, -4 / 7]);
    // a zero vector stays zero instead of 0/0
    expect(run('LpNormalization', [f32([2, 2], [0, 0, 0, 5])]).toArray()).toEqual([0, 0, 0, 1]);
    expect(opError(() => run('LpNormalization', [f32([2], [3, 4])], { p: int(3) })).code).toBe('W2002');
  });
});
