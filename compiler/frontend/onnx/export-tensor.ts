/**
 * IR values → ONNX protos for the exporter: Tensor → TensorProto (raw_data, little-endian, for every
 * dtype of ir/dtype.ts, encoded by ir/text-tensor.ts `rawBytes`, the inverse of tensor.ts's decoding),
 * Attr → AttributeProto, and 64-bit integers in the form protobufjs writes exactly.
 */
import { onnxCode } from '../../../ir/dtype.js';
import type { Attr } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { rawBytes } from '../../../ir/text-tensor.js';
import { onnx, type AttributeProto, type TensorProto } from './decode.js';

const AT = onnx.AttributeProto.AttributeType;
const TWO_63 = 2 ** 63;
/** protobufjs's 64-bit field type (number or Long). */
type Int64 = NonNullable<AttributeProto['i']>;
const INT64_MAX = { low: -1, high: 0x7fffffff, unsigned: false } as unknown as Int64;

/**
 * A number as a protobuf int64. Integral doubles are exact; magnitudes at or beyond 2^63 (INT64_MAX
 * read back as a double rounds up to 2^63) saturate, as protobufjs would otherwise wrap 2^63 to
 * INT64_MIN. Non-integers are truncated, NaN becomes 0.
 */
export function int64(x: number): Int64 {
  if (Number.isNaN(x)) return 0;
  if (x >= TWO_63) return INT64_MAX;
  if (x < -TWO_63) return -TWO_63;
  return Math.trunc(x);
}

/** A TensorProto holding the tensor in raw_data. */
export function tensorProto(t: Tensor, name?: string): TensorProto {
  const p: TensorProto = { dims: t.shape.map(int64), dataType: onnxCode(t.dtype) };
  if (name !== undefined) p.name = name;
  p.rawData = rawBytes(t);
  return p;
}

/** An IR attribute as an AttributeProto (float attributes are float32 on the wire). */
export function attributeProto(name: string, a: Attr): AttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AT.INT, i: int64(a.value) };
    case 'float':
      return { name, type: AT.FLOAT, f: a.value };
    case 'string':
      return { name, type: AT.STRING, s: UTF8.encode(a.value) };
    case 'ints':
      return { name, type: AT.INTS, ints: a.value.map(int64) };
    case 'floats':
      return { name, type: AT.FLOATS, floats: [...a.value] };
    case 'strings':
      return { name, type: AT.STRINGS, strings: a.value.map((s) => UTF8.encode(s)) };
    case 'tensor':
      return { name, type: AT.TENSOR, t: tensorProto(a.value) };
  }
}

const UTF8 = new TextEncoder();
