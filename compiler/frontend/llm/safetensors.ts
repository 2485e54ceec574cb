/**
 * Safetensors weights (https://huggingface.co/docs/safetensors) for the LLM frontend: opening one
 * `.safetensors` file or a sharded set (`model.safetensors.index.json`), reading tensors one by one as
 * IR Tensors, and encoding tensors into a file (tests, seeded example weights).
 *
 * File layout: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`, then the data
 * (offsets relative to its start). Only the header is read on open (through `host.readRange` when the
 * host has it), and every entry is checked before anything is sized from it: header length against the
 * file and a cap, JSON, dtype (F32, F16, BF16), shape, byte length, bounds, overlaps. Any failure is a
 * W1103 DiagnosticError; no other exception escapes for bad bytes.
 */
import { diag, DiagnosticError } from '../../../ir/diagnostics.js';
import {
  allocData,
  bfloat16BitsToNumber,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  type DType,
} from '../../../ir/dtype.js';
import { Tensor } from '../../../ir/tensor.js';
import type { ImportHost } from '../../host.js';
import { locateSafetensors, readSafetensorsIndex } from './safetensors-index.js';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16';

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** The file (shard) holding the tensor. */
  file: string;
  /** Absolute byte offset of the tensor's data in `file`. */
  offset: number;
  /** Byte length of the tensor's data. */
  length: number;
}

export interface SafetensorsSet {
  /** Every tensor of the model (all shards), by name. */
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Reads one tensor: F32 → 'float32', F16 → 'float16', BF16 → 'bfloat16' (pre-rounded Float32Array). */
  read(name: string): Tensor;
}

export interface SafetensorsOptions {
  /** Largest element count of one tensor (default 2^31). */
  maxElements?: number;
  /** Largest JSON header accepted (default 100 MB). */
  maxHeaderBytes?: number;
}

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
export const DEFAULT_MAX_ELEMENTS = 2 ** 31;

const DTYPES: Record<SafetensorsDType, { ir: DType; bytes: number }> = {
  F32: { ir: 'float32', bytes: 4 },
  F16: { ir: 'float16', bytes: 2 },
  BF16: { ir: 'bfloat16', bytes: 2 },
};
const FROM_IR: Partial<Record<DType, SafetensorsDType>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };
const SUPPORTED_HINT = 'supported dtypes: F32, F16, BF16; convert the weights (e.g. to bfloat16) and re-save them with the safetensors library';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Bytes of the files of one set: ranged reads when the host has them, else whole files cached. */
class Reader {
  private readonly whole = new Map<string, Uint8Array>();
  private readonly sizes = new Map<string, number>();
  constructor(private readonly host: ImportHost) {}

  size(file: string): number {
    let n = this.sizes.get(file);
    if (n !== undefined) return n;
    try {
      n = this.host.fileSize(file);
    } catch (e) {
      throw diag('W1103', `cannot read the safetensors file: ${errText(e)}`, file, 'check the path and its permissions');
    }
    if (!Number.isSafeInteger(n) || n < 0) throw diag('W1103', `the host reports an invalid size ${n}`, file);
    this.sizes.set(file, n);
    return n;
  }

  bytes(file: string, offset: number, length: number): Uint8Array {
    let out: Uint8Array;
    try {
      if (this.host.readRange) {
        out = this.host.readRange(file, offset, length);
      } else {
        let all = this.whole.get(file);
        if (!all) this.whole.set(file, (all = this.host.readFile(file)));
        out = all.subarray(offset, offset + length);
      }
    } catch (e) {
      throw diag('W1103', `cannot read bytes ${offset}..${offset + length}: ${errText(e)}`, file, 'check the file and its permissions');
    }
    if (!(out instanceof Uint8Array) || out.length !== length) {
      throw diag('W1103', `file ended early: wanted ${length} bytes at offset ${offset}`, file, 'the file is truncated or changed while being read');
    }
    return out;
  }
}

interface Parsed {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

/** Reads and validates the header of one safetensors file. */
function parseHeader(reader: Reader, file: string, opts: SafetensorsOptions): Parsed {
  const maxHeader = opts.maxHeaderBytes ?? MAX_HEADER_BYTES;
  const maxElements = opts.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const bad = (message: string, where = file, hint = 'the file is corrupt or truncated; re-save it with the safetensors library') =>
    diag('W1103', message, where, hint);
  const size = reader.size(file);
  if (size < 8) throw bad(`file is ${size} bytes, too short for the 8-byte header length`);
  const head = reader.bytes(file, 0, 8);
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi >= 0x200000) {
    throw bad(`header length ${(BigInt(hi) << 32n) | BigInt(lo)} is larger than 2^53 and than the file (${size} bytes)`);
  }
  const n = hi * 2 ** 32 + lo;
  if (n > size - 8) throw bad(`header length ${n} is larger than the file (${size} bytes)`);
  if (n > maxHeader) throw bad(`header length ${n} is more than the ${maxHeader}-byte limit`);
  if (n < 2) throw bad(`header length ${n} is too small for a JSON object`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(reader.bytes(file, 8, n)));
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    throw bad(`header is not valid UTF-8 JSON: ${errText(e)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('header is not a JSON object');
  const dataStart = 8 + n;
  const dataSize = size - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  const header = json as Record<string, unknown>;
  for (const name of Object.keys(header).sort()) {
    const v = header[name];
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('"__metadata__" is not an object');
      for (const k of Object.keys(v).sort()) {
        const s = (v as Record<string, unknown>)[k];
        if (typeof s !== 'string') throw bad(`"__metadata__" value '${k}' is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    entries.push(checkEntry(name, v, file, dataStart, dataSize, maxElements));
  }
  // overlaps: in order of begin (then end), each entry must start at or after every earlier end
  const byOffset = [...entries].sort((a, b) => a.offset - b.offset || a.length - b.length);
  let prev: SafetensorsEntry | undefined;
  for (const e of byOffset) {
    if (prev && e.offset < prev.offset + prev.length) {
      throw bad(
        `tensors '${prev.name}' and '${e.name}' overlap (data bytes ${prev.offset - dataStart}..${prev.offset + prev.length - dataStart} and ${e.offset - dataStart}..${e.offset + e.length - dataStart})`,
        `${file}: tensor '${e.name}'`,
      );
    }
    if (!prev || e.offset + e.length >= prev.offset + prev.length) prev = e;
  }
  return { entries, metadata };
}

/** One header entry → SafetensorsEntry, or W1103 naming what is wrong with it. */
function checkEntry(name: string, v: unknown, file: string, dataStart: number, dataSize: number, maxElements: number): SafetensorsEntry {
  const where = `${file}: tensor '${name}'`;
  const bad = (message: string, hint = 'the file is corrupt; re-save it with the safetensors library') =>
    diag('W1103', `tensor '${name}': ${message}`, where, hint);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('header entry is not an object');
  const o = v as Record<string, unknown>;
  const dtype = o.dtype;
  if (typeof dtype !== 'string') throw bad('"dtype" is missing or not a string');
  if (!Object.hasOwn(DTYPES, dtype)) throw bad(`dtype ${dtype} is not supported`, SUPPORTED_HINT);
  const info = DTYPES[dtype as SafetensorsDType];
  const shape = o.shape;
  if (!Array.isArray(shape)) throw bad('"shape" is missing or not an array');
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw bad(`invalid dim ${JSON.stringify(d)} in shape ${JSON.stringify(shape)}`, 'dims must be non-negative integers');
    }
    count = Math.min(count * d, Number.MAX_SAFE_INTEGER);
  }
  if (count > maxElements) {
    throw bad(`shape [${shape.join(',')}] has ${count} elements, more than the limit ${maxElements}`, 'raise the maxElements option if the machine has the memory');
  }
  const offs = o.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2) throw bad('"data_offsets" is missing or not [begin, end]');
  const [begin, end] = offs as unknown[];
  if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
    throw bad(`invalid data_offsets ${JSON.stringify(offs)}`, 'data_offsets must be non-negative integers with begin <= end');
  }
  if (end > dataSize) throw bad(`data_offsets [${begin}, ${end}] run past the end of the data (${dataSize} bytes)`);
  const want = count * info.bytes;
  if (end - begin !== want) {
    throw bad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${shape.join(',')}] of ${dtype} needs ${want}`);
  }
  return { name, dtype: dtype as SafetensorsDType, shape: [...(shape as number[])], file, offset: dataStart + begin, length: want };
}

/** Little-endian bytes of `dtype` → IR storage array (narrow floats pre-rounded in a Float32Array). */
function decode(bytes: Uint8Array, dtype: SafetensorsDType): Float32Array {
  const info = DTYPES[dtype];
  const n = bytes.length / info.bytes;
  const out = allocData(info.ir, n) as Float32Array;
  if (dtype === 'F32' && LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  else if (dtype === 'F16') for (let i = 0; i < n; i++) out[i] = float16BitsToNumber(dv.getUint16(i * 2, true));
  else for (let i = 0; i < n; i++) out[i] = bfloat16BitsToNumber(dv.getUint16(i * 2, true));
  return out;
}

/** path: a .safetensors file, a model.safetensors.index.json, or a folder holding either (the index preferred). */
export function openSafetensors(host: ImportHost, path: string, options: SafetensorsOptions = {}): SafetensorsSet {
  const reader = new Reader(host);
  const src = locateSafetensors(host, path);
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string>;
  if (src.kind === 'file') {
    const parsed = parseHeader(reader, src.path, options);
    for (const e of parsed.entries) entries.set(e.name, e);
    metadata = parsed.metadata;
  } else {
    const index = readSafetensorsIndex(host, src.path);
    const shards = new Map<string, Map<string, SafetensorsEntry>>();
    metadata = {};
    for (const shard of index.shards) {
      try {
        host.fileSize(shard);
      } catch {
        const user = [...index.weightMap].find(([, s]) => s === shard)?.[0] ?? '';
        throw diag('W1103', `index names shard '${shard}' (for tensor '${user}'), which is missing`, src.path, 'copy every shard listed in the index next to it');
      }
      const parsed = parseHeader(reader, shard, options);
      shards.set(shard, new Map(parsed.entries.map((e) => [e.name, e])));
      Object.assign(metadata, parsed.metadata);
    }
    Object.assign(metadata, index.metadata);
    for (const [name, shard] of index.weightMap) {
      const e = shards.get(shard)?.get(name);
      if (!e) {
        throw diag('W1103', `index maps tensor '${name}' to shard '${shard}', which does not hold it`, `${src.path}: tensor '${name}'`, 'the index and its shards disagree; re-download or re-save the weights');
      }
      entries.set(name, e);
    }
  }
  return {
    entries,
    metadata,
    read(name: string): Tensor {
      const e = entries.get(name);
      if (!e) throw diag('W1103', `no tensor named '${name}' in the weights`, path, `the weights hold ${entries.size} tensors`);
      return new Tensor(DTYPES[e.dtype].ir, [...e.shape], decode(reader.bytes(e.file, e.offset, e.length), e.dtype));
    },
  };
}

/**
 * Encodes float32/float16/bfloat16 tensors into one .safetensors file: names in sorted order, data
 * contiguous in that order, metadata keys sorted, the header padded with spaces to a multiple of 8
 * bytes. The same input always gives the same bytes.
 */
export function encodeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const list = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort();
  if (metaKeys.length > 0) {
    for (const k of metaKeys) {
      if (typeof metadata[k] !== 'string') throw diag('W1103', `metadata value '${k}' is not a string`, 'encodeSafetensors', 'safetensors metadata maps strings to strings');
    }
    parts.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const st = FROM_IR[t.dtype];
    if (name === '__metadata__') throw diag('W1103', "a tensor cannot be named '__metadata__'", 'encodeSafetensors', 'rename the tensor');
    if (!st) throw diag('W1103', `tensor '${name}' has dtype ${t.dtype}, which cannot be encoded`, 'encodeSafetensors', 'encodable dtypes: float32, float16, bfloat16');
    const len = t.size * DTYPES[st].bytes;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${st}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + len}]}`);
    offset += len;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const pad = (8 - (json.length % 8)) % 8;
  const headerLen = json.length + pad;
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let p = 8 + headerLen;
  for (const [, t] of list) {
    const d = t.data;
    if (t.dtype === 'float32') for (let i = 0; i < d.length; i++, p += 4) dv.setFloat32(p, d[i], true);
    else if (t.dtype === 'float16') for (let i = 0; i < d.length; i++, p += 2) dv.setUint16(p, numberToFloat16Bits(d[i]), true);
    else for (let i = 0; i < d.length; i++, p += 2) dv.setUint16(p, numberToBfloat16Bits(d[i]), true);
  }
  return out;
}
