/**
 * Protobuf decoding of ONNX files (onnx-proto's static protobufjs code, ONNX 1.10 schema; fields added
 * by later ONNX versions are skipped as unknown fields) and the small helpers that turn protobufjs
 * values (Long for 64-bit fields, possibly absent fields) into plain numbers.
 *
 * Any decoder failure — truncated bytes, invalid wire types, a stack overflow on absurd nesting — is
 * turned into a diagnostic here, so nothing past this file sees a protobufjs exception.
 */
import onnxPkg from 'onnx-proto';
import { diag } from '../../../ir/diagnostics.js';

export const { onnx } = onnxPkg;
export type ModelProto = onnxPkg.onnx.ModelProto;
export type GraphProto = onnxPkg.onnx.IGraphProto;
export type NodeProto = onnxPkg.onnx.INodeProto;
export type TensorProto = onnxPkg.onnx.ITensorProto;
export type AttributeProto = onnxPkg.onnx.IAttributeProto;
export type ValueInfoProto = onnxPkg.onnx.IValueInfoProto;
export type TypeProto = onnxPkg.onnx.ITypeProto;
export type FunctionProto = onnxPkg.onnx.IFunctionProto;

/** A protobufjs 64-bit value: a number, or a Long object (onnx-proto ships `long`). */
export type Int64Like = number | { low: number; high: number; unsigned: boolean; toNumber(): number };

/**
 * A 64-bit protobuf integer as a JS number. Magnitudes beyond 2^53 round to the nearest double (the
 * IR's storage rule for int64 does the same).
 */
export function toNum(v: Int64Like | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return v.toNumber();
}

/** Decodes a ModelProto; W1001 for anything protobufjs refuses. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw diag(
      'W1001',
      `not a valid ONNX model: ${describe(e)}`,
      undefined,
      'the file is truncated or is not an ONNX ModelProto; re-export the model or check the download',
    );
  }
}

/** Decodes a TensorProto file (test_data_set_*\/input_N.pb); W1014 when protobufjs refuses it. */
export function decodeTensorFile(bytes: Uint8Array): onnxPkg.onnx.TensorProto {
  try {
    return onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw diag(
      'W1014',
      `not a valid TensorProto file: ${describe(e)}`,
      undefined,
      'test data files hold one serialized onnx.TensorProto; the file may be truncated',
    );
  }
}

function describe(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'messages nested too deeply';
  return e instanceof Error ? e.message : String(e);
}

/** True when a message has the field set on the wire (protobufjs puts defaults on the prototype). */
export function has(msg: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(msg, field);
}

const UTF8 = new TextDecoder('utf-8');

export function utf8(b: Uint8Array | null | undefined): string {
  return b ? UTF8.decode(b) : '';
}
