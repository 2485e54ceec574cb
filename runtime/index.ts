/**
 * The emulator's public surface: load (validate) a program, run it, and the RunResult types.
 * cli/ and tests import from here; report.ts and trace.ts format a RunResult.
 */
export { emulate, loadProgram, DEFAULT_BUCKET_CYCLES, DEFAULT_MAX_EVENTS, DEFAULT_TRACE_CORES } from './emulate.js';
export type { EmulateOptions, LoadedProgram } from './emulate.js';
export type * from './result.js';
