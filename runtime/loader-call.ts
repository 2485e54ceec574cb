/**
 * Loader, `call` part: checks one call instruction against its kernel's memory map and the op
 * registry, and compiles it into a CompiledCall the executor runs per core (docs/runtime-model.md,
 * "call"). Problems are W5012 diagnostics naming the instruction:
 *
 * - the op type is not in the registry (ir/ops) for its domain;
 * - a tensor names a buffer that does not exist, has a malformed shape or an unknown dtype, is held
 *   in a buffer type its dtype cannot be stored in (ir/program-call.ts, callStorageTypes), or cannot
 *   fit its buffer (more elements than the buffer has, or a core-independent offset that runs past
 *   the end — offsets that vary per core are checked at run time, W6004);
 * - malformed attributes;
 * - the op's shape rule rejects the declared input types, or infers output types other than the
 *   declared ones. A rule that needs an input's *value* (Reshape's shape, ...) cannot run here; then
 *   the emulator checks the results in functional mode (W6008).
 */
import type { Diagnostic } from '../ir/diagnostics.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import type { DType } from '../ir/dtype.js';
import type { Attrs, StaticType } from '../ir/graph.js';
import { getOp, OpError, type OpDef } from '../ir/ops/index.js';
import { MAX_CALL_TENSORS, attrsProblem, callStorageTypes, isDType, shapeElements, shapeProblem } from '../ir/program-call.js';
import { callCycles } from '../ir/program-cost.js';
import type { BufferDecl, CallTensor, Instr } from '../ir/program.js';
import type { Target } from '../ir/target.js';
import type { Compiled, ExprFn } from './loader-expr.js';

/** One present tensor of a call, as the executor reads or writes it. */
export interface CallOperand {
  /** Position in the call's inputs or outputs. */
  index: number;
  isOutput: boolean;
  buf: number;
  off: ExprFn;
  dtype: DType;
  shape: number[];
  /** Elements (= buffer elements it covers). */
  n: number;
  /** "input 0", "output 1": for diagnostics. */
  name: string;
}

export interface CompiledCall {
  def: OpDef;
  opType: string;
  domain: string;
  attrs: Attrs;
  /** Declared inputs and outputs, null where omitted. */
  inputs: (CallOperand | null)[];
  outputs: (CallOperand | null)[];
  /** The present ones, inputs first: the executor's access list order. */
  operands: CallOperand[];
  /** Cycles beyond overhead.issue (callCycles: the same on every core). */
  cycles: number;
  /**
   * The op's shape rule needs input values (W2003 at load): functional mode runs it on the values
   * before evaluating, so a mis-declared output is reported before anything large is allocated.
   */
  inferAtRun: boolean;
}

type CallInstr = Extract<Instr, { op: 'call' }>;

const typeText = (t: StaticType) => `${t.dtype}[${t.shape.join(',')}]`;

/**
 * Checks and compiles a call. `expr` compiles an operand offset (reporting its own problems);
 * `bad` reports a W5012 problem of this instruction. Returns undefined when the call is unusable.
 */
export function compileCall(
  ins: CallInstr, bufs: readonly BufferDecl[], target: Target, opset: number,
  expr: (name: string, e: unknown) => Compiled, bad: (msg: string) => void,
): CompiledCall | undefined {
  let ok = true;
  const fail = (msg: string) => { bad(`call ${typeof ins.opType === 'string' ? ins.opType : '?'}: ${msg}`); ok = false; };
  if (typeof ins.opType !== 'string' || ins.opType === '') fail('the op type is not a non-empty string');
  if (typeof ins.domain !== 'string') fail('the domain is not a string');
  const def = ok ? getOp(ins.opType, ins.domain) : undefined;
  if (ok && !def) {
    fail(`op type ${ins.domain ? `${ins.domain}:` : ''}${ins.opType} is not in the op registry`);
  }
  const ap = attrsProblem(ins.attrs);
  if (ap) fail(ap);
  const tensors = (list: unknown, isOutput: boolean): (CallOperand | null)[] => {
    const kind = isOutput ? 'output' : 'input';
    if (!Array.isArray(list) || list.length > MAX_CALL_TENSORS) {
      fail(`the ${kind}s are not a list of at most ${MAX_CALL_TENSORS}`);
      return [];
    }
    return list.map((t: CallTensor | null, index): CallOperand | null => {
      if (t === null) return null;
      const name = `${kind} ${index}`;
      if (typeof t !== 'object' || t === undefined) { fail(`${name} is not a tensor or null`); return null; }
      if (!Number.isInteger(t.buf) || t.buf < 0 || t.buf >= bufs.length) { fail(`${name} names buffer ${String(t.buf)}, but the kernel has ${bufs.length} buffers`); return null; }
      if (!isDType(t.dtype)) { fail(`${name} has unknown dtype ${String(t.dtype)}`); return null; }
      const sp = shapeProblem(t.shape);
      if (sp) { fail(`${name}: ${sp}`); return null; }
      const b = bufs[t.buf];
      const types = callStorageTypes(t.dtype);
      if (!types.includes(b.type)) fail(`${name} (${t.dtype}) is in buffer ${b.name} of type ${b.type}; ${t.dtype} values are stored in ${types.join(' or ')} buffers`);
      const n = shapeElements(t.shape);
      const off = expr(`${name} offset`, t.offset);
      if (n > b.length) fail(`${name} ${typeText(t)} has ${n} elements, more than buffer ${b.name} holds (${b.length})`);
      else if (off.constant !== undefined && (off.constant < 0 || off.constant + n > b.length)) {
        fail(`${name} ${typeText(t)} covers elements [${off.constant}, ${off.constant + n}) of buffer ${b.name}, which has ${b.length}`);
      }
      return { index, isOutput, buf: t.buf, off: off.fn, dtype: t.dtype, shape: [...t.shape], n, name };
    });
  };
  const inputs = tensors(ins.inputs, false);
  const outputs = tensors(ins.outputs, true);
  if (!ok || !def) return undefined;
  const numOutputs = outputs.length;
  let inferred: StaticType[] | undefined;
  let inferAtRun = false;
  try {
    inferred = def.infer(inputs.map((t) => (t ? { type: { dtype: t.dtype, shape: t.shape } } : undefined)), ins.attrs, { name: ins.loc, opset, numOutputs });
  } catch (e) {
    // A rule that needs a value the loader does not have (W2003) is checked at run time instead.
    if (e instanceof OpError && e.code === 'W2003') inferAtRun = true;
    else fail(`the op refuses the declared inputs: ${errorText(e)}`);
  }
  if (inferred) {
    outputs.forEach((t, k) => {
      if (!t) return;
      const r = inferred![k];
      if (!r) fail(`${t.name} is declared but the op gives ${inferred!.length} output(s)`);
      else if (r.dtype !== t.dtype || r.shape.length !== t.shape.length || r.shape.some((d, i) => d !== t.shape[i])) {
        fail(`${t.name} is declared ${typeText(t)} but the op infers ${typeText(r)}`);
      }
    });
  }
  if (!ok) return undefined;
  const operands = [...inputs, ...outputs].filter((t): t is CallOperand => t !== null);
  return { def, opType: ins.opType, domain: ins.domain, attrs: ins.attrs, inputs, outputs, operands, cycles: callCycles(ins, target), inferAtRun };
}

/** The message of an error an op rule threw (its own errors and plain ones alike). */
export function errorText(e: unknown): string {
  if (e instanceof OpError) return e.message;
  if (e instanceof DiagnosticError) return e.diagnostics.map((d: Diagnostic) => d.message).join('; ');
  return e instanceof Error ? e.message : String(e);
}
