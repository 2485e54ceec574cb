/**
 * Cycle costs of the compute instructions of a program, as functions both the emulator (runtime/)
 * and the compiler's cost model (compiler/) call, so that a prediction and a measurement come from
 * one definition. docs/runtime-model.md ("Cost of an instruction on a core") is the specification;
 * these functions implement it and the tests hold the emulator to them.
 *
 * Conventions: `L` is FMA lanes per cycle (flopsPerCycle.X / 2, X chosen by operand types),
 * `R` / `W` SRAM elements read / written per cycle. The *Cycles functions return the cycles beyond
 * `overhead.issue`; callCost and computeInstrCost return whole instruction costs.
 */
import type { DType } from './dtype.js';
import type { Attrs } from './graph.js';
import { getOp } from './ops/index.js';
import { FUSED_DOMAIN, FUSED_OP, fusedSteps } from './ops/fused.js';
import { shapeElements } from './program-call.js';
import { DEFAULT_OPSET, evalExpr, type Broadcast, type BufferDecl, type CallTensor, type ExprEnv, type Instr, type MemType, type UnaryFn } from './program.js';
import type { Target } from './target.js';

// ---- the machine's compute instructions -------------------------------------------------------

/** c_fn: lane operations per element of each unary function. */
export const UNARY_FN_COST: Readonly<Record<UnaryFn, number>> = {
  copy: 1, neg: 1, abs: 1, exp: 4, log: 4, sqrt: 4, rsqrt: 4, recip: 4, relu: 1, sigmoid: 4, tanh: 4, gelu: 8, silu: 8, square: 1, scale: 1, add_scalar: 1,
};

/**
 * FMA lanes per cycle for an instruction reading buffers of types `inputs` and writing `output`:
 * float16 when every operand is f16, float16Acc32 when the inputs are f16 and the output f32,
 * float32 otherwise.
 */
export function lanesFor(target: Target, inputs: readonly MemType[], output: MemType): number {
  const allIn16 = inputs.every((t) => t === 'f16');
  const f = target.flopsPerCycle;
  const flops = allIn16 && output === 'f16' ? f.float16 : allIn16 && output === 'f32' ? f.float16Acc32 : f.float32;
  return flops / 2;
}

export function matmulCycles(m: number, k: number, n: number, acc: boolean, L: number, R: number, W: number): number {
  const reads = m * k + k * n + (acc ? m * n : 0);
  return Math.max(Math.ceil((m * k * n) / L), Math.ceil(reads / R), Math.ceil((m * n) / W));
}

export function unaryCycles(n: number, cfn: number, L: number, R: number, W: number): number {
  return Math.max(Math.ceil((n * cfn) / L), Math.ceil(n / R), Math.ceil(n / W));
}

/** `bSize`: elements of b read (rows·cols, cols, rows or 1); `broadcast`: bcast ≠ none. */
export function binaryCycles(rows: number, cols: number, bSize: number, broadcast: boolean, L: number, R: number, W: number): number {
  const rc = rows * cols;
  const reads = broadcast ? rc + bSize : 2 * rc;
  return Math.max(Math.ceil(rc / L), Math.ceil(reads / R), Math.ceil(rc / W));
}

/** `out`: rows (axis cols) or cols (axis rows). */
export function reduceCycles(rows: number, cols: number, out: number, L: number, R: number, W: number): number {
  const rc = rows * cols;
  return Math.max(Math.ceil(rc / L), Math.ceil(rc / R), Math.ceil(out / W));
}

export function fillCycles(n: number, W: number): number {
  return Math.ceil(n / W);
}

/** A `delay` of `cycles`: its whole cost (no issue cycle). */
export function delayCycles(cycles: number): number {
  return Math.max(0, cycles);
}

// ---- call -------------------------------------------------------------------------------------

type CallInstr = Extract<Instr, { op: 'call' }>;
/** The parts of a call its cost depends on. */
export type CallShape = Pick<CallInstr, 'opType' | 'domain' | 'attrs' | 'inputs' | 'outputs'>;

const size = (t: CallTensor | null | undefined): number => (t ? shapeElements(t.shape) : 0);
const dim = (t: CallTensor | null | undefined, i: number): number => {
  if (!t || t.shape.length === 0) return 1;
  const k = i < 0 ? t.shape.length + i : i;
  return t.shape[Math.min(Math.max(k, 0), t.shape.length - 1)];
};
const tail = (t: CallTensor | null | undefined): number => (t ? shapeElements(t.shape.slice(1)) : 0);

const PER_ELEMENT_4 = ['Exp', 'Log', 'Sqrt', 'Reciprocal', 'Sigmoid', 'Tanh', 'Erf', 'Pow', 'Sin', 'Cos', 'Softplus', 'Elu', 'Selu', 'Celu'];
const PER_ELEMENT_8 = ['Gelu', 'Mish', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'RMSNormalization', 'SimplifiedLayerNormalization',
  'InstanceNormalization', 'GroupNormalization'];
const OVER_INPUT = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp',
  'ReduceSumSquare', 'ArgMax', 'ArgMin', 'GlobalAveragePool', 'GlobalMaxPool', 'CumSum'];

/**
 * The work of a call in lane operations (one FMA lane does one multiply-add or one simple operation
 * per cycle — the unit of the `matmul` m·k·n and `unary` n·c_fn terms). The table of
 * docs/runtime-model.md: out = elements of the outputs, in0 = elements of input 0.
 *
 * - MatMul: out·K (K = the last dim of A; its 2·M·K·N FLOPs are M·K·N multiply-adds); Gemm: M·K·N
 *   (+ M·N with C);
 * - Conv: out·(C/group)·∏kernel = out·∏W.shape[1:]; ConvTranspose: in0·∏W.shape[1:];
 * - MaxPool, AveragePool, LpPool: out·∏kernel_shape;
 * - reductions (ReduceSum … ArgMin, GlobalAveragePool, GlobalMaxPool, CumSum): in0;
 * - 4·out for Exp Log Sqrt Reciprocal Sigmoid Tanh Erf Pow Sin Cos Softplus Elu Selu Celu (the c_fn of
 *   the transcendental unary functions);
 * - 8·out for Gelu Mish Softmax LogSoftmax and the normalizations;
 * - every other op (elementwise, data movement: Transpose, Gather, Concat, ...): out;
 * - wafer:FusedElementwise: the sum of its steps' works (fusedWork).
 */
export function callWork(call: CallShape): number {
  const out = call.outputs.reduce((s, t) => s + size(t), 0);
  if (call.domain === FUSED_DOMAIN && call.opType === FUSED_OP) return fusedWork(call);
  const [a, b, c] = call.inputs;
  const domainOk = call.domain === '' || call.domain === 'ai.onnx';
  const op = domainOk ? call.opType : '';
  if (op === 'MatMul') return out * (a && a.shape.length >= 2 ? dim(a, -1) : dim(a, 0));
  if (op === 'Gemm') {
    const transA = call.attrs.transA?.kind === 'int' && call.attrs.transA.value !== 0;
    const k = transA ? dim(a, 0) : dim(a, 1);
    return out * k + (c ? out : 0);
  }
  if (op === 'Conv') return out * tail(b);
  if (op === 'ConvTranspose') return size(a) * tail(b);
  if (op === 'MaxPool' || op === 'AveragePool' || op === 'LpPool') {
    const ks = call.attrs.kernel_shape;
    return out * (ks?.kind === 'ints' ? shapeElements(ks.value) : 1);
  }
  if (OVER_INPUT.includes(op)) return size(a);
  if (PER_ELEMENT_4.includes(op)) return 4 * out;
  if (PER_ELEMENT_8.includes(op)) return 8 * out;
  return out;
}

/**
 * A fused elementwise chain (ir/ops/fused.ts): the sum of its steps' works, each step's result shape
 * from its op's shape rule (a step's work is 4 per element for the transcendental functions above,
 * else 1 per element).
 */
function fusedWork(call: CallShape): number {
  const inputs = call.inputs.map((t) => ({ type: { dtype: t!.dtype, shape: [...t!.shape] } }));
  const steps = fusedSteps(call.attrs, inputs.length);
  const types: { type: { dtype: DType; shape: number[] } }[] = [];
  let work = 0;
  for (const s of steps) {
    const ops = s.args.map((r) => (r >= 0 ? inputs[r] : types[-r - 1]));
    const attrs: Attrs = s.op === 'Cast' ? { to: { kind: 'int', value: s.to } } : {};
    const [type] = getOp(s.op)!.infer(ops, attrs, { name: 'fused', opset: DEFAULT_OPSET, numOutputs: 1 });
    types.push({ type: { dtype: type.dtype, shape: [...type.shape] } });
    work += (PER_ELEMENT_4.includes(s.op) ? 4 : 1) * shapeElements(type.shape);
  }
  return work;
}

/**
 * FMA lanes for a call, from its tensors' dtypes (the rule of lanesFor with float16 for f16 and
 * float32 for f32): float16 when every tensor is float16, float16Acc32 when the inputs are float16
 * and the outputs float32, float32 otherwise.
 */
export function callLanes(call: CallShape, target: Target): number {
  const ins = call.inputs.filter((t): t is CallTensor => t !== null);
  const outs = call.outputs.filter((t): t is CallTensor => t !== null);
  const allIn16 = ins.every((t) => t.dtype === 'float16');
  const f = target.flopsPerCycle;
  const flops = allIn16 && outs.every((t) => t.dtype === 'float16') ? f.float16
    : allIn16 && outs.every((t) => t.dtype === 'float32') ? f.float16Acc32 : f.float32;
  return flops / 2;
}

/** Cycles of a call beyond `overhead.issue`: max(⌈in/R⌉, ⌈out/W⌉, ⌈work/L⌉) over all its tensors' elements. */
export function callCycles(call: CallShape, target: Target): number {
  const inElems = call.inputs.reduce((s, t) => s + size(t), 0);
  const outElems = call.outputs.reduce((s, t) => s + size(t), 0);
  const R = target.sram.readWordsPerCycle, W = target.sram.writeWordsPerCycle;
  return Math.max(Math.ceil(inElems / R), Math.ceil(outElems / W), Math.ceil(callWork(call) / callLanes(call, target)));
}

/** The whole cost of a call: overhead.issue + callCycles. The same on every core (shapes are static). */
export function callCost(call: CallShape, target: Target): number {
  return target.overhead.issue + callCycles(call, target);
}

// ---- any compute instruction ------------------------------------------------------------------

/** The whole cost (issue included) of a `unary` of n elements from a `src`-typed to a `dst`-typed buffer. */
export function unaryCost(target: Target, fn: UnaryFn, n: number, src: MemType, dst: MemType): number {
  return target.overhead.issue + unaryCycles(n, UNARY_FN_COST[fn], lanesFor(target, [src], dst), target.sram.readWordsPerCycle, target.sram.writeWordsPerCycle);
}

/** The whole cost (issue included) of a `binary` over rows × cols with b broadcast as `bcast`. */
export function binaryCost(target: Target, rows: number, cols: number, bcast: Broadcast, a: MemType, b: MemType, dst: MemType): number {
  const bSize = bcast === 'none' ? rows * cols : bcast === 'row' ? cols : bcast === 'col' ? rows : 1;
  return target.overhead.issue + binaryCycles(rows, cols, bSize, bcast !== 'none', lanesFor(target, [a, b], dst), target.sram.readWordsPerCycle, target.sram.writeWordsPerCycle);
}

/**
 * The whole cost (issue included) of a compute instruction on a core whose expression variables are
 * `env`, with the kernel's `buffers` (for operand types): matmul, unary, binary, reduce, fill, call,
 * swap and delay. Undefined for instructions whose duration depends on other cores (send, recv,
 * forward, wait) and for loop (its body decides).
 */
export function computeInstrCost(ins: Instr, env: ExprEnv, buffers: readonly BufferDecl[], target: Target): number | undefined {
  const e = (x: Parameters<typeof evalExpr>[0]) => evalExpr(x, env);
  const ty = (b: number): MemType => buffers[b]?.type ?? 'f32';
  const issue = target.overhead.issue;
  const R = target.sram.readWordsPerCycle, W = target.sram.writeWordsPerCycle;
  switch (ins.op) {
    case 'matmul':
      return issue + matmulCycles(e(ins.m), e(ins.k), e(ins.n), ins.accumulate, lanesFor(target, [ty(ins.a.buf), ty(ins.b.buf)], ty(ins.c.buf)), R, W);
    case 'unary':
      return unaryCost(target, ins.fn, e(ins.n), ty(ins.src.buf), ty(ins.dst.buf));
    case 'binary':
      return binaryCost(target, e(ins.rows), e(ins.cols), ins.bcast, ty(ins.a.buf), ty(ins.b.buf), ty(ins.dst.buf));
    case 'reduce': {
      const rows = e(ins.rows), cols = e(ins.cols);
      return issue + reduceCycles(rows, cols, ins.axis === 'cols' ? rows : cols, lanesFor(target, [ty(ins.src.buf)], ty(ins.dst.buf)), R, W);
    }
    case 'fill':
      return issue + fillCycles(e(ins.n), W);
    case 'call':
      return callCost(ins, target);
    case 'swap':
      return issue;
    case 'delay':
      return delayCycles(e(ins.cycles));
    default:
      return undefined;
  }
}
