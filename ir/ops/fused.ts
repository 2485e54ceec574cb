/**
 * `wafer:FusedElementwise` — a chain of elementwise ops run as one op, which the compiler's `fuse`
 * pass makes out of chains whose intermediate values nothing else reads (compiler/passes/fuse.ts).
 * Its semantics are exactly those of the chain: each step is the registered op, evaluated in order
 * on the fused op's inputs and the earlier steps' results (so dtypes, broadcasting and rounding are
 * the unfused ops'); only the intermediate tensors never exist in SRAM, which is what its cost
 * reflects (ir/program-cost.ts: the inputs read once, the output written once, the steps' work).
 *
 * Attributes:
 *   ops    strings  the op type of each step (default domain), in order
 *   arity  ints     the number of operands of each step
 *   args   ints     the operands, flattened: k ≥ 0 is the fused op's input k, k < 0 the result of
 *                   step −k − 1 (an earlier step); the last step's result is the output
 *   to     ints     per step, the `to` attribute of a Cast (0 for any other op)
 *   nodes  strings  the names of the fused nodes (for reports)
 */
import type { Attrs, StaticType } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { OpError, getOp, type InferInput, type OpDef, type OpInfo } from './registry.js';

export const FUSED_DOMAIN = 'wafer';
export const FUSED_OP = 'FusedElementwise';

/** Ops a chain may contain: elementwise, attribute-free (Cast: `to` only). */
export const FUSABLE = new Set([
  'Abs', 'Neg', 'Relu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Reciprocal', 'Floor', 'Ceil', 'Sin', 'Cos', 'Sign', 'Softsign',
  'Softplus', 'Not', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor',
  'Where', 'Cast',
]);

export interface FusedStep {
  op: string;
  args: number[];
  to: number;
}

/** The steps of a fused op, checked. */
export function fusedSteps(attrs: Attrs, inputs: number): FusedStep[] {
  const get = <K extends 'strings' | 'ints'>(name: string, kind: K) => {
    const a = attrs[name];
    if (!a || a.kind !== kind) throw new OpError('W2002', `${FUSED_OP} needs the attribute '${name}' (${kind})`);
    return a.value as K extends 'strings' ? string[] : number[];
  };
  const ops = get('ops', 'strings') as string[];
  const arity = get('arity', 'ints') as number[];
  const args = get('args', 'ints') as number[];
  const to = get('to', 'ints') as number[];
  if (ops.length === 0 || arity.length !== ops.length || to.length !== ops.length || args.length !== arity.reduce((a, b) => a + b, 0)) {
    throw new OpError('W2002', `${FUSED_OP}: 'ops', 'arity', 'to' and 'args' disagree in length`);
  }
  const steps: FusedStep[] = [];
  let k = 0;
  ops.forEach((op, s) => {
    if (!FUSABLE.has(op)) throw new OpError('W2002', `${FUSED_OP}: step ${s} is '${op}', which is not a fusable elementwise op`);
    const a = args.slice(k, (k += arity[s]));
    for (const r of a) {
      if (!Number.isInteger(r) || r >= inputs || (r < 0 && -r - 1 >= s)) throw new OpError('W2002', `${FUSED_OP}: step ${s} names operand ${r}, which does not exist yet`);
    }
    steps.push({ op, args: a, to: to[s] });
  });
  return steps;
}

const stepAttrs = (s: FusedStep): Attrs => (s.op === 'Cast' ? { to: { kind: 'int', value: s.to } } : {});

/** Runs the steps over values of any kind (types for infer, tensors for evaluate). */
function run<T>(attrs: Attrs, inputs: T[], apply: (step: FusedStep, def: OpDef, operands: T[]) => T): { steps: T[] } {
  const steps = fusedSteps(attrs, inputs.length);
  const results: T[] = [];
  for (const s of steps) {
    const def = getOp(s.op);
    if (!def) throw new OpError('W2002', `${FUSED_OP}: unknown op '${s.op}'`);
    results.push(apply(s, def, s.args.map((r) => (r >= 0 ? inputs[r] : results[-r - 1]))));
  }
  return { steps: results };
}

const fused: OpDef = {
  infer(inputs, attrs, info): StaticType[] {
    const ins = inputs.map((i) => {
      if (!i) throw new OpError('W2002', `${FUSED_OP}: no input may be omitted`);
      return i;
    });
    const { steps } = run<InferInput>(attrs, ins, (s, def, ops) => ({ type: def.infer(ops, stepAttrs(s), { ...info, numOutputs: 1 })[0] }));
    return [steps[steps.length - 1].type];
  },
  evaluate(inputs, attrs, info: OpInfo): Tensor[] {
    const ins = inputs.map((i) => {
      if (!i) throw new OpError('W2002', `${FUSED_OP}: no input may be omitted`);
      return i;
    });
    const { steps } = run<Tensor>(attrs, ins, (s, def, ops) => def.evaluate(ops, stepAttrs(s), { ...info, numOutputs: 1 })[0]);
    return [steps[steps.length - 1]];
  },
};

export const fusedOps: Record<string, OpDef> = { [`${FUSED_DOMAIN}:${FUSED_OP}`]: fused };
