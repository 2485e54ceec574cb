/**
 * Unary elementwise math: Sqrt, Exp, Log, trigonometric and hyperbolic functions, Erf, rounding,
 * Abs/Neg/Sign, IsNaN/IsInf, Not and BitwiseNot.
 *
 * Values are computed in double precision and rounded once to the output dtype, which is at least as
 * accurate as the float32 reference. JavaScript has no erf, so a port of fdlibm's (correct to < 1 ulp
 * in double) lives here; Gelu uses it too.
 */
import type { DType } from '../dtype.js';
import type { OpDef } from './registry.js';
import { type Fn1, unaryOp } from './elementwise-kernel.js';
import { attrInt } from './util.js';

// ---- erf (fdlibm s_erf.c) ------------------------------------------------------------------------

const ERX = 8.45062911510467529297e-1;
const EFX = 1.28379167095512586316e-1;
const PP = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const QQ = [3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
const PA = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const QA = [1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
const RA = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const SA = [1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
const RB = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const SB = [3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

/** Evaluates c[0] + s*c[1] + s^2*c[2] ... (Horner). */
function poly(c: readonly number[], s: number): number {
  let r = c[c.length - 1];
  for (let i = c.length - 2; i >= 0; i--) r = r * s + c[i];
  return r;
}

const hiBuf = new Float64Array(1);
const hiWords = new Uint32Array(hiBuf.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1; // little-endian: word 0 is low

/** x with the low 32 bits of its mantissa cleared (fdlibm's SET_LOW_WORD(z, 0)). */
function highPart(x: number): number {
  hiBuf[0] = x;
  hiWords[LOW] = 0;
  return hiBuf[0];
}

/** The error function, accurate to about 1 ulp in double precision. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return x + EFX * x;
    const z = x * x;
    return x + x * (poly(PP, z) / (1 + z * poly(QQ, z)));
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const v = ERX + poly(PA, s) / (1 + s * poly(QA, s));
    return x >= 0 ? v : -v;
  }
  if (ax >= 6) return x >= 0 ? 1 : -1;
  const s = 1 / (ax * ax);
  let r: number;
  let q: number;
  if (ax < 1 / 0.35) {
    r = poly(RA, s);
    q = 1 + s * poly(SA, s);
  } else {
    r = poly(RB, s);
    q = 1 + s * poly(SB, s);
  }
  const z = highPart(ax);
  const e = Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + r / q);
  return x >= 0 ? 1 - e / ax : e / ax - 1;
}

/** Rounds to the nearest integer, ties to even (ONNX Round, numpy.round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +inf
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---- op table --------------------------------------------------------------------------------------

/** An op on float tensors given by a plain Math function. */
const floatFn = (f: Fn1): OpDef => unaryOp({ accepts: 'float', fn: () => f });

const neg: Fn1 = (x) => -x;
/** Not/BitwiseNot for 64-bit ints: ~x is -x-1 for int64 and 2^64-1-x for uint64. */
function bitNot(d: DType): Fn1 {
  if (d === 'int64') return (x) => -x - 1;
  if (d === 'uint64') return (x) => 18446744073709551615 - x;
  return (x) => ~x; // 8/16/32-bit: the typed-array store wraps to the width
}

export const mathOps: Record<string, OpDef> = {
  Sqrt: floatFn(Math.sqrt),
  Reciprocal: floatFn((x) => 1 / x),
  Exp: floatFn(Math.exp),
  Log: floatFn(Math.log),
  Sin: floatFn(Math.sin),
  Cos: floatFn(Math.cos),
  Tan: floatFn(Math.tan),
  Asin: floatFn(Math.asin),
  Acos: floatFn(Math.acos),
  Atan: floatFn(Math.atan),
  Sinh: floatFn(Math.sinh),
  Cosh: floatFn(Math.cosh),
  Asinh: floatFn(Math.asinh),
  Acosh: floatFn(Math.acosh),
  Atanh: floatFn(Math.atanh),
  Tanh: floatFn(Math.tanh),
  Erf: floatFn(erf),
  Floor: floatFn(Math.floor),
  Ceil: floatFn(Math.ceil),
  Round: floatFn(roundHalfEven),
  Neg: unaryOp({ accepts: 'numeric', fn: () => neg }),
  Abs: unaryOp({ accepts: 'numeric', fn: () => Math.abs }),
  // Math.sign keeps NaN and -0 like numpy.sign.
  Sign: unaryOp({ accepts: 'numeric', fn: () => Math.sign }),
  IsNaN: unaryOp({ accepts: 'float', out: () => 'bool', fn: () => (x) => (Number.isNaN(x) ? 1 : 0) }),
  IsInf: unaryOp({
    accepts: 'float',
    out: () => 'bool',
    fn: (_d, attrs) => {
      const neg = attrInt(attrs, 'detect_negative', 1) !== 0;
      const pos = attrInt(attrs, 'detect_positive', 1) !== 0;
      return (x) => ((pos && x === Infinity) || (neg && x === -Infinity) ? 1 : 0);
    },
  }),
  Not: unaryOp({ accepts: 'bool', fn: () => (x) => (x ? 0 : 1) }),
  BitwiseNot: unaryOp({ accepts: 'integer', fn: bitNot }),
};
