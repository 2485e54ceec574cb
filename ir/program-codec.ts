/**
 * The wafer program file: a fixed 20-byte header then a protobuf payload (schema program.proto,
 * loaded by reflection from program-schema.ts).
 *
 *   offset 0   8 bytes  magic "WAFERPRG"
 *   offset 8   uint32 LE format version (PROGRAM_FORMAT_VERSION when written)
 *   offset 12  uint32 LE payload length in bytes
 *   offset 16  uint32 LE CRC-32 (IEEE, as zlib) of the payload
 *   offset 20  payload: one wafer.program.Program message
 *
 * decodeProgram checks, in this order, and stops at the first failure: magic and header size (W5002
 * "not a wafer program"), version (W5003 when newer), payload length (W5002 truncated / trailing
 * bytes), checksum (W5002), protobuf decoding (W5002), then the conversion into the in-memory types
 * and the structural checks of program-codec-validate.ts (W5012; W5001 for the embedded target).
 * Nothing is allocated from a size field before it has been checked against the bytes present.
 *
 * encodeProgram runs the same structural checks first, so a tool cannot write a file the decoder
 * refuses, and is deterministic: the same Program gives the same bytes (fields are written in field
 * number order, lists in their in-memory order, no maps).
 */
import protobuf from 'protobufjs';
import { diag } from './diagnostics.js';
import { messageToProgram, programToMessage, type MProgram } from './program-codec-message.js';
import { validateProgram } from './program-codec-validate.js';
import { PROGRAM_SCHEMA } from './program-schema.js';
import { PROGRAM_FORMAT_VERSION, type Program } from './program.js';

export const PROGRAM_MAGIC = 'WAFERPRG';
export const PROGRAM_HEADER_BYTES = 20;

const MAGIC_BYTES = Uint8Array.from(PROGRAM_MAGIC, (c) => c.charCodeAt(0));

let programType: protobuf.Type | undefined;

/** The reflected Program message type (parsed once, on first use). */
export function programMessageType(): protobuf.Type {
  if (!programType) programType = protobuf.parse(PROGRAM_SCHEMA).root.resolveAll().lookupType('wafer.program.Program');
  return programType;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 of the IEEE 802.3 polynomial (reflected 0xEDB88320), as zlib and PNG compute it. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The file bytes of a program. Throws a DiagnosticError (W5012, W5001, W5003) for a malformed one. */
export function encodeProgram(p: Program): Uint8Array {
  if (!Number.isInteger(p.version) || p.version < 1 || p.version > PROGRAM_FORMAT_VERSION) {
    throw diag('W5003', `cannot write format version ${String(p.version)}: this wafer writes versions 1..${PROGRAM_FORMAT_VERSION}`, 'program',
      `set version to ${PROGRAM_FORMAT_VERSION}`);
  }
  validateProgram(p);
  const payload = programMessageType().encode(programToMessage(p)).finish();
  const out = new Uint8Array(PROGRAM_HEADER_BYTES + payload.length);
  out.set(MAGIC_BYTES, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, p.version, true);
  view.setUint32(12, payload.length, true);
  view.setUint32(16, crc32(payload), true);
  out.set(payload, PROGRAM_HEADER_BYTES);
  return out;
}

/**
 * The program held in file bytes. `source` (the file name) goes into diagnostic locations.
 * Throws a DiagnosticError with a W5xxx code for anything but a well-formed program of a supported
 * version; never another exception.
 */
export function decodeProgram(bytes: Uint8Array, source?: string): Program {
  const at = source ?? 'program file';
  const corrupt = (what: string, hint = 'the file is damaged: recompile it (do not edit program files by hand)') => diag('W5002', what, at, hint);
  const magicOk = bytes.length >= MAGIC_BYTES.length && MAGIC_BYTES.every((b, i) => bytes[i] === b);
  if (!magicOk) {
    throw corrupt(`not a wafer program (${bytes.length < MAGIC_BYTES.length ? `only ${bytes.length} bytes` : 'bad magic bytes'}; a program file starts with "${PROGRAM_MAGIC}")`,
      'give a file written by wafer compile');
  }
  if (bytes.length < PROGRAM_HEADER_BYTES) throw corrupt(`not a wafer program: truncated header (${bytes.length} of ${PROGRAM_HEADER_BYTES} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version === 0) throw corrupt('not a wafer program: format version 0 does not exist');
  if (version > PROGRAM_FORMAT_VERSION) {
    throw diag('W5003', `program format version ${version} is newer than this wafer supports (version ${PROGRAM_FORMAT_VERSION})`, at,
      'upgrade wafer, or recompile the program with this version');
  }
  const length = view.getUint32(12, true);
  const present = bytes.length - PROGRAM_HEADER_BYTES;
  if (present < length) throw corrupt(`truncated: the header announces ${length} payload bytes but only ${present} are present`);
  if (present > length) throw corrupt(`${present - length} unexpected bytes after the ${length}-byte payload`);
  const payload = bytes.subarray(PROGRAM_HEADER_BYTES);
  const stored = view.getUint32(16, true);
  const actual = crc32(payload);
  if (stored !== actual) {
    throw corrupt(`checksum mismatch: the payload's CRC-32 is ${hex(actual)} but the header says ${hex(stored)} (corrupted bytes)`);
  }
  let message: MProgram;
  try {
    message = programMessageType().decode(payload) as unknown as MProgram;
  } catch (e) {
    throw corrupt(`the payload is not a valid program message (${e instanceof Error ? e.message : String(e)})`);
  }
  const p = messageToProgram(message, version, source);
  validateProgram(p, source);
  return p;
}

/** The program in the canonical form decoding gives (fixed key order, absent fields absent). */
export function canonicalProgram(p: Program): Program {
  validateProgram(p);
  return messageToProgram(programToMessage(p), p.version);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
