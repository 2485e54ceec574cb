/**
 * Activation ops: hand-computed values at a few points each (defaults and explicit attributes),
 * narrow-float rounding, PRelu's unidirectional broadcast, and attribute diagnostics.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../ir/dtype.js';
import type { Attrs } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import { expectOpError, float, opHarness, str, vals } from './helpers/ops.js';

const { run } = opHarness({ opset: 24 });
const f64 = (values: number[]): Tensor => Tensor.from('float64', [values.length], values);
const alpha = (value: number): Attrs => ({ alpha: float(value) });

/** Each computed value equals the expected one to ~1e-12 relative. */
function close(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 12));
}

describe('Relu family', () => {
  it('Relu works on floats and integers', () => {
    expect(vals(run('Relu', [f64([-1, 0, 2.5])]))).toEqual([0, 0, 2.5]);
    expect(vals(run('Relu', [Tensor.from('int32', [3], [-7, 0, 7])]))).toEqual([0, 0, 7]);
  });

  it('LeakyRelu uses alpha (default 0.01 as float32)', () => {
    close(vals(run('LeakyRelu', [f64([-2, 3])])), [Math.fround(0.01) * -2, 3]);
    close(vals(run('LeakyRelu', [f64([-2, 3])], alpha(0.5))), [-1, 3]);
  });

  it('Elu, Selu and Celu', () => {
    close(vals(run('Elu', [f64([-1, 2])], alpha(2))), [-1.2642411176571153, 2]);
    // Selu defaults: gamma * x for x > 0, gamma * alpha * (e^x - 1) otherwise
    close(vals(run('Selu', [f64([1, -1])])), [1.0507010221481323, -1.1113307412864784]);
    close(vals(run('Selu', [f64([2, -1])], { alpha: float(2), gamma: float(3) })), [
      6,
      6 * (Math.exp(-1) - 1),
    ]);
    close(vals(run('Celu', [f64([-1, 1])], alpha(2))), [-0.7869386805747332, 1]);
  });

  it('ThresholdedRelu keeps values strictly above alpha', () => {
    expect(vals(run('ThresholdedRelu', [f64([1, 2, 3])], alpha(2)))).toEqual([0, 0, 3]);
    expect(vals(run('ThresholdedRelu', [f64([1, 1.5])]))).toEqual([0, 1.5]);
  });

  it('PRelu broadcasts the slope to the input shape only', () => {
    const x = Tensor.from('float32', [2, 3], [-1, 2, -3, 4, -5, 6]);
    expect(vals(run('PRelu', [x, Tensor.from('float32', [3], [0.5, 1, 2])]))).toEqual([-0.5, 2, -6, 4, -5, 6]);
    expect(vals(run('PRelu', [x, Tensor.from('float32', [2, 1], [0, 1])]))).toEqual([-0, 2, -0, 4, -5, 6]);
    expectOpError(
      () => run('PRelu', [Tensor.from('float32', [3], [1, 2, 3]), Tensor.from('float32', [2, 3], [1, 1, 1, 1, 1, 1])]),
      'W2002',
      /does not broadcast to the input's shape \[3\]/,
    );
  });
});

describe('smooth activations', () => {
  it('Sigmoid, HardSigmoid and HardSwish', () => {
    close(vals(run('Sigmoid', [f64([0, 1, -1000])])), [0.5, 0.7310585786300049, 0]);
    close(vals(run('HardSigmoid', [f64([1, 10, -10])])), [Math.fround(0.2) + Math.fround(0.5), 1, 0]);
    close(vals(run('HardSigmoid', [f64([1])], { alpha: float(0.5), beta: float(0.25) })), [0.75]);
    close(vals(run('HardSwish', [f64([1, -4, 4])])), [Math.fround(1 / 6) + 0.5, 0, 4]);
  });

  it('Softplus is stable at both ends; Softsign', () => {
    close(vals(run('Softplus', [f64([0, 100])])), [Math.LN2, 100]);
    expect(run('Softplus', [f64([-100])]).data[0]).toBeCloseTo(Math.exp(-100), 55);
    close(vals(run('Softsign', [f64([3, -1])])), [0.75, -0.5]);
  });

  it('Gelu exact and tanh approximation', () => {
    close(vals(run('Gelu', [f64([1, -1, 0])])), [0.8413447460685429, -0.15865525393145707, 0]);
    close(vals(run('Gelu', [f64([1])], { approximate: str('tanh') })), [0.8411919906082768]);
    expect(() => run('Gelu', [f64([1])], { approximate: str('fast') })).toThrow(/"none" or "tanh"/);
  });

  it('Swish, SwiGLU and Mish', () => {
    close(vals(run('Swish', [f64([2])], alpha(0.5))), [1.4621171572600098]);
    close(vals(run('Swish', [f64([1])])), [0.7310585786300049]);
    close(vals(run('SwiGLU', [f64([1, 0]), f64([2, 5])])), [1.4621171572600098, 0]);
    close(vals(run('SwiGLU', [f64([2]), f64([1])], alpha(0.5))), [1.4621171572600098]);
    close(vals(run('Mish', [f64([1, 0])])), [0.8650983882673103, 0]);
  });
});

describe('dtypes', () => {
  it('rounds float16/bfloat16 results once to the dtype', () => {
    const h = run('Sigmoid', [Tensor.from('float16', [1], [1])]);
    expect(h.dtype).toBe('float16');
    expect(h.data[0]).toBe(0.73095703125); // sigmoid(1) = 0.73105857... on the 2^-11 grid
    const b = run('Elu', [Tensor.from('bfloat16' as DType, [1], [-1])]);
    expect(b.data[0]).toBe(-0.6328125); // e^-1 - 1 = -0.63212... on the 2^-8 grid of bfloat16
  });

  it('rejects integer inputs where only floats are defined', () => {
    expect(() => run('Sigmoid', [Tensor.from('int32', [1], [1])])).toThrow(/float dtype/);
  });
});
