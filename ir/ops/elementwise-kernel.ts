/**
 * Loops and OpDef factories shared by the elementwise and activation families.
 *
 * Every elementwise op is "apply a scalar function to (broadcast) inputs, store in the output dtype".
 * The loops here compute in double precision and rely on the typed array's store to round float32
 * and wrap 8/16/32-bit integers (a typed-array store is exactly a C-style cast for those); the
 * dtypes whose storage does not round by itself (float16, bfloat16, int64, uint64) get an explicit
 * castScalar pass, so results always obey the storage rule of dtype.ts.
 *
 * The binary loop walks the broadcast output row by row with an inner strided loop instead of
 * building per-element index arrays, since Add/Mul/Where over 1024x1024 activations are the hot path
 * of transformer evaluation.
 */
import { type DType, allocData, castScalar, isFloat, isInteger } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor, sizeOf } from '../tensor.js';
import type { InferInput, OpDef, OpInfo } from './registry.js';
import { attrInt, broadcastShapes, broadcastStrides, fail, need } from './util.js';

export type Fn1 = (x: number) => number;
export type Fn2 = (x: number, y: number) => number;

/** True when values stored in this dtype's array need an explicit cast to obey the storage rule. */
function needsCast(t: DType): boolean {
  return t === 'float16' || t === 'bfloat16' || t === 'int64' || t === 'uint64';
}

function castAll(out: Tensor): Tensor {
  if (needsCast(out.dtype)) {
    const d = out.data;
    const t = out.dtype;
    for (let k = 0; k < d.length; k++) d[k] = castScalar(d[k], t);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Applies `f` to every element; the result has dtype `outType`. */
export function unaryMap(x: Tensor, outType: DType, f: Fn1): Tensor {
  const n = x.size;
  const out = allocData(outType, n);
  const a = x.data;
  for (let k = 0; k < n; k++) out[k] = f(a[k]);
  return castAll(new Tensor(outType, [...x.shape], out));
}

/** Applies `f` over the numpy broadcast of `a` and `b`; the result has dtype `outType`. */
export function binaryMap(a: Tensor, b: Tensor, outType: DType, f: Fn2): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const n = sizeOf(shape);
  const out = allocData(outType, n);
  const ad = a.data;
  const bd = b.data;
  const aFull = sameShape(a.shape, shape);
  const bFull = sameShape(b.shape, shape);
  if (n === 0) {
    // nothing to compute
  } else if (aFull && bFull) {
    for (let k = 0; k < n; k++) out[k] = f(ad[k], bd[k]);
  } else if (aFull && b.size === 1) {
    const y = bd[0];
    for (let k = 0; k < n; k++) out[k] = f(ad[k], y);
  } else if (bFull && a.size === 1) {
    const x = ad[0];
    for (let k = 0; k < n; k++) out[k] = f(x, bd[k]);
  } else {
    const rank = shape.length;
    const sa = broadcastStrides(a.shape, shape);
    const sb = broadcastStrides(b.shape, shape);
    const inner = shape[rank - 1];
    const ia = sa[rank - 1];
    const ib = sb[rank - 1];
    const counter = new Array<number>(rank).fill(0);
    let offA = 0;
    let offB = 0;
    for (let k = 0; k < n; ) {
      let pa = offA;
      let pb = offB;
      for (let i = 0; i < inner; i++, pa += ia, pb += ib) out[k++] = f(ad[pa], bd[pb]);
      for (let d = rank - 2; d >= 0; d--) {
        counter[d]++;
        offA += sa[d];
        offB += sb[d];
        if (counter[d] < shape[d]) break;
        offA -= sa[d] * shape[d];
        offB -= sb[d] * shape[d];
        counter[d] = 0;
      }
    }
  }
  return castAll(new Tensor(outType, shape, out));
}

/** `cond ? x : y` style three-input map over the broadcast of all three. */
export function ternaryMap(a: Tensor, b: Tensor, c: Tensor, outType: DType, f: (x: number, y: number, z: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, c.shape);
  const n = sizeOf(shape);
  const out = allocData(outType, n);
  const ad = a.data;
  const bd = b.data;
  const cd = c.data;
  if (n === 0) return new Tensor(outType, shape, out);
  // Same row-by-row walk as binaryMap, with a third stride set.
  const rank = shape.length;
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const sc = broadcastStrides(c.shape, shape);
  const inner = rank === 0 ? 1 : shape[rank - 1];
  const ia = rank === 0 ? 0 : sa[rank - 1];
  const ib = rank === 0 ? 0 : sb[rank - 1];
  const ic = rank === 0 ? 0 : sc[rank - 1];
  const counter = new Array<number>(rank).fill(0);
  let offA = 0;
  let offB = 0;
  let offC = 0;
  for (let k = 0; k < n; ) {
    let pa = offA;
    let pb = offB;
    let pc = offC;
    for (let i = 0; i < inner; i++, pa += ia, pb += ib, pc += ic) out[k++] = f(ad[pa], bd[pb], cd[pc]);
    for (let d = rank - 2; d >= 0; d--) {
      counter[d]++;
      offA += sa[d];
      offB += sb[d];
      offC += sc[d];
      if (counter[d] < shape[d]) break;
      offA -= sa[d] * shape[d];
      offB -= sb[d] * shape[d];
      offC -= sc[d] * shape[d];
      counter[d] = 0;
    }
  }
  return castAll(new Tensor(outType, shape, out));
}

// ---- input checks ---------------------------------------------------------------------------

/** Which dtypes an op accepts, checked in `infer` so the user gets a diagnostic at the node. */
export type DTypeClass = 'any' | 'numeric' | 'float' | 'integer' | 'unsigned' | 'bool';

export function checkClass(t: DType, cls: DTypeClass, what = 'input'): void {
  let ok: boolean;
  switch (cls) {
    case 'any':
      ok = true;
      break;
    case 'numeric':
      ok = t !== 'bool';
      break;
    case 'float':
      ok = isFloat(t);
      break;
    case 'integer':
      ok = isInteger(t);
      break;
    case 'unsigned':
      ok = t === 'uint8' || t === 'uint16' || t === 'uint32' || t === 'uint64';
      break;
    case 'bool':
      ok = t === 'bool';
      break;
  }
  if (!ok) fail(`${what} has dtype ${t}, but this op needs ${cls === 'any' ? 'a tensor' : cls === 'bool' ? 'bool' : `a ${cls} dtype`}`);
}

/** Anything with a dtype and a shape: a StaticType in `infer`, a Tensor in `evaluate`. */
export interface Typed {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** All present inputs in `types` share one dtype. */
export function checkSame(types: readonly Typed[]): DType {
  const d = types[0].dtype;
  for (const t of types) {
    if (t.dtype !== d) fail(`inputs must have the same dtype, got ${types.map((x) => x.dtype).join(' and ')}`);
  }
  return d;
}

// ---- legacy broadcasting (opset < 7) ----------------------------------------------------------

/**
 * Before opset 7, binary ops broadcast only with `broadcast=1`, aligning B's dims at `axis` of A
 * (default: trailing). Returns B's shape padded with trailing 1s so numpy broadcasting gives the same
 * result; newer graphs keep the shape unchanged.
 */
export function legacyShapeB(aShape: readonly number[], bShape: readonly number[], attrs: Attrs, opset: number): number[] {
  if (opset >= 7 || attrInt(attrs, 'broadcast', 0) !== 1) return [...bShape];
  const axisAttr = attrInt(attrs, 'axis');
  if (axisAttr === undefined) return [...bShape];
  const axis = axisAttr < 0 ? axisAttr + aShape.length : axisAttr;
  const pad = aShape.length - axis - bShape.length;
  if (axis < 0 || pad < 0) fail(`legacy broadcast axis ${axisAttr} does not fit B [${bShape.join(',')}] into A [${aShape.join(',')}]`);
  return [...bShape, ...new Array<number>(pad).fill(1)];
}

// ---- op factories ---------------------------------------------------------------------------

export interface UnarySpec {
  /** Dtypes accepted for the input. */
  accepts: DTypeClass;
  /** The scalar function, chosen per dtype and attributes (e.g. integer vs float Abs). */
  fn: (dtype: DType, attrs: Attrs, info: OpInfo) => Fn1;
  /** Output dtype (default: the input's). */
  out?: (dtype: DType) => DType;
  /** Validates attributes at infer time (throws a diagnostic). */
  checkAttrs?: (attrs: Attrs, info: OpInfo) => void;
}

export function unaryOp(spec: UnarySpec): OpDef {
  const outOf = spec.out ?? ((d: DType) => d);
  return {
    infer(inputs: (InferInput | undefined)[], attrs: Attrs, info: OpInfo): StaticType[] {
      const x = need(inputs, 0).type;
      checkClass(x.dtype, spec.accepts);
      spec.checkAttrs?.(attrs, info);
      return [{ dtype: outOf(x.dtype), shape: [...x.shape] }];
    },
    evaluate(inputs: (Tensor | undefined)[], attrs: Attrs, info: OpInfo): Tensor[] {
      const x = need(inputs, 0);
      checkClass(x.dtype, spec.accepts);
      return [unaryMap(x, outOf(x.dtype), spec.fn(x.dtype, attrs, info))];
    },
  };
}

export interface BinarySpec {
  accepts: DTypeClass;
  /** The scalar function for the (first) input's dtype. */
  fn: (dtype: DType, attrs: Attrs, info: OpInfo, dtypeB: DType) => Fn2;
  out?: (dtype: DType) => DType;
  /** Inputs may have different dtypes (Pow); the output follows input 0. */
  mixed?: boolean;
  /** Second input's accepted dtypes when `mixed`. */
  acceptsB?: DTypeClass;
  checkAttrs?: (attrs: Attrs, info: OpInfo) => void;
}

function binaryTypes(spec: BinarySpec, a: Typed, b: Typed): void {
  checkClass(a.dtype, spec.accepts, 'input 0');
  if (spec.mixed) checkClass(b.dtype, spec.acceptsB ?? spec.accepts, 'input 1');
  else checkSame([a, b]);
}

export function binaryOp(spec: BinarySpec): OpDef {
  const outOf = spec.out ?? ((d: DType) => d);
  return {
    infer(inputs, attrs, info): StaticType[] {
      const a = need(inputs, 0).type;
      const b = need(inputs, 1).type;
      binaryTypes(spec, a, b);
      spec.checkAttrs?.(attrs, info);
      const bShape = legacyShapeB(a.shape, b.shape, attrs, info.opset);
      return [{ dtype: outOf(a.dtype), shape: broadcastShapes(a.shape, bShape) }];
    },
    evaluate(inputs, attrs, info): Tensor[] {
      const a = need(inputs, 0);
      let b = need(inputs, 1);
      binaryTypes(spec, a, b);
      const bShape = legacyShapeB(a.shape, b.shape, attrs, info.opset);
      if (bShape.length !== b.shape.length) b = b.reshape(bShape);
      return [binaryMap(a, b, outOf(a.dtype), spec.fn(a.dtype, attrs, info, b.dtype))];
    },
  };
}

/** Sum/Min/Max/Mean: one or more same-dtype inputs folded pairwise over their broadcast. */
export function variadicOp(accepts: DTypeClass, fn: (dtype: DType) => Fn2, finish?: (t: Tensor, count: number) => Tensor): OpDef {
  const present = <T>(inputs: (T | undefined)[]): T[] => {
    const xs = inputs.filter((x): x is T => x !== undefined);
    if (xs.length === 0) fail('needs at least one input');
    return xs;
  };
  return {
    infer(inputs): StaticType[] {
      const types = present(inputs).map((i) => i.type);
      const d = checkSame(types);
      checkClass(d, accepts);
      return [{ dtype: d, shape: broadcastShapes(...types.map((t) => t.shape)) }];
    },
    evaluate(inputs): Tensor[] {
      const xs = present(inputs);
      const d = checkSame(xs);
      checkClass(d, accepts);
      const f = fn(d);
      // Folding in input order rounds after every step, as the reference (numpy) does.
      let acc = xs.length === 1 ? unaryMap(xs[0], d, (x) => x) : xs[0];
      for (let i = 1; i < xs.length; i++) acc = binaryMap(acc, xs[i], d, f);
      return [finish ? finish(acc, xs.length) : acc];
    },
  };
}
