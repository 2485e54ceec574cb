/**
 * BatchNormalization, in all its opset forms.
 *
 * Inputs X (N x C x D1 ...), scale, B, input_mean, input_var. Inference computes
 * Y = (X - mean) / sqrt(var + epsilon) * scale + B per channel.
 * Training (opset 15: training_mode=1; older opsets: the node declares more than one output) normalizes
 * with the batch statistics (population variance) and also returns the running statistics
 * `input * momentum + batch * (1 - momentum)`; opsets < 15 additionally return the batch mean and
 * variance as saved_mean / saved_var. Opsets < 9 with spatial=0 keep one statistic per (channel,
 * position) instead of per channel: the parameters then have shape C x D1 x ....
 */
import type { Attrs, StaticType } from '../graph.js';
import { Tensor, sizeOf } from '../tensor.js';
import type { InferInput, OpDef, OpInfo } from './registry.js';
import { storeAs } from './normalization-stats.js';
import { attrFloat, attrInt, fail, need, requireFloat } from './util.js';

interface Plan {
  N: number;
  C: number;
  S: number;
  /** Statistics per channel (true) or per channel and position (spatial=0). */
  spatial: boolean;
  training: boolean;
  /** Number of outputs to produce. */
  outputs: number;
}

function plan(xShape: readonly number[], pShapes: (readonly number[])[], attrs: Attrs, info: OpInfo): Plan {
  if (xShape.length < 2) fail(`BatchNormalization needs an input of rank >= 2 (N x C x ...), got rank ${xShape.length}`);
  const N = xShape[0];
  const C = xShape[1];
  const S = sizeOf(xShape.slice(2));
  const spatial = info.opset >= 9 || attrInt(attrs, 'spatial', 1) !== 0;
  const training = info.opset >= 15 ? attrInt(attrs, 'training_mode', 0) !== 0 : info.numOutputs > 1;
  const maxOut = info.opset >= 15 ? (training ? 3 : 1) : 5;
  if (info.numOutputs > maxOut) {
    fail(`BatchNormalization (opset ${info.opset}${info.opset >= 15 ? `, training_mode=${training ? 1 : 0}` : ''}) has at most ${maxOut} output(s), the node declares ${info.numOutputs}`,
      info.opset >= 15 && !training ? 'set training_mode=1 to get the running mean and variance' : undefined);
  }
  const want = spatial ? [C] : xShape.slice(1);
  const names = ['scale', 'B', 'input_mean', 'input_var'];
  pShapes.forEach((s, i) => {
    if (sizeOf(s) !== sizeOf(want) || (spatial && s.length !== 1)) {
      fail(`${names[i]} must have shape [${want.join(',')}], got [${s.join(',')}]`);
    }
  });
  return { N, C, S, spatial, training, outputs: Math.max(1, info.numOutputs) };
}

function params<T>(inputs: (T | undefined)[]): T[] {
  return [1, 2, 3, 4].map((i) => need(inputs, i, ['', 'input scale', 'input B', 'input mean', 'input var'][i]));
}

export const batchNormalization: OpDef = {
  infer(inputs: (InferInput | undefined)[], attrs: Attrs, info: OpInfo): StaticType[] {
    const x = need(inputs, 0, 'input X').type;
    requireFloat(x, 'input X');
    const ps = params(inputs).map((p) => p.type);
    const p = plan(x.shape, ps.map((t) => t.shape), attrs, info);
    const stat = (t: StaticType) => ({ dtype: t.dtype, shape: [...t.shape] });
    const all = [{ dtype: x.dtype, shape: [...x.shape] }, stat(ps[2]), stat(ps[3]), stat(ps[2]), stat(ps[3])];
    return all.slice(0, p.outputs);
  },
  evaluate(inputs: (Tensor | undefined)[], attrs: Attrs, info: OpInfo): Tensor[] {
    const x = need(inputs, 0, 'input X');
    const [scale, bias, inMean, inVar] = params(inputs);
    const p = plan(x.shape, [scale.shape, bias.shape, inMean.shape, inVar.shape], attrs, info);
    const { N, C, S, spatial } = p;
    const eps = attrFloat(attrs, 'epsilon', 1e-5);
    const momentum = attrFloat(attrs, 'momentum', 0.9);
    const units = spatial ? C : C * S; // one statistic per unit
    const xd = x.data;
    const mean = new Float64Array(units);
    const variance = new Float64Array(units);
    if (p.training) batchStats(xd, N, C, S, spatial, mean, variance);
    else {
      mean.set(inMean.data);
      variance.set(inVar.data);
    }
    // per-unit affine coefficients: y = x * a + b
    const a = new Float64Array(units);
    const b = new Float64Array(units);
    for (let u = 0; u < units; u++) {
      a[u] = scale.data[u] / Math.sqrt(variance[u] + eps);
      b[u] = bias.data[u] - mean[u] * a[u];
    }
    const y = new Float64Array(x.size);
    for (let n = 0, i = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        if (spatial) {
          const ac = a[c];
          const bc = b[c];
          for (let s = 0; s < S; s++, i++) y[i] = xd[i] * ac + bc;
        } else {
          for (let s = 0, u = c * S; s < S; s++, i++, u++) y[i] = xd[i] * a[u] + b[u];
        }
      }
    }
    const out = [new Tensor(x.dtype, [...x.shape], storeAs(x.dtype, y))];
    if (p.outputs > 1) {
      const running = (input: Tensor, batch: Float64Array) => {
        const r = new Float64Array(units);
        for (let u = 0; u < units; u++) r[u] = input.data[u] * momentum + batch[u] * (1 - momentum);
        return r;
      };
      const t = (like: Tensor, v: Float64Array) => new Tensor(like.dtype, [...like.shape], storeAs(like.dtype, v));
      out.push(t(inMean, running(inMean, mean)), t(inVar, running(inVar, variance)), t(inMean, mean), t(inVar, variance));
    }
    return out.slice(0, p.outputs);
  },
};

/** Batch mean and population variance per channel (or per channel and position). */
function batchStats(
  xd: ArrayLike<number>, N: number, C: number, S: number, spatial: boolean, mean: Float64Array, variance: Float64Array,
): void {
  const count = spatial ? N * S : N;
  const pass = (f: (v: number, u: number) => void) => {
    for (let n = 0, i = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let s = 0; s < S; s++, i++) f(xd[i], spatial ? c : c * S + s);
      }
    }
  };
  pass((v, u) => (mean[u] += v));
  for (let u = 0; u < mean.length; u++) mean[u] /= count;
  pass((v, u) => {
    const d = v - mean[u];
    variance[u] += d * d;
  });
  for (let u = 0; u < variance.length; u++) variance[u] /= count;
}
