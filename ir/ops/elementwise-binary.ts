/**
 * Binary and variadic elementwise ops with numpy broadcasting: arithmetic (Add Sub Mul Div Pow Mod),
 * Min/Max/Sum/Mean, comparisons, boolean logic, BitShift and the Bitwise ops.
 *
 * Integer semantics follow ONNX Runtime / C: Div truncates toward zero, results wrap to the width of
 * the dtype; integer Mod follows Python's sign rule unless fmod=1. Division or Mod by an integer zero
 * (undefined in ONNX) gives 0 rather than a crash. int64/uint64 are exact only up to 2^53 (the
 * storage rule); the bitwise ops fall back to BigInt beyond 32 bits so their low bits stay exact.
 */
import { type DType, isFloat } from '../dtype.js';
import type { OpDef } from './registry.js';
import { type Fn2, binaryOp, unaryMap, variadicOp } from './elementwise-kernel.js';
import { attrInt, attrString, fail } from './util.js';

const add: Fn2 = (x, y) => x + y;
const sub: Fn2 = (x, y) => x - y;
const mul: Fn2 = (x, y) => x * y;
const fdiv: Fn2 = (x, y) => x / y;
const idiv: Fn2 = (x, y) => (y === 0 ? 0 : Math.trunc(x / y));

/** Mul whose 32-bit integer products stay exact (a double product of two 32-bit ints may not). */
function mulFor(d: DType): Fn2 {
  if (d === 'int32') return Math.imul;
  if (d === 'uint32') return (x, y) => Math.imul(x, y) >>> 0;
  return mul;
}

/** Python-style modulo: the result takes the divisor's sign. */
const pyMod: Fn2 = (x, y) => {
  if (y === 0) return 0;
  const r = x % y;
  return r !== 0 && r < 0 !== y < 0 ? r + y : r;
};
const pyModFloat: Fn2 = (x, y) => {
  const r = x % y;
  return r !== 0 && r < 0 !== y < 0 ? r + y : r;
};
const cMod: Fn2 = (x, y) => (y === 0 ? 0 : x % y);

function modFor(d: DType, fmod: boolean): Fn2 {
  if (isFloat(d)) return fmod ? (x, y) => x % y : pyModFloat;
  return fmod ? cMod : pyMod;
}

const max: Fn2 = (x, y) => (x > y || Number.isNaN(x) ? x : y);
const min: Fn2 = (x, y) => (x < y || Number.isNaN(x) ? x : y);

// ---- bitwise ----------------------------------------------------------------------------------------

const I32 = 2147483647;

/** A bitwise op exact on every width: 32-bit JS ops when both values fit in int32, BigInt otherwise. */
function bitwise(d: DType, small: Fn2, big: (x: bigint, y: bigint) => bigint): Fn2 {
  if (d !== 'int64' && d !== 'uint64' && d !== 'uint32') return small;
  const wrap = d === 'int64' ? (v: bigint) => BigInt.asIntN(64, v) : d === 'uint64' ? (v: bigint) => BigInt.asUintN(64, v) : (v: bigint) => BigInt.asUintN(32, v);
  return (x, y) => {
    if (Math.abs(x) <= I32 && Math.abs(y) <= I32 && (d === 'int64' || (x >= 0 && y >= 0))) return small(x, y);
    return Number(wrap(big(BigInt(x), BigInt(y))));
  };
}

function shiftFor(d: DType, left: boolean): Fn2 {
  const bits = d === 'uint8' ? 8 : d === 'uint16' ? 16 : d === 'uint32' ? 32 : 64;
  if (!left) return (x, y) => (y >= bits ? 0 : Math.floor(x / 2 ** y));
  if (bits === 64) return (x, y) => (y >= 64 ? 0 : Number(BigInt.asUintN(64, BigInt(x) << BigInt(y))));
  // x < 2^32 and y < 32 keep x * 2^y below 2^64, but not exact above 2^53: wrap through BigInt then.
  return (x, y) => {
    if (y >= bits) return 0;
    const v = x * 2 ** y;
    return v <= Number.MAX_SAFE_INTEGER ? v % 2 ** bits : Number(BigInt.asUintN(bits, BigInt(x) << BigInt(y)));
  };
}

// ---- op table ----------------------------------------------------------------------------------------

const bool = (): DType => 'bool';
const cmp = (f: Fn2): OpDef => binaryOp({ accepts: 'any', out: bool, fn: () => f });
const logic = (f: Fn2): OpDef => binaryOp({ accepts: 'bool', fn: () => f });

export const binaryOps: Record<string, OpDef> = {
  Add: binaryOp({ accepts: 'numeric', fn: () => add }),
  Sub: binaryOp({ accepts: 'numeric', fn: () => sub }),
  Mul: binaryOp({ accepts: 'numeric', fn: mulFor }),
  Div: binaryOp({ accepts: 'numeric', fn: (d) => (isFloat(d) ? fdiv : idiv) }),
  // Output dtype is the base's; the exponent may be any numeric dtype. Integer powers go through
  // doubles and are then wrapped like the C++ implementation's integer result.
  Pow: binaryOp({ accepts: 'numeric', mixed: true, fn: () => Math.pow }),
  Mod: binaryOp({
    accepts: 'numeric',
    fn: (d, attrs) => modFor(d, attrInt(attrs, 'fmod', 0) !== 0),
  }),
  Equal: cmp((x, y) => (x === y ? 1 : 0)),
  Greater: cmp((x, y) => (x > y ? 1 : 0)),
  Less: cmp((x, y) => (x < y ? 1 : 0)),
  GreaterOrEqual: cmp((x, y) => (x >= y ? 1 : 0)),
  LessOrEqual: cmp((x, y) => (x <= y ? 1 : 0)),
  And: logic((x, y) => x & y),
  Or: logic((x, y) => x | y),
  Xor: logic((x, y) => x ^ y),
  BitwiseAnd: binaryOp({ accepts: 'integer', fn: (d) => bitwise(d, (x, y) => x & y, (x, y) => x & y) }),
  BitwiseOr: binaryOp({ accepts: 'integer', fn: (d) => bitwise(d, (x, y) => x | y, (x, y) => x | y) }),
  BitwiseXor: binaryOp({ accepts: 'integer', fn: (d) => bitwise(d, (x, y) => x ^ y, (x, y) => x ^ y) }),
  BitShift: binaryOp({
    accepts: 'unsigned',
    checkAttrs: (attrs) => void direction(attrString(attrs, 'direction')),
    fn: (d, attrs) => shiftFor(d, direction(attrString(attrs, 'direction'))),
  }),
  Max: variadicOp('numeric', () => max),
  Min: variadicOp('numeric', () => min),
  Sum: variadicOp('numeric', () => add),
  Mean: variadicOp('float', () => add, (t, n) => unaryMap(t, t.dtype, (x) => x / n)),
};

/** BitShift's direction attribute: true for LEFT. */
function direction(dir: string | undefined): boolean {
  if (dir === 'LEFT') return true;
  if (dir === 'RIGHT') return false;
  return fail(`attribute 'direction' must be "LEFT" or "RIGHT", got ${dir === undefined ? 'nothing' : `"${dir}"`}`);
}
