/**
 * The contract of a distributed kernel: a generator that writes program code for one op into a
 * region's SPMD kernel (ir/program-builder.ts), and an exact cost function predicting, in cycles,
 * what the emulator will measure for that code (docs/runtime-model.md). Kernels are selectable by
 * name; the cost functions drive select-kernels; tests assert emulated cycles == predicted cycles.
 *
 * Composition rule (what makes a whole program's schedule exact): a kernel starts with every core of
 * its region at the same cycle T0, no transfer in flight and empty colour buffers, and reports each
 * core's finish offset `finish` (an expression of x, y). The scheduler pads every core with a
 * `delay` of (cycles − finish) so that all cores leave the kernel at T0 + cycles together.
 */
import type { Expr, MemType, Port } from '../../ir/program.js';
import type { BufferRef, RegionBuilder } from '../../ir/program-builder.js';
import type { Target } from '../../ir/target.js';

/** Colours a kernel may use, handed out by the caller (the route pass, or a standalone wrapper). */
export interface ColourAllocation {
  colours: readonly number[];
}

/** A route rule relative to the kernel's region (rect defaults to the region). */
export interface KernelRoute {
  colour: number;
  input: Port;
  outputs: Port[];
  guard?: Expr;
}

/** What a kernel generator returns. */
export interface EmittedKernel {
  /** Route rules the kernel needs (relative to its region). */
  routes: KernelRoute[];
  /** Scratch buffers it declared (for SRAM accounting). */
  scratch: BufferRef[];
  /** Predicted cycles from the kernel's first instruction to its last core finishing. */
  cycles: number;
  /** Each core's finish offset from T0 (≤ cycles), as an expression of x, y. */
  finish: Expr;
}

/** Common parameters of every kernel generator. */
export interface KernelEnv {
  target: Target;
  region: RegionBuilder;
  /** Region size in cores. */
  width: number;
  height: number;
  colours: ColourAllocation;
  /** IR location for the emitted instructions. */
  loc: string;
  /**
   * Where the kernel's scratch buffers go (the compiler places them in SRAM it planned, live only
   * during the kernel); default: declared on the region, packed after its other buffers.
   */
  scratch?: (name: string, type: MemType, length: number) => BufferRef;
}

/** Declares a scratch buffer of a kernel (env.scratch, else a plain buffer of the region). */
export function scratchBuffer(env: KernelEnv, name: string, type: MemType, length: number): BufferRef {
  return env.scratch ? env.scratch(name, type, length) : env.region.buffer(name, type, length);
}
