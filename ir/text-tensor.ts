/**
 * Tensor payloads and numbers of the graph IR text form (shared by text-print.ts and text-parse.ts).
 *
 * A payload is either a literal list (`[1, -1]`, `[0.5, nan, -inf, -0.0]`, `[true, false]`) for small
 * tensors, or `hex:` followed by the ONNX raw_data bytes: little-endian values in their wire width
 * (float16/bfloat16 as 2-byte patterns, int64/uint64 as 8-byte integers, bool as one 0/1 byte).
 * Both directions are exact: floats print the shortest decimal that casts back to the stored value,
 * and f32/f64 tensors holding a NaN other than the default one use hex so the bits survive.
 */
import {
  byteSize,
  castScalar,
  allocData,
  bfloat16BitsToNumber,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  type DType,
  type TensorData,
} from './dtype.js';
import type { Tensor } from './tensor.js';

/** Tensors with at most this many elements print as literal lists; larger ones as hex. */
export const LITERAL_MAX_ELEMENTS = 16;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---- numbers --------------------------------------------------------------------------------

/** Formats a float so that `castScalar(Number(s), dtype)` gives `x` back; `.0` marks integral values. */
export function formatFloat(x: number, dtype: DType = 'float64'): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  let s = String(x);
  if (dtype !== 'float64') {
    // shortest precision that survives the narrowing cast the parser applies
    for (let p = 1; p <= 17; p++) {
      const t = String(Number(x.toPrecision(p)));
      if (castScalar(Number(t), dtype) === x) {
        s = t;
        break;
      }
    }
  }
  return /[.eEn]/.test(s) ? s : `${s}.0`;
}

/**
 * Formats an integer exactly. Doubles beyond 2^53 print their exact decimal value, except that
 * 2^63 in an int64 reads as INT64_MAX and 2^64 in a uint64 as UINT64_MAX (the values they stand
 * for under the storage rule; both parse back to the same double).
 */
export function formatInt(x: number, dtype: DType = 'int64'): string {
  if (Number.isSafeInteger(x)) return String(x);
  if (!Number.isInteger(x)) return formatFloat(x); // not an integer: printed so the parser rejects it
  if (dtype === 'int64' && x === 2 ** 63) return '9223372036854775807';
  if (dtype === 'uint64' && x === 2 ** 64) return '18446744073709551615';
  return BigInt(x).toString();
}

/** Formats one element of a literal list. */
export function formatElement(x: number, dtype: DType): string {
  if (dtype === 'bool') return x === 1 ? 'true' : x === 0 ? 'false' : formatInt(x, dtype);
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16') {
    return formatFloat(x, dtype);
  }
  return formatInt(x, dtype);
}

const INT_RANGE: Partial<Record<DType, [bigint, bigint]>> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n],
  uint8: [0n, 2n ** 8n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  bool: [0n, 1n],
};

const FLOAT_LITERAL = /^-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|inf)$|^nan$/;
const INT_LITERAL = /^-?\d+$/;

/**
 * Parses one literal element for `dtype`; returns the stored value or an error message.
 * Integers must be in range for their type; floats round to the dtype.
 */
export function parseElement(text: string, dtype: DType): number | string {
  if (dtype === 'bool') {
    if (text === 'true') return 1;
    if (text === 'false') return 0;
  }
  const range = INT_RANGE[dtype];
  if (range) {
    if (!INT_LITERAL.test(text)) return `'${text}' is not an integer literal (element type ${dtype})`;
    if (text.length > 40) return `integer ${text.slice(0, 20)}... is out of range for ${dtype}`;
    const b = BigInt(text);
    if (b < range[0] || b > range[1]) return `integer ${text} is out of range for ${dtype}`;
    return Number(b);
  }
  if (!FLOAT_LITERAL.test(text)) return `'${text}' is not a number`;
  return castScalar(parseFloatText(text), dtype);
}

/** The double a float literal denotes (the literal must already match the float grammar). */
export function parseFloatText(text: string): number {
  if (text === 'nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

// ---- literal or hex ---------------------------------------------------------------------------

/** True when every NaN in a f32/f64 tensor has the bit pattern that parsing `nan` produces. */
function nansAreDefault(t: Tensor): boolean {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') return true;
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isNaN(d[i])) continue;
    const words = new Uint32Array(d.buffer, d.byteOffset, d.byteLength / 4);
    if (t.dtype === 'float32') {
      if (words[i] !== 0x7fc00000) return false;
    } else {
      const lo = words[2 * i + (LITTLE_ENDIAN ? 0 : 1)];
      const hi = words[2 * i + (LITTLE_ENDIAN ? 1 : 0)];
      if (lo !== 0 || hi !== 0x7ff80000) return false;
    }
  }
  return true;
}

/** The payload between `dense<` and `>`: a literal list for small tensors, else hex raw data. */
export function formatPayload(t: Tensor): string {
  if (t.size <= LITERAL_MAX_ELEMENTS && nansAreDefault(t)) {
    const parts: string[] = [];
    for (let i = 0; i < t.size; i++) parts.push(formatElement(t.data[i], t.dtype));
    return `[${parts.join(', ')}]`;
  }
  return `hex:${bytesToHex(rawBytes(t))}`;
}

// ---- raw (ONNX wire) bytes --------------------------------------------------------------------

/** Reverses each `width`-byte group, turning native order into little-endian on big-endian hosts. */
function toLittleEndian(bytes: Uint8Array, width: number): Uint8Array {
  if (LITTLE_ENDIAN || width === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width) for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k];
  return out;
}

/** The ONNX raw_data encoding of a tensor's values. */
export function rawBytes(t: Tensor): Uint8Array {
  const d = t.data;
  const n = d.length;
  switch (t.dtype) {
    case 'float16':
    case 'bfloat16': {
      const bits = new Uint16Array(n);
      const conv = t.dtype === 'float16' ? numberToFloat16Bits : numberToBfloat16Bits;
      for (let i = 0; i < n; i++) bits[i] = conv(d[i]);
      return toLittleEndian(new Uint8Array(bits.buffer), 2);
    }
    case 'int64':
    case 'uint64': {
      // split each (integral) double into 32-bit halves; out-of-range values saturate as in castScalar
      const words = new Uint32Array(2 * n);
      const signed = t.dtype === 'int64';
      for (let i = 0; i < n; i++) {
        const x = castScalar(d[i], t.dtype);
        let hi = Math.floor(x / 4294967296);
        let lo = x - hi * 4294967296;
        if (signed ? hi >= 2147483648 : hi >= 4294967296) {
          hi = signed ? 0x7fffffff : 0xffffffff;
          lo = 0xffffffff;
        }
        words[2 * i] = lo >>> 0;
        words[2 * i + 1] = hi >>> 0; // two's complement of negative `hi`
      }
      return toLittleEndian(new Uint8Array(words.buffer), 4);
    }
    default: {
      const width = byteSize(t.dtype);
      return toLittleEndian(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), width);
    }
  }
}

/** Decodes ONNX raw_data into stored values; returns an error message for malformed bytes. */
export function fromRawBytes(bytes: Uint8Array, dtype: DType): TensorData | string {
  const width = byteSize(dtype);
  const n = bytes.length / width;
  if (!LITTLE_ENDIAN) bytes = toLittleEndian(bytes, dtype === 'int64' || dtype === 'uint64' ? 4 : width);
  switch (dtype) {
    case 'float16':
    case 'bfloat16': {
      const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const conv = dtype === 'float16' ? float16BitsToNumber : bfloat16BitsToNumber;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = conv(bits[i]);
      return out;
    }
    case 'int64':
    case 'uint64': {
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, 2 * n);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const hi = dtype === 'int64' ? words[2 * i + 1] | 0 : words[2 * i + 1];
        out[i] = hi * 4294967296 + words[2 * i]; // one rounding, to nearest: same as Number(BigInt)
      }
      return out;
    }
    case 'bool':
      for (let i = 0; i < n; i++) if (bytes[i] > 1) return `bool byte ${bytes[i]} at element ${i} is not 0 or 1`;
      return new Uint8Array(bytes.buffer, bytes.byteOffset, n);
    default: {
      const out = allocData(dtype, n);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
  }
}

// ---- hex ----------------------------------------------------------------------------------------

const HEX_DIGITS = '0123456789abcdef';
const HEX_CODES = new Uint16Array(256);
for (let b = 0; b < 256; b++) {
  // two ASCII codes packed so one Uint16 store writes both (little- or big-endian host)
  const hi = HEX_DIGITS.charCodeAt(b >> 4);
  const lo = HEX_DIGITS.charCodeAt(b & 15);
  HEX_CODES[b] = LITTLE_ENDIAN ? hi | (lo << 8) : (hi << 8) | lo;
}
const HEX_CHUNK = 1 << 20;

/** Lower-case hex of `bytes`, built in 1 MB chunks through a lookup table (fast for 100 MB). */
export function bytesToHex(bytes: Uint8Array): string {
  const decoder = new TextDecoder('latin1');
  const chunks: string[] = [];
  for (let start = 0; start < bytes.length; start += HEX_CHUNK) {
    const end = Math.min(bytes.length, start + HEX_CHUNK);
    const codes = new Uint16Array(end - start);
    for (let i = start; i < end; i++) codes[i - start] = HEX_CODES[bytes[i]];
    chunks.push(decoder.decode(codes));
  }
  return chunks.join('');
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE[HEX_DIGITS.charCodeAt(i)] = i;
  HEX_VALUE[HEX_DIGITS.toUpperCase().charCodeAt(i)] = i;
}

/** True for 0-9a-fA-F. */
export function isHexCode(c: number): boolean {
  return c < 128 && HEX_VALUE[c] >= 0;
}

/** Decodes `text[start, end)`, which the caller has checked to be an even number of hex digits. */
export function hexToBytes(text: string, start: number, end: number): Uint8Array {
  const out = new Uint8Array((end - start) >> 1);
  for (let i = 0, p = start; i < out.length; i++, p += 2) {
    out[i] = (HEX_VALUE[text.charCodeAt(p)] << 4) | HEX_VALUE[text.charCodeAt(p + 1)];
  }
  return out;
}
