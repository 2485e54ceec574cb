/**
 * Diagnostics: every user-visible error has a stable code, a message, a location and a hint.
 * Codes: W1xxx import, W2xxx graph IR and passes, W3xxx placement/routing/memory, W4xxx scheduling,
 * W5xxx program/loader, W6xxx emulator. The table below is the single list of codes; docs/diagnostics.md
 * documents each one (a test keeps the two in step).
 */

export interface Diagnostic {
  code: string;
  message: string;
  /** Where: ONNX node name, file, IR line, core coordinate. */
  location?: string;
  hint?: string;
}

export const DIAGNOSTIC_CODES: Record<string, string> = {
  // import (ONNX frontend)
  W1001: 'file cannot be read or is not an ONNX model',
  W1002: 'unsupported or unknown tensor element type',
  W1003: 'invalid tensor dimensions (negative, too large, or too many elements)',
  W1004: 'tensor payload size disagrees with its dims',
  W1005: 'external data is missing, unreadable or outside the model folder',
  W1006: 'a value name is defined twice',
  W1007: 'a node reads a value that nothing produces',
  W1008: 'the graph has a cycle',
  W1009: 'opset newer than supported',
  W1010: 'unsupported operators',
  W1011: 'invalid or missing attribute',
  W1012: 'a symbolic dim is bound inconsistently or to an invalid value',
  W1013: 'graph input or output is malformed',
  W1014: 'test data file is not a valid TensorProto',
  // import (LLM frontend)
  W1101: 'LLM config is invalid',
  W1102: 'LLM architecture or option not supported',
  W1103: 'safetensors file or index is invalid',
  W1104: 'weights disagree with the LLM config',
  // graph IR and passes
  W2001: 'attribute has the wrong kind',
  W2002: 'op inputs or attributes are invalid',
  W2003: 'output shape depends on a non-constant value',
  W2004: 'IR text cannot be parsed',
  W2005: 'IR verification failed',
  W2006: 'a dim is still symbolic where a static shape is required',
  W2007: 'evaluation input missing or of the wrong type or shape',
  W2008: 'unknown pass name in a pipeline option',
  // placement, routing and memory (mesh IR)
  W3001: 'mesh IR verification failed',
  W3002: 'an op\'s inputs and outputs do not fit one core\'s SRAM',
  W3003: 'the model does not fit the mesh',
  W3004: 'routers run out of colours',
  W3005: 'the memory map of a region exceeds a core\'s SRAM',
  W3006: 'a value cannot be held in SRAM as the program format requires',
  W3007: 'a distributed kernel cannot run with these parameters on its region or target',
  W3008: 'an op of a distributed program has no distributed kernel for its values\' layouts',
  W3009: 'no LLM plan fits the target',
  // program files and the loader
  W5001: 'target description is invalid',
  W5002: 'program file is truncated, corrupt or not a wafer program',
  W5003: 'program format version is newer than supported',
  W5004: 'SRAM overflow on a core',
  W5005: 'buffers overlap while both are live',
  W5006: 'too many colours configured on a router',
  W5007: 'a route leaves the mesh',
  W5008: 'conflicting route rules for one router, colour and input',
  W5009: 'a stream reaches no core, loops, or returns to its sender',
  W5010: 'a receive that no route can deliver to',
  W5011: 'constant, input or output tiling does not fit its region or buffer',
  W5012: 'malformed instruction or operand',
  W5013: 'region outside the mesh or overlapping another region',
  // emulator
  W6001: 'deadlock: cores wait for transfers that can never happen',
  W6002: 'data race: an instruction touches a buffer range with a transfer in flight',
  W6003: 'a stream and the receive it meets disagree on the element count',
  W6004: 'an operand range leaves its buffer',
  W6005: 'functional run of a program without constant data, or input data missing or mis-shaped',
  W6006: 'the run ended with streams that no receive consumed',
  W6007: 'a call writes an integer value that its i32 buffer cannot hold',
  W6008: 'a call\'s op fails, or its results disagree with the declared outputs',
};

/** An error carrying one or more diagnostics. The CLI prints them and exits 1. */
export class DiagnosticError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic | Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map(formatDiagnostic).join('\n'));
    this.diagnostics = list;
  }
}

export function diag(code: string, message: string, location?: string, hint?: string): DiagnosticError {
  return new DiagnosticError({ code, message, location, hint });
}

export function formatDiagnostic(d: Diagnostic): string {
  let s = `error ${d.code}: ${d.message}`;
  if (d.location) s += `\n  at ${d.location}`;
  if (d.hint) s += `\n  hint: ${d.hint}`;
  return s;
}
