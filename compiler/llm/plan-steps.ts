/**
 * The step vocabulary of the LLM planner (docs/llm-plan.md): a `LayerStep` names one kernel of a
 * layer with its shape, its exact cycles from wafer's kernel cost functions (compiler/kernels and
 * ir/program-cost.ts — the functions the emitters use), split into compute and communication, the
 * SRAM it needs beyond the layer's persistent buffers, and an estimate of the 32-bit word-hops it
 * moves on the fabric (for energy). The constructors here are the only place the planner calls a
 * cost function; each is memoized on (target, shape) because the side search calls them often.
 */
import { binaryCost, callCost, lanesFor, matmulCycles, reduceCycles, unaryCost } from '../../ir/program-cost.js';
import { MEM_TYPE_BYTES, wordsFor, type MemType, type UnaryFn } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { allreduceCost, type AllreduceFn, type MeshAxis } from '../kernels/allreduce.js';
import { gemvCost, type GemvShape } from '../kernels/gemv.js';
import { checkGemmShape, type GemmShape } from '../kernels/gemm.js';
import { ringCost } from '../kernels/gemm-ring-cost.js';
import { transposedCost } from '../kernels/gemm-transposed-cost.js';
import { shiftEastCost } from '../kernels/shift.js';
import { transferTiming } from '../kernels/transfer.js';
import { arrivalOffset, postOffset, streamCycles } from '../kernels/timing.js';

export type StepKernel = 'gemv' | 'allreduce' | 'local' | 'meshgemm' | 'transposed' | 'transfer' | 'shift';

/** One local instruction of a 'local' step (what an emitter writes, in order). */
export type LocalOp =
  | { op: 'unary'; fn: UnaryFn; n: number; src: MemType; dst: MemType }
  | { op: 'binary'; rows: number; cols: number; bcast: 'none' | 'row' | 'col' | 'scalar'; a: MemType; b: MemType; dst: MemType }
  | { op: 'reduce'; rows: number; cols: number; out: number; type: MemType }
  | { op: 'matmul'; m: number; k: number; n: number; a: MemType; dst: MemType; count: number }
  /** An elementwise ONNX op as a `call` (RoPE's Cos and Sin), f32 in and out. */
  | { op: 'call'; opType: 'Cos' | 'Sin'; n: number };

/** A kernel step of a layer: serializable (plain data). */
export interface LayerStep {
  name: string;
  kernel: StepKernel;
  /** The kernel's shape, as its cost function takes it (plus `line` for an allreduce, `hops` for a transfer). */
  shape: Record<string, unknown>;
  cycles: number;
  computeCycles: number;
  commCycles: number;
  /** SRAM bytes per core the step needs beyond the layer's persistent buffers (kernel scratch). */
  scratchBytes: number;
  /** Estimated 32-bit word-hops the step moves over the whole region (energy). */
  wordHops: number;
}

const cache = new Map<string, LayerStep>();
const targetKeys = new WeakMap<Target, string>();
function tkey(t: Target): string {
  let k = targetKeys.get(t);
  if (!k) targetKeys.set(t, (k = JSON.stringify(t)));
  return k;
}
function memo(t: Target, key: string, make: () => LayerStep): LayerStep {
  const k = `${tkey(t)}|${key}`;
  let s = cache.get(k);
  if (!s) {
    if (cache.size > 50_000) cache.clear();
    cache.set(k, (s = make()));
  }
  return { ...s, name: s.name, shape: { ...s.shape } };
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Whole cost (issue included) of one local op, as the program cost model charges it. */
export function localOpCycles(t: Target, o: LocalOp): number {
  const R = t.sram.readWordsPerCycle, W = t.sram.writeWordsPerCycle, I = t.overhead.issue;
  switch (o.op) {
    case 'unary': return unaryCost(t, o.fn, o.n, o.src, o.dst);
    case 'binary': return binaryCost(t, o.rows, o.cols, o.bcast, o.a, o.b, o.dst);
    case 'reduce': return I + reduceCycles(o.rows, o.cols, o.out, lanesFor(t, [o.type], o.type), R, W);
    case 'matmul': return o.count * (I + matmulCycles(o.m, o.k, o.n, false, lanesFor(t, [o.a, o.a], o.dst), R, W));
    case 'call': {
      const tensor = { buf: 0, offset: 0, dtype: 'float32' as const, shape: [o.n] };
      return callCost({ opType: o.opType, domain: '', attrs: {}, inputs: [tensor], outputs: [tensor] }, t);
    }
  }
}

/** A step of local instructions only (no communication). */
export function localStep(t: Target, name: string, ops: LocalOp[]): LayerStep {
  const live = ops.filter((o) => (o.op === 'unary' || o.op === 'call' ? o.n : o.op === 'matmul' ? o.m * o.k * o.n * o.count : o.rows * o.cols) > 0);
  const cycles = live.reduce((s, o) => s + localOpCycles(t, o), 0);
  return { name, kernel: 'local', shape: { ops: live }, cycles, computeCycles: cycles, commCycles: 0, scratchBytes: 0, wordHops: 0 };
}

/** A GEMV (gemvCost, K-tree): the local matmul is compute, the allreduce communication. */
export function gemvStep(t: Target, name: string, s: GemvShape): LayerStep {
  return { ...memo(t, `gemv|${JSON.stringify(s)}`, () => {
    const c = gemvCost(t, 'ktree', s, name);
    const acc = s.acc ?? s.type;
    const lines = s.P, words = wordsFor(acc, c.tiles.nt);
    return {
      name, kernel: 'gemv', shape: { ...s }, cycles: c.cycles, computeCycles: c.matmulCycles, commCycles: c.allreduce.cycles,
      // Beyond x, W and y (counted as buffers): the partial and the allreduce's scratch.
      scratchBytes: align4(c.tiles.nt * MEM_TYPE_BYTES[acc]) + align4(c.allreduce.scratchElements * MEM_TYPE_BYTES[acc]),
      wordHops: lines * 2 * (s.P - 1) * words,
    };
  }), name };
}

/** A K-tree allreduce over lines of `line` cores (line ≤ the region side: a sub-line). */
export function allreduceStep(t: Target, name: string, line: number, lines: number, axis: MeshAxis, fn: AllreduceFn, n: number, type: MemType): LayerStep {
  if (line <= 1) return { name, kernel: 'allreduce', shape: { line, axis, fn, n, type }, cycles: 0, computeCycles: 0, commCycles: 0, scratchBytes: 0, wordHops: 0 };
  return { ...memo(t, `ar|${line}|${lines}|${axis}|${fn}|${n}|${type}`, () => {
    const c = allreduceCost(t, line, { algorithm: 'ktree', axis, fn, n, type }, name);
    return {
      name, kernel: 'allreduce', shape: { algorithm: 'ktree', line, axis, fn, n, type }, cycles: c.cycles, computeCycles: 0, commCycles: c.cycles,
      scratchBytes: align4(c.scratchElements * MEM_TYPE_BYTES[type]), wordHops: lines * 2 * (line - 1) * wordsFor(type, n),
    };
  }), name };
}

/** A local reduce followed by an allreduce of its result (RMSNorm, softmax, LayerNorm statistics). */
export function reduceThenAllreduce(t: Target, name: string, rows: number, cols: number, line: number, lines: number, axis: MeshAxis, fn: AllreduceFn, type: MemType): LayerStep[] {
  return [localStep(t, `${name}.local`, [{ op: 'reduce', rows, cols, out: rows, type }]), allreduceStep(t, `${name}.allreduce`, line, lines, axis, fn, rows, type)];
}

/** MeshGEMM (ringCost 'meshgemm', data skew); sizes must already be padded to multiples of P. */
export function meshgemmStep(t: Target, name: string, s: GemmShape, copies = 1): LayerStep {
  return { ...memo(t, `mg|${JSON.stringify(s)}|${copies}`, () => {
    checkGemmShape(s, name);
    const c = ringCost('meshgemm', s, t, { skew: 'data' });
    const P = s.P, m = s.M / P, k = s.K / P, n = s.N / P;
    const compute = Math.min(c.cycles, Math.ceil(c.computeCoreCycles / (P * P)));
    const b = MEM_TYPE_BYTES[s.type];
    return {
      name, kernel: 'meshgemm', shape: { ...s, ring: 'meshgemm', skew: 'data', copies }, cycles: copies * c.cycles, computeCycles: copies * compute,
      commCycles: copies * (c.cycles - compute), scratchBytes: align4(m * k * b) + align4(k * n * b),
      wordHops: copies * P * P * P * 2 * (wordsFor(s.type, m * k) + wordsFor(s.type, k * n)),
    };
  }), name };
}

/** The transposed GEMM C = A·Bᵀ (transposedCost); sizes padded to multiples of P. */
export function transposedStep(t: Target, name: string, s: GemmShape, copies = 1): LayerStep {
  return { ...memo(t, `tr|${JSON.stringify(s)}|${copies}`, () => {
    checkGemmShape(s, name);
    const c = transposedCost(s, t);
    const P = s.P, m = s.M / P, k = s.K / P, n = s.N / P;
    const compute = Math.min(c.cycles, Math.ceil(c.computeCoreCycles / (P * P)));
    const acc = s.acc ?? s.type;
    return {
      name, kernel: 'transposed', shape: { ...s, copies }, cycles: copies * c.cycles, computeCycles: copies * compute, commCycles: copies * (c.cycles - compute),
      // What emitGemm('transposed') declares (kernels/gemm-transposed.ts): B2 (n·k), T (2·m·n acc), Tw (m·n acc).
      scratchBytes: align4(n * k * MEM_TYPE_BYTES[s.type]) + align4(2 * m * n * MEM_TYPE_BYTES[acc]) + align4(m * n * MEM_TYPE_BYTES[acc]),
      wordHops: copies * P * P * P * (2 * wordsFor(s.type, n * k) + wordsFor(acc, m * n)),
    };
  }), name };
}

/** A point-to-point (or multicast) transfer of n elements over `hops`, in `flows` parallel streams (received into an activation buffer: no scratch). */
export function transferStep(t: Target, name: string, type: MemType, n: number, hops: number, flows: number): LayerStep {
  if (n <= 0) return { name, kernel: 'transfer', shape: { type, n, hops, flows }, cycles: 0, computeCycles: 0, commCycles: 0, scratchBytes: 0, wordHops: 0 };
  const c = transferTiming(t, type, n, [hops]).cycles;
  return { name, kernel: 'transfer', shape: { type, n, hops, flows }, cycles: c, computeCycles: 0, commCycles: c, scratchBytes: 0, wordHops: flows * hops * wordsFor(type, n) };
}

/**
 * Exact timing of the KV shift on a column of P cores: every core y > 0 sends n elements to y − 1
 * (its send first), every core y < P − 1 receives them from y + 1 (then), and each waits. With
 * post = issue + comm: sends are posted at post; the top row (receive only) posts its receive at
 * post, the middle rows (send, then receive) at 2·post. A stream starts when both are posted —
 * or at post when it is eager (at most router.queueWords words: it waits in the colour buffer) —
 * arrives 2ρ + α later and completes D link cycles after max(arrival, the receive's posting).
 * Returns each row's finish (index y) and their maximum.
 */
export function kvShiftTiming(t: Target, type: MemType, n: number, P: number): { finish: number[]; cycles: number } {
  const I = t.overhead.issue, post = postOffset(t), D = streamCycles(t, type, n), arr = arrivalOffset(t, 1);
  const eager = wordsFor(type, n) <= t.router.queueWords;
  const recvPost = (y: number) => (y === 0 ? post : 2 * post);
  /** Start of the stream from row y + 1 into row y. */
  const start = (y: number) => Math.max(post, eager ? post : recvPost(y));
  const finish = Array.from({ length: P }, (_, y) => {
    if (P < 2) return 0;
    const sends = y > 0, recvs = y < P - 1;
    let end = (sends && recvs ? 2 * post : post) + I;
    if (sends) end = Math.max(end, start(y - 1) + D);
    if (recvs) end = Math.max(end, Math.max(start(y) + arr, recvPost(y)) + D);
    return end;
  });
  return { finish, cycles: Math.max(0, ...finish) };
}

/** The decode KV shift on a P×P region (kvShiftTiming): every core's n-element entry one hop north; an outgoing and an incoming entry buffer. */
export function kvShiftStep(t: Target, name: string, type: MemType, n: number, P: number): LayerStep {
  const shape = { type, n, hops: 1, flows: P * P };
  if (n <= 0 || P < 2) return { name, kernel: 'transfer', shape, cycles: 0, computeCycles: 0, commCycles: 0, scratchBytes: 0, wordHops: 0 };
  const c = kvShiftTiming(t, type, n, P).cycles;
  return { name, kernel: 'transfer', shape, cycles: c, computeCycles: 0, commCycles: c, scratchBytes: 2 * align4(n * MEM_TYPE_BYTES[type]), wordHops: P * (P - 1) * wordsFor(type, n) };
}

/** The tile shift (shiftEastCost) of n-element tiles over `distance` cores, on `lines` parallel lines of `perLine` tiles. */
export function shiftStep(t: Target, name: string, type: MemType, n: number, distance: number, lines: number, perLine: number): LayerStep {
  if (n <= 0 || distance <= 0) return { name, kernel: 'shift', shape: { P: distance, n, type }, cycles: 0, computeCycles: 0, commCycles: 0, scratchBytes: 0, wordHops: 0 };
  const c = shiftEastCost(t, { P: distance, n, type });
  return { name, kernel: 'shift', shape: { P: distance, n, type }, cycles: c, computeCycles: 0, commCycles: c, scratchBytes: 2 * align4(n * MEM_TYPE_BYTES[type]), wordHops: lines * perLine * distance * wordsFor(type, n) };
}

/** The steps with `bytes` more scratch each (a buffer live across all of them, e.g. the LM head's logits through the argmax). */
export function holding(steps: readonly LayerStep[], bytes: number): LayerStep[] {
  return steps.map((s) => ({ ...s, scratchBytes: s.scratchBytes + align4(bytes) }));
}

/** Sums of a step list. */
export function totals(steps: readonly LayerStep[]): { cycles: number; compute: number; comm: number; scratch: number; wordHops: number } {
  let cycles = 0, compute = 0, comm = 0, scratch = 0, wordHops = 0;
  for (const s of steps) {
    cycles += s.cycles; compute += s.computeCycles; comm += s.commCycles; wordHops += s.wordHops;
    scratch = Math.max(scratch, s.scratchBytes);
  }
  return { cycles, compute, comm, scratch, wordHops };
}

/** Round up to a multiple of p. */
export const padTo = (v: number, p: number): number => Math.ceil(v / p) * p;
