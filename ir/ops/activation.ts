/**
 * Activation functions: Relu and its variants, sigmoid-like and softplus-like functions, Gelu,
 * Swish/SwiGLU and PRelu.
 *
 * All are elementwise and built on the shared kernels of elementwise-kernel.ts: math is done in double
 * and rounded once to the output dtype (float16/bfloat16 included). Attribute defaults are ONNX's;
 * ONNX stores float attributes as float32, so e.g. LeakyRelu's default alpha is fround(0.01).
 */
import type { DType } from '../dtype.js';
import type { Attrs } from '../graph.js';
import type { OpDef } from './registry.js';
import { type Fn1, type Typed, binaryMap, binaryOp, checkClass, unaryOp } from './elementwise-kernel.js';
import { erf } from './elementwise-math.js';
import { attrFloat, attrString, broadcastShapes, fail, need } from './util.js';

const f32 = Math.fround;
const alphaOf = (attrs: Attrs, dflt: number): number => attrFloat(attrs, 'alpha', f32(dflt));

const sigmoid: Fn1 = (x) => 1 / (1 + Math.exp(-x));
/** log(1 + e^x) without overflow for large x or loss of precision for very negative x. */
const softplus: Fn1 = (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** A float-only activation whose function depends on the attributes. */
const act = (fn: (attrs: Attrs) => Fn1): OpDef => unaryOp({ accepts: 'float', fn: (_d, attrs) => fn(attrs) });

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function geluMode(attrs: Attrs): 'none' | 'tanh' {
  const m = attrString(attrs, 'approximate', 'none');
  if (m !== 'none' && m !== 'tanh') fail(`attribute 'approximate' must be "none" or "tanh", got "${m}"`);
  return m;
}

/** PRelu: the slope broadcasts to X's shape (unidirectionally: the output always has X's shape). */
function preluShape(x: Typed, slope: Typed): number[] {
  const s = broadcastShapes(x.shape, slope.shape);
  if (s.length !== x.shape.length || s.some((d, i) => d !== x.shape[i])) {
    fail(`slope of shape [${slope.shape.join(',')}] does not broadcast to the input's shape [${x.shape.join(',')}]`);
  }
  return s;
}

const prelu: OpDef = {
  infer(inputs) {
    const x = need(inputs, 0).type;
    const slope = need(inputs, 1, 'slope').type;
    checkClass(x.dtype, 'numeric');
    if (slope.dtype !== x.dtype) fail(`slope has dtype ${slope.dtype}, but the input is ${x.dtype}`);
    return [{ dtype: x.dtype, shape: preluShape(x, slope) }];
  },
  evaluate(inputs) {
    const x = need(inputs, 0);
    const slope = need(inputs, 1, 'slope');
    preluShape(x, slope);
    return [binaryMap(x, slope, x.dtype, (v, s) => (v < 0 ? s * v : v))];
  },
};

const relu: Fn1 = (x) => (x < 0 ? 0 : x);

export const activationOps: Record<string, OpDef> = {
  Relu: unaryOp({ accepts: 'numeric', fn: () => relu }),
  LeakyRelu: act((attrs) => {
    const a = alphaOf(attrs, 0.01);
    return (x) => (x < 0 ? a * x : x);
  }),
  Elu: act((attrs) => {
    const a = alphaOf(attrs, 1);
    return (x) => (x < 0 ? a * Math.expm1(x) : x);
  }),
  Selu: act((attrs) => {
    const a = alphaOf(attrs, 1.67326319217681884765625);
    const g = attrFloat(attrs, 'gamma', f32(1.05070102214813232421875));
    return (x) => (x <= 0 ? g * a * Math.expm1(x) : g * x);
  }),
  Celu: act((attrs) => {
    const a = alphaOf(attrs, 1);
    if (a === 0) fail("Celu's alpha must not be 0");
    return (x) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a));
  }),
  ThresholdedRelu: act((attrs) => {
    const a = alphaOf(attrs, 1);
    return (x) => (x > a ? x : 0);
  }),
  Sigmoid: act(() => sigmoid),
  HardSigmoid: act((attrs) => {
    const a = alphaOf(attrs, 0.2);
    const b = attrFloat(attrs, 'beta', f32(0.5));
    return (x) => Math.max(0, Math.min(1, a * x + b));
  }),
  HardSwish: act(() => {
    const a = f32(1 / 6);
    return (x) => x * Math.max(0, Math.min(1, a * x + 0.5));
  }),
  Softplus: act(() => softplus),
  Softsign: act(() => (x) => x / (1 + Math.abs(x))),
  Mish: act(() => (x) => x * Math.tanh(softplus(x))),
  Gelu: unaryOp({
    accepts: 'float',
    checkAttrs: (attrs) => void geluMode(attrs),
    fn: (_d, attrs) =>
      geluMode(attrs) === 'tanh'
        ? (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
        : (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  }),
  Swish: act((attrs) => {
    const a = alphaOf(attrs, 1);
    return (x) => x * sigmoid(a * x);
  }),
  // SwiGLU(a, b) = Swish(a, alpha) * b, the gated unit of LLaMA-style MLPs.
  SwiGLU: binaryOp({
    accepts: 'float',
    fn: (_d: DType, attrs: Attrs) => {
      const a = alphaOf(attrs, 1);
      return (x, y) => x * sigmoid(a * x) * y;
    },
  }),
  PRelu: prelu,
};
