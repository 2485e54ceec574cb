/**
 * CausalConvWithState (ai.onnx opset 27): the depthwise causal 1-D convolution of state-space and
 * linear-attention decoders, with its rolling state. The ONNX function body defines it as
 *   padded  = Concat(past_state or zeros[N,C,K-1], input, axis=2)
 *   output  = act(Conv(padded, weight [C,1,K], bias, group=C))   act: none | silu (alias swish)
 *   present = padded[:, :, -(K-1):]
 * which this file computes directly. Narrow floats round the convolution before the activation,
 * as the function's Cast/CastLike pair does.
 */
import { allocData, castScalar, isFloat } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor } from '../tensor.js';
import { checkedOp } from './conv-geometry.js';
import type { OpDef } from './registry.js';
import { attrString, fail, need } from './util.js';

function activationOf(attrs: Attrs): 'none' | 'silu' {
  const a = attrString(attrs, 'activation', 'none').toLowerCase();
  if (a === 'none' || a === '') return 'none';
  if (a === 'silu' || a === 'swish') return 'silu';
  return fail(`activation must be none, silu or swish, got '${a}'`);
}

/** Checks shapes; returns [N, C, L, K]. */
function dims(x: StaticType, w: StaticType, b?: StaticType, past?: StaticType): [number, number, number, number] {
  if (!isFloat(x.dtype)) fail(`input must be a floating-point tensor, got ${x.dtype}`);
  if (x.shape.length !== 3) fail(`input must have shape [N, C, L], got [${x.shape.join(',')}]`);
  const [N, C, L] = x.shape;
  if (w.shape.length !== 3 || w.shape[0] !== C || w.shape[1] !== 1 || w.shape[2] < 1) {
    fail(`weight must have shape [${C}, 1, K] (one depthwise filter per channel), got [${w.shape.join(',')}]`);
  }
  const K = w.shape[2];
  for (const [t, what] of [[w, 'weight'], [b, 'bias'], [past, 'past_state']] as const) {
    if (t && t.dtype !== x.dtype) fail(`${what} must have dtype ${x.dtype}, got ${t.dtype}`);
  }
  if (b && (b.shape.length !== 1 || b.shape[0] !== C)) fail(`bias must have shape [${C}], got [${b.shape.join(',')}]`);
  if (past && (past.shape.length !== 3 || past.shape[0] !== N || past.shape[1] !== C || past.shape[2] !== K - 1)) {
    fail(`past_state must have shape [${N}, ${C}, ${K - 1}], got [${past.shape.join(',')}]`);
  }
  return [N, C, L, K];
}

const causalConvWithState: OpDef = {
  infer(inputs, attrs) {
    const x = need(inputs, 0, 'input').type;
    activationOf(attrs);
    const [N, C, , K] = dims(x, need(inputs, 1, 'weight').type, inputs[2]?.type, inputs[3]?.type);
    return [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: x.dtype, shape: [N, C, K - 1] }];
  },
  evaluate(inputs, attrs) {
    const x = need(inputs, 0, 'input');
    const w = need(inputs, 1, 'weight');
    const b = inputs[2];
    const past = inputs[3];
    const act = activationOf(attrs);
    const st = (t: Tensor | undefined): StaticType | undefined => t && { dtype: t.dtype, shape: [...t.shape] };
    const [N, C, L, K] = dims(st(x)!, st(w)!, st(b), st(past));
    const dt = x.dtype;
    const S = K - 1;
    const y = allocData(dt, N * C * L);
    const present = allocData(dt, N * C * S);
    const padded = new Float64Array(S + L);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const nc = n * C + c;
        for (let i = 0; i < S; i++) padded[i] = past ? past.data[nc * S + i] : 0;
        for (let i = 0; i < L; i++) padded[S + i] = x.data[nc * L + i];
        const bv = b ? b.data[c] : 0;
        for (let t = 0; t < L; t++) {
          let s = bv;
          for (let k = 0; k < K; k++) s += w.data[c * K + k] * padded[t + k];
          let v = castScalar(s, dt);
          if (act === 'silu') v = castScalar(v / (1 + Math.exp(-v)), dt);
          y[nc * L + t] = v;
        }
        for (let i = 0; i < S; i++) present[nc * S + i] = padded[L + i];
      }
    }
    return [new Tensor(dt, [N, C, L], y), new Tensor(dt, [N, C, S], present)];
  },
};

export const causalConvOps: Record<string, OpDef> = { CausalConvWithState: checkedOp(causalConvWithState) };
