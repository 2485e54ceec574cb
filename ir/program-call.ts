/**
 * The parts of the `call` instruction that every layer shares: how graph dtypes are stored in SRAM
 * buffers, the well-formedness of a call's tensors and attributes (the codec's validator, the
 * builder and the emulator's loader all ask the same questions), and the byte form of tensor
 * attributes on the wire.
 *
 * Storage rules (docs/program-format.md, "call"): one SRAM element per value.
 * - float32, float64, bfloat16: f32 buffers (float64 is narrowed to float32 when written);
 * - float16: f16 or f32 buffers;
 * - int64, int32, int16, int8, uint64, uint32, uint16, uint8, bool: i32 buffers (a value must be an
 *   int32; the emulator reports W6007 otherwise).
 *
 * Tensor attributes travel as dtype, shape and the values little-endian at the dtype's ONNX width
 * (float16 / bfloat16 as their 16-bit patterns, bool as one byte, int64 / uint64 as 64-bit integers,
 * values beyond the 64-bit range — only ±2^63 and 2^64 can occur, as rounded doubles — saturate, which
 * decodes back to the same double). Values must already obey the storage rule of ir/dtype.ts (a
 * Tensor built with Tensor.from does), so decode(encode(t)) is t exactly.
 */
import { type Attr, type Attrs } from './graph.js';
import {
  DTYPES, bfloat16BitsToNumber, byteSize, castScalar, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits, allocData,
  type DType,
} from './dtype.js';
import type { MemType } from './program.js';
import { Tensor } from './tensor.js';

/** Most inputs or outputs of one call. */
export const MAX_CALL_TENSORS = 64;
/** Most dims of a call tensor or tensor attribute. */
export const MAX_CALL_RANK = 64;
/** Most elements of a call tensor or tensor attribute (2^31 − 1). */
export const MAX_CALL_ELEMENTS = 0x7fffffff;

export const ATTR_KINDS = ['int', 'float', 'string', 'ints', 'floats', 'strings', 'tensor'] as const;

const FLOAT_IN_F32: ReadonlySet<DType> = new Set<DType>(['float32', 'float64', 'bfloat16', 'float16']);

/** The buffer types that may hold values of a graph dtype. */
export function callStorageTypes(d: DType): readonly MemType[] {
  if (d === 'float16') return ['f32', 'f16'];
  return FLOAT_IN_F32.has(d) ? ['f32'] : ['i32'];
}

/** Whether a buffer of `type` may hold `dtype` values. */
export function callStorageOk(dtype: DType, type: MemType): boolean {
  return callStorageTypes(dtype).includes(type);
}

/** Elements of a shape (1 for a scalar). */
export function shapeElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** What is wrong with a shape (undefined: nothing): a list of at most MAX_CALL_RANK integer dims ≥ 0, at most MAX_CALL_ELEMENTS elements. */
export function shapeProblem(shape: unknown): string | undefined {
  if (!Array.isArray(shape)) return 'shape is not a list';
  if (shape.length > MAX_CALL_RANK) return `shape has ${shape.length} dims (at most ${MAX_CALL_RANK})`;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_CALL_ELEMENTS) return `shape [${shape.join(',')}] has dim ${String(d)}`;
    n *= d;
  }
  if (n > MAX_CALL_ELEMENTS) return `shape [${shape.join(',')}] has ${n} elements (at most ${MAX_CALL_ELEMENTS})`;
  return undefined;
}

export function isDType(v: unknown): v is DType {
  return typeof v === 'string' && (DTYPES as readonly string[]).includes(v);
}

/** What is wrong with a tensor attribute value (undefined: nothing). */
export function tensorProblem(t: unknown): string | undefined {
  if (!(t instanceof Tensor)) return 'is not a Tensor (ir/tensor.ts)';
  if (!isDType(t.dtype)) return `has unknown dtype '${String(t.dtype)}'`;
  const sp = shapeProblem(t.shape);
  if (sp) return sp;
  const proto = allocData(t.dtype, 0).constructor;
  if (!(t.data instanceof proto) || t.data.length !== shapeElements(t.shape)) return `data is not a ${proto.name} of ${shapeElements(t.shape)} values`;
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    const c = castScalar(v, t.dtype);
    if (c !== v && !(Number.isNaN(c) && Number.isNaN(v))) {
      return `value ${v} at index ${i} is not a ${t.dtype} value`;
    }
  }
  return undefined;
}

/** What is wrong with one attribute (undefined: nothing). */
export function attrProblem(a: unknown): string | undefined {
  if (typeof a !== 'object' || a === null) return 'is not an attribute';
  const { kind, value } = a as { kind: unknown; value: unknown };
  const num = (v: unknown) => typeof v === 'number';
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
  const str = (v: unknown) => typeof v === 'string';
  const list = (ok: (v: unknown) => boolean) => Array.isArray(value) && value.length <= MAX_CALL_ELEMENTS && value.every(ok);
  switch (kind) {
    case 'int': return int(value) ? undefined : `int value ${String(value)} is not an integer`;
    case 'float': return num(value) ? undefined : 'float value is not a number';
    case 'string': return str(value) ? undefined : 'string value is not a string';
    case 'ints': return list(int) ? undefined : 'ints value is not a list of integers';
    case 'floats': return list(num) ? undefined : 'floats value is not a list of numbers';
    case 'strings': return list(str) ? undefined : 'strings value is not a list of strings';
    case 'tensor': {
      const p = tensorProblem(value);
      return p ? `tensor value ${p}` : undefined;
    }
    default: return `unknown attribute kind '${String(kind)}'`;
  }
}

/** The first problem of an attribute map, as "attribute NAME: problem" (undefined: none). */
export function attrsProblem(attrs: unknown): string | undefined {
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) return 'attrs is not an object';
  for (const name of Object.keys(attrs).sort()) {
    if (name === '') return 'an attribute has an empty name';
    const p = attrProblem((attrs as Attrs)[name]);
    if (p) return `attribute ${name}: ${p}`;
  }
  return undefined;
}

// ---- tensor attribute bytes -------------------------------------------------------------------

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** The little-endian bytes of a (well-formed) tensor's values at its dtype's ONNX width. */
export function tensorToBytes(t: Tensor): Uint8Array {
  const size = byteSize(t.dtype);
  const out = new Uint8Array(t.data.length * size);
  const v = new DataView(out.buffer);
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    const o = i * size;
    switch (t.dtype) {
      case 'float32': v.setFloat32(o, x, true); break;
      case 'float64': v.setFloat64(o, x, true); break;
      case 'float16': v.setUint16(o, numberToFloat16Bits(x), true); break;
      case 'bfloat16': v.setUint16(o, numberToBfloat16Bits(x), true); break;
      case 'int64': { const b = BigInt(x); v.setBigInt64(o, b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b, true); break; }
      case 'uint64': { const b = BigInt(x); v.setBigUint64(o, b > UINT64_MAX ? UINT64_MAX : b, true); break; }
      case 'int32': v.setInt32(o, x, true); break;
      case 'uint32': v.setUint32(o, x, true); break;
      case 'int16': v.setInt16(o, x, true); break;
      case 'uint16': v.setUint16(o, x, true); break;
      case 'int8': v.setInt8(o, x); break;
      case 'uint8': case 'bool': v.setUint8(o, x); break;
    }
  }
  return out;
}

/**
 * The tensor of dtype and shape whose values are `bytes` (tensorToBytes' layout). Returns a problem
 * string instead when the byte count is not elements × width (checked before anything is allocated).
 */
export function tensorFromBytes(dtype: DType, shape: number[], bytes: Uint8Array): Tensor | string {
  const sp = shapeProblem(shape);
  if (sp) return sp;
  const n = shapeElements(shape);
  const size = byteSize(dtype);
  if (bytes.length !== n * size) return `tensor data has ${bytes.length} bytes; ${dtype}[${shape.join(',')}] needs ${n * size}`;
  const data = allocData(dtype, n);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (dtype) {
      case 'float32': data[i] = v.getFloat32(o, true); break;
      case 'float64': data[i] = v.getFloat64(o, true); break;
      case 'float16': data[i] = float16BitsToNumber(v.getUint16(o, true)); break;
      case 'bfloat16': data[i] = bfloat16BitsToNumber(v.getUint16(o, true)); break;
      case 'int64': data[i] = Number(v.getBigInt64(o, true)); break;
      case 'uint64': data[i] = Number(v.getBigUint64(o, true)); break;
      case 'int32': data[i] = v.getInt32(o, true); break;
      case 'uint32': data[i] = v.getUint32(o, true); break;
      case 'int16': data[i] = v.getInt16(o, true); break;
      case 'uint16': data[i] = v.getUint16(o, true); break;
      case 'int8': data[i] = v.getInt8(o); break;
      case 'uint8': data[i] = v.getUint8(o); break;
      case 'bool': data[i] = v.getUint8(o) !== 0 ? 1 : 0; break;
    }
  }
  return new Tensor(dtype, [...shape], data);
}

/** A copy of an attribute map whose tensors are Tensor instances again (after structuredClone, which drops prototypes). */
export function reviveAttrs(attrs: Attrs): Attrs {
  const out: Attrs = {};
  for (const [k, a] of Object.entries(attrs)) {
    if (a.kind === 'tensor' && !(a.value instanceof Tensor)) {
      const t = a.value as { dtype: DType; shape: number[]; data: Tensor['data'] };
      out[k] = { kind: 'tensor', value: new Tensor(t.dtype, [...t.shape], t.data) } satisfies Attr;
    } else {
      out[k] = a;
    }
  }
  return out;
}
