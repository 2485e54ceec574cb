/**
 * The `call` kernel: one graph op run whole on one core with the reference semantics (the program's
 * `call` instruction). It is the fallback for every op without a distributed kernel and, in this
 * first back end, the kernel of every op.
 *
 * Cost: exactly callCost (ir/program-cost.ts, the function the emulator charges): overhead.issue +
 * max(⌈inputs/R⌉, ⌈outputs/W⌉, ⌈work/L⌉), fixed by the tensors' shapes and dtypes. The core that
 * runs it finishes at that offset; every other core does nothing in the step (finish 0).
 */
import type { DType } from '../../ir/dtype.js';
import type { Attrs } from '../../ir/graph.js';
import type { CallArg, InstrRef, OperandLike, RegionBuilder } from '../../ir/program-builder.js';
import { callCost } from '../../ir/program-cost.js';
import type { CallTensor, Expr } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';

/** A tensor of a call: where it is (ignored by the cost), its dtype and shape. */
export interface CallOperandSpec {
  at: OperandLike;
  dtype: DType;
  shape: readonly number[];
}

export interface CallSpec {
  opType: string;
  domain: string;
  attrs: Attrs;
  inputs: (CallOperandSpec | null)[];
  outputs: (CallOperandSpec | null)[];
}

const shapeOnly = (t: CallOperandSpec | null): CallTensor | null => (t ? { buf: 0, offset: 0, dtype: t.dtype, shape: [...t.shape] } : null);

/** Exact cycles of the call on its core (issue included). */
export function callKernelCycles(spec: CallSpec, target: Target): number {
  return callCost({ opType: spec.opType, domain: spec.domain, attrs: spec.attrs, inputs: spec.inputs.map(shapeOnly), outputs: spec.outputs.map(shapeOnly) }, target);
}

/** Emits the call on the cores where `guard` holds (one core). */
export function emitCallKernel(r: RegionBuilder, spec: CallSpec, guard: Expr | undefined, loc: string): InstrRef {
  const arg = (t: CallOperandSpec | null): CallArg | null => (t ? { at: t.at, dtype: t.dtype, shape: t.shape } : null);
  return r.call(spec.opType, spec.inputs.map(arg), spec.outputs.map(arg), spec.attrs, { domain: spec.domain, guard, loc });
}
