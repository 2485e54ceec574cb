/**
 * The emulator's public API: `loadProgram` validates and compiles a program (reusable), `emulate`
 * runs it in functional or timing-only mode and returns a RunResult. Functional mode needs every
 * constant's data and every input (W6005 otherwise); outputs are read back per their tilings.
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import type { Program } from '../ir/program.js';
import { MEM_TYPE_BYTES } from '../ir/program.js';
import { Executor } from './executor.js';
import { decodeData, placeTiles, readTiles, tileBytes } from './executor-sram.js';
import { buildResult } from './executor-stats.js';
import { loadProgram, type LoadedProgram } from './loader.js';
import type { OutputTensor, RunMode, RunResult } from './result.js';

export { loadProgram };
export type { LoadedProgram };

export interface EmulateOptions {
  /** 'functional' computes values; 'timing' (default) only times. */
  mode?: RunMode;
  /** Functional mode: a row-major float32 array per program input, by graph value name. */
  inputs?: Map<string, Float32Array>;
  /** Trace samples: spans of up to `cores` cores (default 16, evenly spread) and link load per `bucketCycles` (default 256). */
  trace?: { cores?: number; bucketCycles?: number };
  /** Stop with W6001 after this many events (default 1e9). */
  maxEvents?: number;
}

export const DEFAULT_MAX_EVENTS = 1e9;
export const DEFAULT_TRACE_CORES = 16;
export const DEFAULT_BUCKET_CYCLES = 256;

function w6005(message: string): DiagnosticError {
  return new DiagnosticError({ code: 'W6005', message, hint: 'Run with --timing-only, or give every input.' });
}

/** Runs a program (or a LoadedProgram from loadProgram) on its target. */
export function emulate(program: Program | LoadedProgram, options: EmulateOptions = {}): RunResult {
  const lp = 'machine' in program && 'coreRegion' in program ? program : loadProgram(program);
  const mode: RunMode = options.mode ?? 'timing';
  const functional = mode === 'functional';
  const p = lp.program;
  if (functional) {
    const missing = lp.constants.filter((c) => c.data === undefined).map((c) => c.name);
    if (missing.length) throw w6005(`functional run of a shapes-only program: constants ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} carry no data`);
    const problems: string[] = [];
    lp.inputs.forEach((d, i) => {
      const v = options.inputs?.get(d.name);
      const n = d.tiles.rows * d.tiles.cols;
      if (!v) problems.push(`input ${d.name} is missing`);
      else if (v.length !== n) problems.push(`input ${d.name} has ${v.length} values; its shape [${p.inputs[i].shape.join(', ')}] needs ${n}`);
    });
    if (problems.length) throw w6005(problems.join('; '));
  }
  const trace = options.trace;
  const ex = new Executor(lp, {
    functional,
    traceCores: trace ? trace.cores ?? DEFAULT_TRACE_CORES : undefined,
    bucketCycles: Math.max(1, Math.floor(trace?.bucketCycles ?? DEFAULT_BUCKET_CYCLES)),
    maxEvents: options.maxEvents ?? DEFAULT_MAX_EVENTS,
  });
  let inputBytes = 0;
  if (functional) {
    for (const d of lp.constants) placeTiles(lp, ex.memory!, d, decodeData(d.type, d.data!));
    for (const d of lp.inputs) inputBytes += placeTiles(lp, ex.memory!, d, options.inputs!.get(d.name)!);
  } else {
    for (const d of lp.inputs) inputBytes += tileBytes(lp, d);
  }
  ex.run();
  const outputBytes = lp.outputs.reduce((s, o) => s + o.tiles.rows * o.tiles.cols * MEM_TYPE_BYTES[o.type], 0);
  const result = buildResult(ex, mode, { inputBytes, outputBytes });
  if (functional) {
    result.outputs = lp.outputs.map((d, i): OutputTensor => ({ name: d.name, shape: [...p.outputs[i].shape], data: readTiles(lp, ex.memory!, d) }));
  }
  return result;
}
