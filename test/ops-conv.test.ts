/**
 * Convolutions: Conv (1-D/2-D/3-D, pads, strides, dilations, groups, auto_pad, bias, the 1x1 fast path
 * and column chunking checked against a naive loop), ConvTranspose (strides, pads, output_padding,
 * output_shape, auto_pad, dilations, groups), ConvInteger, QLinearConv, DeformConv,
 * CausalConvWithState, and the diagnostics for bad shapes and attributes.
 */
import { describe, expect, it } from 'vitest';
import type { Attrs } from '../ir/graph.js';
import { seededFloats } from '../ir/random.js';
import type { Tensor } from '../ir/tensor.js';
import { f32, int, ints, opHarness, seq, str, t } from './helpers/ops.js';

const { run, runAll, opErrorOfBoth } = opHarness({ opset: 22, consts: true });

function expectClose(got: Tensor, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.size).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got.data[i] - want[i]), `element ${i}: ${got.data[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
  }
}

/** Naive 2-D grouped convolution, straight from the definition. */
function naiveConv2d(
  x: Tensor, w: Tensor, group: number, stride: number, pad: number, dil: number,
): { shape: number[]; data: number[] } {
  const [N, C, H, W] = x.shape;
  const [M, Cg, kH, kW] = w.shape;
  const oH = Math.floor((H + 2 * pad - (kH - 1) * dil - 1) / stride) + 1;
  const oW = Math.floor((W + 2 * pad - (kW - 1) * dil - 1) / stride) + 1;
  const Mg = M / group;
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) {
    const g = Math.floor(m / Mg);
    for (let oh = 0; oh < oH; oh++) for (let ow = 0; ow < oW; ow++) {
      let s = 0;
      for (let c = 0; c < Cg; c++) for (let i = 0; i < kH; i++) for (let j = 0; j < kW; j++) {
        const h = oh * stride - pad + i * dil;
        const ww = ow * stride - pad + j * dil;
        if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
        s += x.data[((n * C + g * Cg + c) * H + h) * W + ww] * w.data[((m * Cg + c) * kH + i) * kW + j];
      }
      out.push(s);
    }
  }
  return { shape: [N, M, oH, oW], data: out };
}

describe('Conv 1-D', () => {
  const x = f32([1, 1, 5], [1, 2, 3, 4, 5]);
  const w = f32([1, 1, 3], [1, 0, -1]);
  it('valid convolution (a correlation, not flipped)', () => {
    const y = run('Conv', [x, w]);
    expect(y.shape).toEqual([1, 1, 3]);
    expect(y.toArray()).toEqual([-2, -2, -2]);
  });
  it('explicit pads read zeros', () => {
    expect(run('Conv', [x, w], { pads: ints(1, 1) }).toArray()).toEqual([-2, -2, -2, -2, 4]);
  });
  it('strides with pads', () => {
    expect(run('Conv', [x, w], { pads: ints(1, 1), strides: ints(2) }).toArray()).toEqual([-2, -2, 4]);
  });
  it('dilations spread the taps', () => {
    const y = run('Conv', [x, w], { dilations: ints(2) });
    expect(y.shape).toEqual([1, 1, 1]);
    expect(y.toArray()).toEqual([1 - 5]);
  });
  it('SAME_UPPER puts the odd pad at the end, SAME_LOWER at the start', () => {
    const x4 = f32([1, 1, 4], [1, 2, 3, 4]);
    const w2 = f32([1, 1, 2], [1, 10]);
    expect(run('Conv', [x4, w2], { auto_pad: str('SAME_UPPER') }).toArray()).toEqual([21, 32, 43, 4]);
    expect(run('Conv', [x4, w2], { auto_pad: str('SAME_LOWER') }).toArray()).toEqual([10, 21, 32, 43]);
    // with stride 2 the output is ceil(4/2) = 2 and no padding is needed
    expect(run('Conv', [x4, w2], { auto_pad: str('SAME_UPPER'), strides: ints(2) }).toArray()).toEqual([21, 43]);
    expect(run('Conv', [x4, w2], { auto_pad: str('VALID'), pads: ints(5, 5) }).toArray()).toEqual([21, 32, 43]);
  });
});

describe('Conv 2-D and 3-D', () => {
  it('padding and stride: each window sums what it covers', () => {
    const x = f32([1, 1, 3, 3], seq(9));
    const w = f32([1, 1, 2, 2], [1, 1, 1, 1]);
    const y = run('Conv', [x, w], { pads: ints(1, 1, 1, 1), strides: ints(2, 2) });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(y.toArray()).toEqual([1, 2 + 3, 4 + 7, 5 + 6 + 8 + 9]);
  });
  it('asymmetric pads change the output size per side', () => {
    const x = f32([1, 1, 3, 3], seq(9));
    const w = f32([1, 1, 1, 1], [2]);
    const y = run('Conv', [x, w], { pads: ints(1, 0, 0, 1) });
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(y.toArray()).toEqual([0, 0, 0, 0, 2, 4, 6, 0, 8, 10, 12, 0, 14, 16, 18, 0]);
  });
  it('groups convolve channel blocks separately; bias is per output channel', () => {
    const x = f32([1, 2, 3], [1, 2, 3, 10, 20, 30]);
    const w = f32([2, 1, 2], [1, 1, 1, -1]);
    const b = f32([2], [100, 200]);
    expect(run('Conv', [x, w, b], { group: int(2) }).toArray()).toEqual([103, 105, 190, 190]);
    // depthwise multiplier 2: four output channels, two per group
    const w4 = f32([4, 1, 1], [1, 2, 3, 4]);
    expect(run('Conv', [x, w4], { group: int(2) }).toArray()).toEqual([1, 2, 3, 2, 4, 6, 30, 60, 90, 40, 80, 120]);
  });
  it('3-D with pads: corners see one input, the centre sees all', () => {
    const x = f32([1, 1, 2, 2, 2], seq(8));
    const w = f32([1, 1, 2, 2, 2], new Array(8).fill(1));
    const y = run('Conv', [x, w], { pads: ints(1, 1, 1, 1, 1, 1) });
    expect(y.shape).toEqual([1, 1, 3, 3, 3]);
    expect(y.data[0]).toBe(1);
    expect(y.data[13]).toBe(36);
    expect(y.data[26]).toBe(8);
    expect(y.toArray().reduce((a, b) => a + b, 0)).toBe(36 * 8);
  });
  it('1x1 convolution (direct path) is a channel matmul, batch by batch', () => {
    const x = f32([2, 2, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const w = f32([3, 2, 1, 1], [1, 0, 0, 1, 1, 1]);
    const y = run('Conv', [x, w]);
    expect(y.toArray()).toEqual([1, 2, 3, 4, 4, 6, 5, 6, 7, 8, 12, 14]);
  });
  it('agrees with a naive loop on a grouped, strided, dilated conv large enough to be chunked', () => {
    // 64*3*3 = 576 im2col rows x 4096 columns exceeds the column budget, so it runs in two chunks
    const x = f32([1, 128, 64, 64], seededFloats(1, 128 * 4096));
    const w = f32([8, 64, 3, 3], seededFloats(2, 8 * 64 * 9));
    const y = run('Conv', [x, w], { group: int(2), pads: ints(2, 2, 2, 2), dilations: ints(2, 2) });
    const want = naiveConv2d(x, w, 2, 1, 2, 2);
    expect(y.shape).toEqual(want.shape);
    expectClose(y, want.data, 1e-5);
    const ys = run('Conv', [x, w], { group: int(2), pads: ints(1, 1, 1, 1), strides: ints(3, 3) });
    const wants = naiveConv2d(x, w, 2, 3, 1, 1);
    expect(ys.shape).toEqual(wants.shape);
    expectClose(ys, wants.data, 1e-5);
  });
  it('float16 and float64 keep their dtype; float16 results are rounded to float16', () => {
    const x = t('float16', [1, 1, 3], [1, 1, 1]);
    const w = t('float16', [1, 1, 3], [0.1, 0.1, 0.1]);
    const y = run('Conv', [x, w]);
    expect(y.dtype).toBe('float16');
    // 3 * fp16(0.1) = 0.2999267578125, rounded to the nearest float16
    expect(y.data[0]).toBe(0.2998046875);
    const yd = run('Conv', [t('float64', [1, 1, 2], [0.1, 0.2]), t('float64', [1, 1, 1], [3])]);
    expect(yd.toArray()).toEqual([0.1 * 3, 0.2 * 3]);
  });
});

describe('Conv diagnostics', () => {
  it('channel mismatch between X and W', () => {
    const e = opErrorOfBoth('Conv', [f32([1, 3, 5, 5], seq(75)), f32([2, 2, 3, 3], seq(36))]);
    expect(e.message).toMatch(/channel mismatch: X has 3 channels/);
  });
  it('group must divide the input and output channels', () => {
    expect(opErrorOfBoth('Conv', [f32([1, 3, 5, 5], seq(75)), f32([2, 1, 3, 3], seq(18))], { group: int(2) }).message)
      .toMatch(/group 2 does not divide the 3 input channels/);
    expect(opErrorOfBoth('Conv', [f32([1, 4, 5, 5], seq(100)), f32([3, 2, 3, 3], seq(54))], { group: int(2) }).message)
      .toMatch(/group 2 does not divide the 3 output channels/);
  });
  it('kernel larger than the padded input', () => {
    expect(opErrorOfBoth('Conv', [f32([1, 1, 2, 2], seq(4)), f32([1, 1, 3, 3], seq(9))]).message).toMatch(/exceeds the padded input size 2/);
  });
  it('bad attribute lengths, kernel_shape disagreeing with W, bad auto_pad', () => {
    const x = f32([1, 1, 4, 4], seq(16));
    const w = f32([1, 1, 2, 2], seq(4));
    expect(opErrorOfBoth('Conv', [x, w], { strides: ints(1) }).message).toMatch(/'strides' has 1 values, expected 2/);
    expect(opErrorOfBoth('Conv', [x, w], { pads: ints(1, 1) }).message).toMatch(/'pads' has 2 values, expected 4/);
    expect(opErrorOfBoth('Conv', [x, w], { kernel_shape: ints(3, 3) }).message).toMatch(/disagrees with the weight/);
    expect(opErrorOfBoth('Conv', [x, w], { auto_pad: str('SAME') }).message).toMatch(/auto_pad must be/);
    expect(opErrorOfBoth('Conv', [x, w], { strides: ints(0, 1) }).message).toMatch(/>= 1/);
  });
  it('rank, bias shape and dtype checks', () => {
    expect(opErrorOfBoth('Conv', [f32([4, 4], seq(16)), f32([1, 1], [1])]).message).toMatch(/rank >= 3/);
    expect(opErrorOfBoth('Conv', [f32([1, 1, 4], seq(4)), f32([1, 1, 2, 2], seq(4))]).message).toMatch(/same rank/);
    expect(opErrorOfBoth('Conv', [f32([1, 1, 4], seq(4)), f32([2, 1, 2], seq(4)), f32([3], [1, 2, 3])]).message).toMatch(/bias B must have shape \[2\]/);
    expect(opErrorOfBoth('Conv', [f32([1, 1, 4], seq(4)), t('float64', [1, 1, 2], [1, 2])]).message).toMatch(/same dtype/);
  });
});

describe('ConvTranspose', () => {
  const x = f32([1, 1, 3], [1, 2, 3]);
  const ones = f32([1, 1, 3], [1, 1, 1]);
  it('stride 1 is the full convolution', () => {
    expect(run('ConvTranspose', [x, ones]).toArray()).toEqual([1, 3, 6, 5, 3]);
  });
  it('stride 2 interleaves, pads crop both ends', () => {
    expect(run('ConvTranspose', [x, ones], { strides: ints(2) }).toArray()).toEqual([1, 1, 3, 2, 5, 3, 3]);
    expect(run('ConvTranspose', [x, ones], { strides: ints(2), pads: ints(1, 1) }).toArray()).toEqual([1, 3, 2, 5, 3]);
  });
  it('output_padding and output_shape extend the end; bias fills it too', () => {
    const b = f32([1], [10]);
    const want = [11, 11, 13, 12, 15, 13, 13, 10];
    expect(run('ConvTranspose', [x, ones, b], { strides: ints(2), output_padding: ints(1) }).toArray()).toEqual(want);
    expect(run('ConvTranspose', [x, ones, b], { strides: ints(2), output_shape: ints(8) }).toArray()).toEqual(want);
    // a smaller output_shape crops; an odd total crops more at the start for NOTSET
    expect(run('ConvTranspose', [x, ones], { strides: ints(2), output_shape: ints(4) }).toArray()).toEqual([3, 2, 5, 3]);
  });
  it('SAME_UPPER / SAME_LOWER give in*stride outputs', () => {
    expect(run('ConvTranspose', [x, ones], { strides: ints(2), auto_pad: str('SAME_UPPER') }).toArray()).toEqual([1, 1, 3, 2, 5, 3]);
    expect(run('ConvTranspose', [x, ones], { strides: ints(2), auto_pad: str('SAME_LOWER') }).toArray()).toEqual([1, 3, 2, 5, 3, 3]);
  });
  it('dilations', () => {
    expect(run('ConvTranspose', [x, f32([1, 1, 2], [1, 10])], { dilations: ints(2) }).toArray()).toEqual([1, 2, 13, 20, 30]);
  });
  it('groups and several output channels per group (W is [C, M/group, k...])', () => {
    const x2 = f32([1, 2, 1, 1], [2, 3]);
    const w = f32([2, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const y = run('ConvTranspose', [x2, w], { group: int(2) });
    expect(y.shape).toEqual([1, 2, 2, 2]);
    expect(y.toArray()).toEqual([2, 4, 6, 8, 15, 18, 21, 24]);
    const w2 = f32([1, 2, 2], [1, 1, 10, 10]);
    const y2 = run('ConvTranspose', [x, w2]);
    expect(y2.shape).toEqual([1, 2, 4]);
    expect(y2.toArray()).toEqual([1, 3, 5, 3, 10, 30, 50, 30]);
  });
  it('is the adjoint of Conv: <Conv(x), y> = <x, ConvTranspose(y)>', () => {
    const xs = f32([1, 3, 7, 6], seededFloats(5, 126));
    const w = f32([4, 3, 3, 2], seededFloats(6, 72));
    const attrs: Attrs = { strides: ints(2, 3), pads: ints(1, 0, 1, 1), dilations: ints(1, 2) };
    const cx = run('Conv', [xs, w], attrs);
    const ys = f32([...cx.shape], seededFloats(7, cx.size));
    const ty = run('ConvTranspose', [ys, w], { ...attrs, output_shape: ints(7, 6) });
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < cx.size; i++) lhs += cx.data[i] * ys.data[i];
    for (let i = 0; i < xs.size; i++) rhs += xs.data[i] * ty.data[i];
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4);
  });
  it('float64 (plain GEMM path) agrees with float32 (blocked kernel path)', () => {
    const vx = seededFloats(8, 2 * 4 * 5 * 3);
    const vw = seededFloats(9, 4 * 3 * 2 * 3);
    const attrs: Attrs = { group: int(2), strides: ints(2, 1), pads: ints(0, 1, 1, 0) };
    const a = run('ConvTranspose', [f32([2, 4, 5, 3], vx), f32([4, 3, 2, 3], vw)], attrs);
    const b = run('ConvTranspose', [t('float64', [2, 4, 5, 3], vx), t('float64', [4, 3, 2, 3], vw)], attrs);
    expect(b.dtype).toBe('float64');
    expect(b.shape).toEqual([2, 6, 9, 4]);
    expectClose(a, b.toArray(), 1e-6);
  });
  it('diagnostics: channel mismatch and output_padding too large', () => {
    expect(opErrorOfBoth('ConvTranspose', [f32([1, 2, 3], seq(6)), f32([3, 1, 2], seq(6))]).message).toMatch(/channel mismatch/);
    expect(opErrorOfBoth('ConvTranspose', [x, ones], { strides: ints(2), output_padding: ints(2) }).message).toMatch(/output_padding 2/);
    expect(opErrorOfBoth('ConvTranspose', [x, ones], { pads: ints(3, 3) }).message).toMatch(/not positive/);
  });
});

describe('integer and quantized convolutions', () => {
  it('ConvInteger subtracts zero points, so padding reads the zero point', () => {
    const x = t('uint8', [1, 1, 3], [2, 3, 4]);
    const w = t('uint8', [1, 1, 2], [1, 2]);
    const zp = t('uint8', [], [1]);
    const y = run('ConvInteger', [x, w, zp], { pads: ints(1, 1) });
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([2, 5, 8, 3]);
  });
  it('ConvInteger per-channel weight zero points', () => {
    const x = t('int8', [1, 1, 2], [-1, 2]);
    const w = t('int8', [2, 1, 1], [3, 3]);
    const y = run('ConvInteger', [x, w, undefined, t('int8', [2], [1, 4])]);
    expect(y.toArray()).toEqual([-2, 4, 1, -2]);
  });
  it('QLinearConv requantizes with round-half-even and saturates', () => {
    const x = t('uint8', [1, 1, 3], [10, 20, 11]);
    const w = t('uint8', [1, 1, 1], [3]);
    const s = (v: number) => f32([], [v]);
    const inputs = [x, s(0.5), t('uint8', [], [10]), w, s(2), t('uint8', [], [1]), s(0.25), t('uint8', [], [5])];
    // real acc = (x-10)*(3-1) = [0, 20, 2]; *0.5*2/0.25 = [0, 80, 8]; + 5
    expect(run('QLinearConv', inputs).toArray()).toEqual([5, 85, 13]);
    inputs[6] = s(0.01);
    expect(run('QLinearConv', inputs).toArray()).toEqual([5, 255, 205]);
    inputs[6] = s(0.25);
    inputs[3] = t('uint8', [1, 1, 1], [1]);
    inputs[4] = s(0.3125);
    // w - w_zero_point = 0, so only the bias is left: 4 * 0.5*0.3125/0.25 = 2.5 rounds to even 2, + 5
    expect(run('QLinearConv', [...inputs, t('int32', [1], [4])]).toArray()).toEqual([7, 7, 7]);
  });
  it('rejects float inputs', () => {
    expect(opErrorOfBoth('ConvInteger', [f32([1, 1, 2], [1, 2]), f32([1, 1, 1], [1])]).message).toMatch(/uint8 or int8/);
  });
});

describe('DeformConv', () => {
  const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
  const w = f32([1, 1, 1, 1], [1]);
  it('zero offsets give Conv', () => {
    const off = f32([1, 2, 2, 2], new Array(8).fill(0));
    expect(run('DeformConv', [x, w, off]).toArray()).toEqual([1, 2, 3, 4]);
  });
  it('fractional offsets interpolate bilinearly with zeros outside; mask scales', () => {
    const off = f32([1, 2, 2, 2], [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5]);
    expect(run('DeformConv', [x, w, off]).toArray()).toEqual([1.5, 1, 3.5, 2]);
    const mask = f32([1, 1, 2, 2], [0.5, 0.5, 0.5, 0.5]);
    expect(run('DeformConv', [x, w, off, f32([1], [10]), mask]).toArray()).toEqual([10.75, 10.5, 11.75, 11]);
  });
  it('checks the offset shape', () => {
    expect(opErrorOfBoth('DeformConv', [x, w, f32([1, 2, 1, 1], [0, 0])]).message).toMatch(/offset must have shape \[1,2,2,2\]/);
  });
});

describe('CausalConvWithState', () => {
  const x = f32([1, 1, 3], [1, 2, 3]);
  const w = f32([1, 1, 2], [1, 10]);
  it('left-pads with zeros (or the past state) and returns the last K-1 inputs as state', () => {
    const [y, st] = runAll('CausalConvWithState', [x, w], {}, { numOutputs: 2 });
    expect(y.toArray()).toEqual([10, 21, 32]);
    expect(st.toArray()).toEqual([3]);
    const [y2] = runAll('CausalConvWithState', [x, w, f32([1], [100]), f32([1, 1, 1], [5])], {}, { numOutputs: 2 });
    expect(y2.toArray()).toEqual([115, 121, 132]);
  });
  it('silu activation', () => {
    const [y] = runAll('CausalConvWithState', [x, w], { activation: str('silu') }, { numOutputs: 2 });
    expectClose(y, [10, 21, 32].map((v) => v / (1 + Math.exp(-v))));
  });
  it('checks the past_state shape', () => {
    expect(opErrorOfBoth('CausalConvWithState', [x, w, undefined, f32([1, 1, 2], [0, 0])]).message).toMatch(/past_state must have shape \[1, 1, 1\]/);
  });
});
