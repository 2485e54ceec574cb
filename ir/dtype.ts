/**
 * Element types of the graph IR and how their values are stored in memory.
 *
 * Storage rule (the whole evaluator relies on it): every dtype is held in a plain JS typed array of
 * numbers. float16 and bfloat16 values are held in a Float32Array, always rounded to the nearest
 * representable value of their type; int64 and uint64 are held in a Float64Array, exact up to 2^53
 * (larger magnitudes are rounded to the nearest double, documented in docs/ir.md). bool is a
 * Uint8Array of 0/1.
 */

export type DType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint64'
  | 'uint32'
  | 'uint16'
  | 'uint8'
  | 'bool';

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

interface DTypeInfo {
  /** Short name used in the textual IR (`f32[2,3]`). */
  short: string;
  /** Bytes per element in ONNX / on the wire (not the in-memory storage). */
  bytes: number;
  /** ONNX TensorProto.DataType enum value. */
  onnx: number;
  float: boolean;
  signed: boolean;
  create: (n: number) => TensorData;
}

const INFO: Record<DType, DTypeInfo> = {
  float32: { short: 'f32', bytes: 4, onnx: 1, float: true, signed: true, create: (n) => new Float32Array(n) },
  uint8: { short: 'u8', bytes: 1, onnx: 2, float: false, signed: false, create: (n) => new Uint8Array(n) },
  int8: { short: 'i8', bytes: 1, onnx: 3, float: false, signed: true, create: (n) => new Int8Array(n) },
  uint16: { short: 'u16', bytes: 2, onnx: 4, float: false, signed: false, create: (n) => new Uint16Array(n) },
  int16: { short: 'i16', bytes: 2, onnx: 5, float: false, signed: true, create: (n) => new Int16Array(n) },
  int32: { short: 'i32', bytes: 4, onnx: 6, float: false, signed: true, create: (n) => new Int32Array(n) },
  int64: { short: 'i64', bytes: 8, onnx: 7, float: false, signed: true, create: (n) => new Float64Array(n) },
  bool: { short: 'i1', bytes: 1, onnx: 9, float: false, signed: false, create: (n) => new Uint8Array(n) },
  float16: { short: 'f16', bytes: 2, onnx: 10, float: true, signed: true, create: (n) => new Float32Array(n) },
  float64: { short: 'f64', bytes: 8, onnx: 11, float: true, signed: true, create: (n) => new Float64Array(n) },
  uint32: { short: 'u32', bytes: 4, onnx: 12, float: false, signed: false, create: (n) => new Uint32Array(n) },
  uint64: { short: 'u64', bytes: 8, onnx: 13, float: false, signed: false, create: (n) => new Float64Array(n) },
  bfloat16: { short: 'bf16', bytes: 2, onnx: 16, float: true, signed: true, create: (n) => new Float32Array(n) },
};

export const DTYPES = Object.keys(INFO) as DType[];

export function dtypeInfo(t: DType): Readonly<DTypeInfo> {
  return INFO[t];
}
export const isFloat = (t: DType): boolean => INFO[t].float;
export const isInteger = (t: DType): boolean => !INFO[t].float && t !== 'bool';
export const isSigned = (t: DType): boolean => INFO[t].signed;
export const shortName = (t: DType): string => INFO[t].short;
export const byteSize = (t: DType): number => INFO[t].bytes;

export function allocData(t: DType, n: number): TensorData {
  return INFO[t].create(n);
}

const BY_SHORT = new Map<string, DType>(DTYPES.map((t) => [INFO[t].short, t]));
const BY_ONNX = new Map<number, DType>(DTYPES.map((t) => [INFO[t].onnx, t]));

export function dtypeFromShort(s: string): DType | undefined {
  return BY_SHORT.get(s);
}
export function dtypeFromOnnx(code: number): DType | undefined {
  return BY_ONNX.get(code);
}
export function onnxCode(t: DType): number {
  return INFO[t].onnx;
}

/** Names of ONNX data types we do not support, for diagnostics. */
export const ONNX_DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64',
  8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64',
  15: 'COMPLEX128', 16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1', 24: 'FLOAT8E8M0', 25: 'UINT2', 26: 'INT2',
};

// ---- rounding to narrow float formats -------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round a number to the nearest float16 value (round-half-to-even), returned as a number. */
export function roundFloat16(x: number): number {
  return float16BitsToNumber(numberToFloat16Bits(x));
}

/** Round a number to the nearest bfloat16 value (round-half-to-even). */
export function roundBfloat16(x: number): number {
  return bfloat16BitsToNumber(numberToBfloat16Bits(x));
}

export function numberToBfloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff; // NaN
  const rounding = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + rounding) >>> 16) & 0xffff;
}

export function bfloat16BitsToNumber(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** The value of every float16 bit pattern, built on first use (a table read beats the arithmetic). */
let F16_VALUES: Float64Array | undefined;

export function float16BitsToNumber(h: number): number {
  if (!F16_VALUES) {
    F16_VALUES = new Float64Array(65536);
    for (let b = 0; b < 65536; b++) F16_VALUES[b] = decodeFloat16(b);
  }
  return F16_VALUES[h & 0xffff];
}

function decodeFloat16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function numberToFloat16Bits(x: number): number {
  f32[0] = x; // first round to float32, as hardware converting f32 -> f16 would see it
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

/**
 * Converts a number to the value a tensor of dtype `t` would hold, with C-style casts for integers
 * (truncation toward zero, wrap-around modulo the width) and rounding for narrow floats.
 */
export function castScalar(x: number, t: DType): number {
  switch (t) {
    case 'float32':
      return Math.fround(x);
    case 'float64':
      return x;
    case 'float16':
      return roundFloat16(x);
    case 'bfloat16':
      return roundBfloat16(x);
    case 'bool':
      return x !== 0 && !Number.isNaN(x) ? 1 : 0;
    case 'int64': {
      if (!Number.isFinite(x)) return Number.isNaN(x) ? 0 : x > 0 ? 9223372036854775807 : -9223372036854775808;
      return Math.trunc(x);
    }
    case 'uint64': {
      if (!Number.isFinite(x)) return 0;
      const v = Math.trunc(x);
      return v < 0 ? v + 18446744073709551616 : v;
    }
    case 'int32':
      return Number.isFinite(x) ? Math.trunc(x) | 0 : 0;
    case 'uint32':
      return Number.isFinite(x) ? Math.trunc(x) >>> 0 : 0;
    case 'int16':
      return Number.isFinite(x) ? (Math.trunc(x) << 16) >> 16 : 0;
    case 'uint16':
      return Number.isFinite(x) ? Math.trunc(x) & 0xffff : 0;
    case 'int8':
      return Number.isFinite(x) ? (Math.trunc(x) << 24) >> 24 : 0;
    case 'uint8':
      return Number.isFinite(x) ? Math.trunc(x) & 0xff : 0;
  }
}
