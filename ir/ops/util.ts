/**
 * Helpers shared by op definitions: attribute access, axis normalization, numpy-style broadcasting,
 * and input checks that raise OpError diagnostics.
 */
import { type DType, allocData, castScalar, isFloat } from '../dtype.js';
import type { Attr, Attrs, StaticType } from '../graph.js';
import { Tensor, sizeOf, stridesOf } from '../tensor.js';
import { type InferInput, OpError } from './registry.js';

// ---- attributes ---------------------------------------------------------------------------

function attrOf(attrs: Attrs, name: string, kind: Attr['kind']): Attr | undefined {
  const a = attrs[name];
  if (a === undefined) return undefined;
  if (a.kind !== kind) throw new OpError('W2001', `attribute '${name}' must be ${kind}, got ${a.kind}`);
  return a;
}

export function attrInt(attrs: Attrs, name: string, dflt: number): number;
export function attrInt(attrs: Attrs, name: string): number | undefined;
export function attrInt(attrs: Attrs, name: string, dflt?: number): number | undefined {
  const a = attrOf(attrs, name, 'int');
  return a ? (a.value as number) : dflt;
}
export function attrFloat(attrs: Attrs, name: string, dflt: number): number;
export function attrFloat(attrs: Attrs, name: string): number | undefined;
export function attrFloat(attrs: Attrs, name: string, dflt?: number): number | undefined {
  const a = attrs[name];
  if (a === undefined) return dflt;
  if (a.kind === 'int') return a.value; // some exporters write integral floats as ints
  if (a.kind !== 'float') throw new OpError('W2001', `attribute '${name}' must be float, got ${a.kind}`);
  return a.value;
}
export function attrString(attrs: Attrs, name: string, dflt: string): string;
export function attrString(attrs: Attrs, name: string): string | undefined;
export function attrString(attrs: Attrs, name: string, dflt?: string): string | undefined {
  const a = attrOf(attrs, name, 'string');
  return a ? (a.value as string) : dflt;
}
export function attrInts(attrs: Attrs, name: string): number[] | undefined {
  const a = attrOf(attrs, name, 'ints');
  return a ? [...(a.value as number[])] : undefined;
}
export function attrFloats(attrs: Attrs, name: string): number[] | undefined {
  const a = attrOf(attrs, name, 'floats');
  return a ? [...(a.value as number[])] : undefined;
}
export function attrTensor(attrs: Attrs, name: string): Tensor | undefined {
  const a = attrOf(attrs, name, 'tensor');
  return a ? (a.value as Tensor) : undefined;
}

// ---- checks ---------------------------------------------------------------------------------

export function fail(message: string, hint?: string, code = 'W2002'): never {
  throw new OpError(code, message, hint);
}

/** Requires input `i` to be present; returns it. */
export function need<T>(inputs: (T | undefined)[], i: number, what = `input ${i}`): T {
  const v = inputs[i];
  if (v === undefined) fail(`missing required ${what}`);
  return v;
}

/** Requires the value of an input at compile time (for data-dependent shapes). */
export function constValue(inputs: (InferInput | undefined)[], i: number, what = `input ${i}`): Tensor {
  const v = need(inputs, i, what);
  if (!v.value) {
    throw new OpError('W2003', `the output shape depends on the value of ${what}, which is not a constant`,
      'bind symbolic dims (--dim name=value) so shape arithmetic folds to constants');
  }
  return v.value;
}

/** Normalizes a possibly negative axis for a tensor of the given rank. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

// ---- broadcasting ---------------------------------------------------------------------------

/** numpy-style broadcast of several shapes. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        fail(`shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} cannot be broadcast together`);
      }
    }
  }
  return out;
}

/**
 * Strides to read an input of shape `inShape` while iterating over `outShape` in row-major order
 * (0 stride on broadcast dims). Rank of the result is outShape's rank.
 */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const st = stridesOf(inShape);
  const r = new Array<number>(outShape.length).fill(0);
  const off = outShape.length - inShape.length;
  for (let i = 0; i < inShape.length; i++) r[off + i] = inShape[i] === 1 ? 0 : st[i];
  return r;
}

/**
 * For every element of the broadcast output, the flat index into each input.
 * Returns one Int32Array (or null when the input is already the output's shape) per input.
 */
export function broadcastIndex(outShape: readonly number[], inShape: readonly number[]): Int32Array | null {
  if (inShape.length === outShape.length && inShape.every((d, i) => d === outShape[i])) return null;
  return stridedOffsets(outShape, broadcastStrides(inShape, outShape));
}

/**
 * For every position of `shape` in row-major order, the offset sum(pos[d] * strides[d]).
 * Lets gather/scatter ops with index tensors run as flat loops.
 */
export function stridedOffsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  const n = sizeOf(shape);
  const out = new Int32Array(n);
  const rank = shape.length;
  const cnt = new Int32Array(rank);
  let off = 0;
  for (let k = 0; k < n; k++) {
    out[k] = off;
    for (let d = rank - 1; d >= 0; d--) {
      off += strides[d];
      if (++cnt[d] < shape[d]) break;
      off -= strides[d] * cnt[d];
      cnt[d] = 0;
    }
  }
  return out;
}

/**
 * Applies `f` elementwise over broadcast inputs; the result has dtype `outType` and each result
 * is cast to it (so integer ops wrap and narrow floats round).
 */
export function mapBroadcast(
  inputs: Tensor[],
  outType: DType,
  f: (...xs: number[]) => number,
): Tensor {
  const outShape = broadcastShapes(...inputs.map((t) => t.shape));
  const n = sizeOf(outShape);
  const out = allocData(outType, n);
  const needsCast = outType === 'float16' || outType === 'bfloat16' || outType === 'int64' || outType === 'uint64';
  const idx = inputs.map((t) => broadcastIndex(outShape, t.shape));
  if (inputs.length === 1) {
    const a = inputs[0].data;
    for (let k = 0; k < n; k++) out[k] = f(a[k]);
  } else if (inputs.length === 2) {
    const a = inputs[0].data;
    const b = inputs[1].data;
    const ia = idx[0];
    const ib = idx[1];
    for (let k = 0; k < n; k++) out[k] = f(a[ia ? ia[k] : k], b[ib ? ib[k] : k]);
  } else {
    const xs = new Array<number>(inputs.length);
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < inputs.length; j++) {
        const ij = idx[j];
        xs[j] = inputs[j].data[ij ? ij[k] : k];
      }
      out[k] = f(...xs);
    }
  }
  if (needsCast) for (let k = 0; k < n; k++) out[k] = castScalar(out[k], outType);
  return new Tensor(outType, outShape, out);
}

/** Output type of an op whose result is the broadcast of its inputs with a given dtype. */
export function broadcastType(inputs: StaticType[], dtype: DType): StaticType {
  return { dtype, shape: broadcastShapes(...inputs.map((t) => t.shape)) };
}

/** Requires all inputs to share one dtype; returns it. */
export function sameDtype(types: StaticType[], what = 'inputs'): DType {
  const d = types[0].dtype;
  for (const t of types) if (t.dtype !== d) fail(`${what} must have the same dtype, got ${types.map((x) => x.dtype).join(', ')}`);
  return d;
}

export function requireFloat(t: StaticType, what = 'input'): void {
  if (!isFloat(t.dtype)) fail(`${what} must be a floating-point tensor, got ${t.dtype}`);
}

/** Casts a whole tensor to a dtype (ONNX Cast semantics for in-range values). */
export function castTensor(t: Tensor, to: DType): Tensor {
  if (t.dtype === to) return t;
  const out = allocData(to, t.size);
  for (let i = 0; i < t.size; i++) out[i] = castScalar(t.data[i], to);
  return new Tensor(to, [...t.shape], out);
}

/** Rounds every element to the storage rule of its dtype in place (after float32 math on narrow floats). */
export function roundInPlace(t: Tensor): Tensor {
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    for (let i = 0; i < t.size; i++) t.data[i] = castScalar(t.data[i], t.dtype);
  }
  return t;
}

/** Reads an int64/int32 tensor of indices/axes/shape as plain numbers. */
export function intsOf(t: Tensor): number[] {
  return t.toArray();
}
