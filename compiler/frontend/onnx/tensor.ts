/**
 * TensorProto → Tensor: dims and element-count checks (before anything is allocated), every dtype of
 * ir/dtype.ts from raw_data (little-endian), from the typed repeated fields, or from external data
 * read through the ImportHost with the path kept inside the model's folder.
 *
 * Output obeys the IR storage rule: float16/bfloat16 bits become pre-rounded numbers in a
 * Float32Array, int64/uint64 become doubles (exact to 2^53), bool becomes 0/1 bytes.
 */
import * as nodePath from 'node:path';
import { diag, DiagnosticError } from '../../../ir/diagnostics.js';
import {
  allocData,
  bfloat16BitsToNumber,
  byteSize,
  castScalar,
  dtypeFromOnnx,
  float16BitsToNumber,
  ONNX_DTYPE_NAMES,
  type DType,
  type TensorData,
} from '../../../ir/dtype.js';
import { Tensor } from '../../../ir/tensor.js';
import type { ImportHost } from '../../host.js';
import { decodeTensorFile, has, toNum, type Int64Like, type TensorProto } from './decode.js';

export const DEFAULT_MAX_ELEMENTS = 2 ** 31;

/** What reading a tensor may need beyond the proto itself. */
export interface TensorContext {
  maxElements: number;
  host?: ImportHost;
  /** Path of the model file; external data is resolved against its folder. */
  modelPath?: string;
  /** Whole external files already read (when the host has no readRange). */
  fileCache?: Map<string, Uint8Array>;
}

/** Name of an ONNX data type code, for messages. */
export function onnxDtypeName(code: number): string {
  return ONNX_DTYPE_NAMES[code] ?? `unknown type ${code}`;
}

/** The IR dtype of an ONNX element type, or W1002 naming the unsupported type. */
export function dtypeOrFail(code: number, where: string): DType {
  const t = dtypeFromOnnx(code);
  if (t !== undefined) return t;
  throw diag(
    'W1002',
    `unsupported tensor element type ${onnxDtypeName(code)} (${code})`,
    where,
    'supported: FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT8..INT64, UINT8..UINT64, BOOL; convert the model (e.g. cast to FLOAT)',
  );
}

/**
 * Validates tensor dims: non-negative safe integers whose product is at most maxElements. Returns them
 * as numbers. Runs before any allocation.
 */
export function checkedDims(dims: readonly Int64Like[], where: string, maxElements: number): number[] {
  const out: number[] = [];
  let n = 1;
  for (const d of dims) {
    const v = toNum(d);
    if (!Number.isSafeInteger(v) || v < 0) {
      throw diag('W1003', `invalid tensor dim ${v} in [${dims.map(toNum).join(',')}]`, where, 'dims must be non-negative integers');
    }
    if (v > maxElements) {
      throw diag('W1003', `tensor dim ${v} is larger than the element limit ${maxElements}`, where, 'raise the limit with the maxElements import option if the machine has the memory');
    }
    out.push(v);
    n = Math.min(n * v, Number.MAX_SAFE_INTEGER); // stays finite, so a later 0 dim gives 0
  }
  if (n > maxElements) {
    throw diag(
      'W1003',
      `tensor of shape [${out.join(',')}] has ${n} elements, more than the limit ${maxElements}`,
      where,
      'raise the limit with the maxElements import option if the machine has the memory',
    );
  }
  return out;
}

/** Converts one TensorProto. `where` names it in diagnostics (initializer, node attribute ...). */
export function tensorFromProto(t: TensorProto, where: string, ctx: TensorContext): Tensor {
  const dtype = dtypeOrFail(t.dataType ?? 0, where);
  const shape = checkedDims(t.dims ?? [], where, ctx.maxElements);
  const n = shape.reduce((a, b) => a * b, 1);
  if (has(t, 'segment') && t.segment) {
    throw diag('W1004', 'segmented tensors are not supported', where, 're-save the model with whole tensors');
  }
  const location = t.dataLocation ?? 0;
  if (location !== 0 && location !== 1) {
    throw diag('W1005', `unknown data_location ${location}`, where, 'expected DEFAULT (0) or EXTERNAL (1)');
  }
  if (location === 1) {
    const bytes = readExternal(t, where, ctx, n * byteSize(dtype));
    return new Tensor(dtype, shape, fromRaw(bytes, dtype, n));
  }
  const raw = has(t, 'rawData') ? t.rawData : undefined;
  const typedCount = (t[fieldFor(dtype)] ?? []).length;
  // raw_data wins when it is set; an empty one next to typed values is taken as absent
  if (raw && (raw.length > 0 || typedCount === 0)) {
    const want = n * byteSize(dtype);
    if (raw.length !== want) {
      throw diag(
        'W1004',
        `raw_data has ${raw.length} bytes, expected ${want} (${n} × ${byteSize(dtype)}-byte ${dtype})`,
        where,
        'the file is corrupt or was truncated',
      );
    }
    return new Tensor(dtype, shape, fromRaw(raw, dtype, n));
  }
  return new Tensor(dtype, shape, fromFields(t, dtype, n, where));
}

/** Little-endian bytes → storage array. The caller has checked bytes.length === n × element size. */
function fromRaw(raw: Uint8Array, dtype: DType, n: number): TensorData {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = allocData(dtype, n);
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = float16BitsToNumber(dv.getUint16(i * 2, true));
      break;
    case 'bfloat16':
      for (let i = 0; i < n; i++) out[i] = bfloat16BitsToNumber(dv.getUint16(i * 2, true));
      break;
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      break;
    case 'uint64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(i * 8, true));
      break;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
      break;
    case 'uint32':
      for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4, true);
      break;
    case 'int16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
      break;
    case 'uint16':
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, true);
      break;
    case 'int8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case 'uint8':
      out.set(raw.subarray(0, n));
      break;
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = raw[i] !== 0 ? 1 : 0;
      break;
  }
  return out;
}

/** The typed repeated field ONNX uses for each dtype. */
function fieldFor(dtype: DType): 'floatData' | 'doubleData' | 'int32Data' | 'int64Data' | 'uint64Data' {
  switch (dtype) {
    case 'float32':
      return 'floatData';
    case 'float64':
      return 'doubleData';
    case 'int64':
      return 'int64Data';
    case 'uint32':
    case 'uint64':
      return 'uint64Data';
    default:
      return 'int32Data'; // int8..int32, uint8, uint16, bool, and float16/bfloat16 as bit patterns
  }
}

const FIELD_NAME = {
  floatData: 'float_data',
  doubleData: 'double_data',
  int32Data: 'int32_data',
  int64Data: 'int64_data',
  uint64Data: 'uint64_data',
} as const;

function fromFields(t: TensorProto, dtype: DType, n: number, where: string): TensorData {
  const field = fieldFor(dtype);
  const values = (t[field] ?? []) as ArrayLike<Int64Like>;
  if (values.length !== n) {
    throw diag(
      'W1004',
      `${FIELD_NAME[field]} has ${values.length} values, expected ${n} for a ${dtype} tensor`,
      where,
      n > 0 && values.length === 0 ? 'the tensor has no data (neither raw_data nor typed values)' : 'the file is corrupt',
    );
  }
  const out = allocData(dtype, n);
  if (field === 'int64Data' || field === 'uint64Data') {
    for (let i = 0; i < n; i++) out[i] = castScalar(toNum(values[i]), dtype);
  } else if (dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = float16BitsToNumber((values[i] as number) & 0xffff);
  } else if (dtype === 'bfloat16') {
    for (let i = 0; i < n; i++) out[i] = bfloat16BitsToNumber((values[i] as number) & 0xffff);
  } else {
    for (let i = 0; i < n; i++) out[i] = castScalar(values[i] as number, dtype);
  }
  return out;
}

function readExternal(t: TensorProto, where: string, ctx: TensorContext, want: number): Uint8Array {
  const kv = new Map<string, string>();
  for (const e of t.externalData ?? []) kv.set(e.key ?? '', e.value ?? '');
  const loc = kv.get('location');
  if (!loc) throw diag('W1005', 'external data has no location', where, 'the external_data entries must include "location"');
  const offset = parseSize(kv.get('offset'), 'offset', where) ?? 0;
  const lengthOpt = parseSize(kv.get('length'), 'length', where);
  if (!ctx.host) {
    throw diag(
      'W1005',
      `tensor data is stored in external file '${loc}', but no file host was given`,
      where,
      'import the model from its file path (the CLI does this), or pass options.host and options.modelPath',
    );
  }
  if (ctx.modelPath === undefined) {
    throw diag('W1005', `tensor data is stored in external file '${loc}', but the model path is unknown`, where, 'pass options.modelPath so external files can be found next to the model');
  }
  const file = resolveInside(ctx.modelPath, loc, where);
  let size: number;
  try {
    size = ctx.host.fileSize(file);
  } catch {
    throw diag('W1005', `external data file '${loc}' is missing or unreadable`, where, `expected it at ${file}, next to the model`);
  }
  const length = lengthOpt ?? size - offset;
  if (offset + length > size || length < 0) {
    throw diag(
      'W1005',
      `external data range offset ${offset} + length ${length} is beyond the end of '${loc}' (${size} bytes)`,
      where,
      'the data file is truncated or belongs to another model',
    );
  }
  if (length !== want) {
    throw diag('W1004', `external data has ${length} bytes, expected ${want}`, where, 'the external_data length disagrees with the tensor dims and type');
  }
  try {
    if (ctx.host.readRange) return ctx.host.readRange(file, offset, length);
    let whole = ctx.fileCache?.get(file);
    if (!whole) {
      whole = ctx.host.readFile(file);
      ctx.fileCache?.set(file, whole);
    }
    if (offset + length > whole.length) throw new Error('short read');
    return whole.subarray(offset, offset + length);
  } catch {
    throw diag('W1005', `external data file '${loc}' could not be read`, where, `check ${file}`);
  }
}

function parseSize(s: string | undefined, what: string, where: string): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d{1,16}$/.test(s.trim()) || !Number.isSafeInteger(Number(s))) {
    throw diag('W1005', `external data ${what} '${s}' is not a non-negative integer`, where);
  }
  return Number(s);
}

/** Resolves an external-data location against the model's folder, refusing paths that leave it. */
export function resolveInside(modelPath: string, loc: string, where: string): string {
  const dir = nodePath.resolve(nodePath.dirname(modelPath));
  const bad = () =>
    diag(
      'W1005',
      `external data location '${loc}' is outside the model folder`,
      where,
      'locations must be relative paths inside the folder that holds the model (no absolute paths, no ..)',
    );
  if (loc.includes('\0') || nodePath.posix.isAbsolute(loc) || nodePath.win32.isAbsolute(loc)) throw bad();
  const full = nodePath.resolve(dir, loc);
  const rel = nodePath.relative(dir, full);
  if (rel === '' || rel === '..' || rel.startsWith('..' + nodePath.sep) || nodePath.isAbsolute(rel)) throw bad();
  return full;
}

/**
 * Reads a test-data file (one serialized TensorProto, as in test_data_set_N/input_K.pb). External
 * data is not allowed here.
 */
export function readTensorProto(bytes: Uint8Array, options: { maxElements?: number } = {}): { name: string; tensor: Tensor } {
  const t = decodeTensorFile(bytes);
  const name = t.name ?? '';
  const where = name ? `tensor '${name}'` : 'tensor file';
  if (!t.dataType) {
    throw diag('W1014', 'not a valid TensorProto file: data_type is missing', where, 'test data files hold one serialized onnx.TensorProto');
  }
  try {
    const tensor = tensorFromProto(t, where, { maxElements: options.maxElements ?? DEFAULT_MAX_ELEMENTS });
    return { name, tensor };
  } catch (e) {
    // Bad dims or sizes in a test-data file usually mean it is not a TensorProto at all (e.g. a
    // SequenceProto of a sequence test): report the file. Other codes (dtype, external data) stay.
    if (!(e instanceof DiagnosticError) || !['W1003', 'W1004'].includes(e.diagnostics[0].code)) throw e;
    const d = e.diagnostics[0];
    throw diag('W1014', `not a valid TensorProto file: ${d.message}`, d.location, 'test data files hold one serialized onnx.TensorProto (sequence and optional values are not supported)');
  }
}
