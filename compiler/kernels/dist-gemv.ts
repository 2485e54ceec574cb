/**
 * `gemv.<allreduce>`: a vector-matrix product y[1,N] = a[1,K]·W[K,N] in distributed mode, where a and
 * y are vec values (one row, columns split along mesh x, replicated down each column of cores) and W
 * a block value (K along y, N along x) — the decode step of an LLM. MeshGEMV (gemv.ts) wants a split
 * along y instead, so a first step moves it there without leaving the row: core (y, y) of the
 * diagonal holds a's tile y, copies it, and multicasts it along its row both ways; then every core
 * (x, y) multiplies a's tile y by W's tile (y, x), and the partial sums are allreduced along y (K-tree,
 * chain or ring), leaving y's tile x on every core of column x — a vec value again.
 *
 * Exact cost. Step 1: the diagonal's copy (I + unaryCycles(kt)) while the others wait as long, then
 * one multicast per row posted at P = I + C after it: the diagonal finishes at P + max(I, D), a core
 * h = |x − y| hops away at P + max(I, 2ρ + h·α + D) (docs/runtime-model.md, timing.ts); every core is
 * padded to the slowest (h = P − 1). Step 2: gemvCost, uniform start. f16: the partial sums and
 * the allreduce are f32 (fp16 FMA with fp32 accumulation) and y is rounded to f16 once, after every
 * core is padded to the allreduce's end.
 */
import { eq, ne, sub, X, Y, add, type BufferRef } from '../../ir/program-builder.js';
import { unaryCost } from '../../ir/program-cost.js';
import type { MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { AllreduceAlgorithm } from './allreduce.js';
import { emitGemv, gemvCost } from './gemv.js';
import { lineBroadcastFinish, lineBroadcastRoutes, lineBroadcastWorst } from './broadcast.js';
import type { EmittedKernel, KernelEnv } from './kernel.js';
import { scratchBuffer } from './kernel.js';
import { streamCycles } from './timing.js';

export interface DistGemvShape {
  K: number;
  N: number;
  P: number;
  type: 'f32' | 'f16';
  /** f16 operands into an f32 result (an expanded f16 Gemm rounds later): y is not rounded here. */
  out?: 'f32';
}

/** Whether y accumulates in f32 scratch and is rounded into an f16 output at the end. */
const rounds = (s: DistGemvShape) => s.type === 'f16' && s.out !== 'f32';

/** Cycles of the diagonal copy and of the row multicast step (all cores padded to the slowest). */
function broadcastCost(t: Target, s: DistGemvShape): { copy: number; step: number; D: number } {
  const kt = s.K / s.P;
  const copy = unaryCost(t, 'copy', kt, s.type, s.type);
  const D = streamCycles(t, s.type as MemType, kt);
  return { copy, D, step: copy + lineBroadcastWorst(t, s.P, D) };
}

/** The exact cycles of the kernel with an allreduce algorithm. */
export function distGemvCycles(t: Target, s: DistGemvShape, algorithm: AllreduceAlgorithm): number {
  const g = gemvCost(t, algorithm, gemvShapeOf(s));
  return (s.P > 1 ? broadcastCost(t, s).step : 0) + g.cycles + (rounds(s) ? roundCost(t, s) : 0);
}

/** f16: the partial sums and the allreduce in f32, y rounded to f16 once at the end. */
const gemvShapeOf = (s: DistGemvShape) => ({ K: s.K, N: s.N, P: s.P, type: s.type, reduceAxis: 'y' as const, ...(s.type === 'f16' ? { acc: 'f32' as const } : {}) });

/** The final f32 → f16 copy of y's tile. */
function roundCost(t: Target, s: DistGemvShape): number {
  return unaryCost(t, 'copy', s.N / s.P, 'f32', 'f16');
}

export function emitDistGemv(env: KernelEnv, s: DistGemvShape, algorithm: AllreduceAlgorithm, bufs: { a: BufferRef; W: BufferRef; y: BufferRef }): EmittedKernel {
  const t = env.target;
  const rb = env.region;
  rb.setLoc(env.loc);
  const gemvShape = gemvShapeOf(s);
  // f16: y accumulates in f32 scratch, rounded into the output once at the end.
  const y32 = rounds(s) ? scratchBuffer(env, `${env.loc}.y32`, 'f32', s.N / s.P) : bufs.y;
  const finishRound = (g: EmittedKernel, before: number): EmittedKernel => {
    if (y32 === bufs.y) return { ...g, cycles: before + g.cycles, finish: before === 0 ? g.finish : add(before, g.finish) };
    const end = before + g.cycles;
    if (!(typeof g.finish === 'number' && g.finish === g.cycles)) rb.delay(sub(g.cycles, g.finish));
    rb.copy(bufs.y, y32, s.N / s.P);
    const total = end + roundCost(t, s);
    return { ...g, scratch: [y32, ...g.scratch], cycles: total, finish: total };
  };
  if (s.P === 1) return finishRound(emitGemv(env, algorithm, gemvShape, { x: bufs.a, W: bufs.W, y: y32 }), 0);
  const kt = s.K / s.P;
  const [colour, ...rest] = env.colours.colours;
  const xs = scratchBuffer(env, `${env.loc}.x`, s.type, kt);
  const b = broadcastCost(t, s);
  rb.copy(xs, bufs.a, kt, { guard: eq(X, Y) });
  rb.delay(b.copy, { guard: ne(X, Y) });
  rb.send(bufs.a, kt, colour, { guard: eq(X, Y) });
  rb.recv(xs, kt, colour, { guard: ne(X, Y) });
  rb.wait();
  rb.delay(sub(b.step, add(b.copy, lineBroadcastFinish(t, 'x', Y, b.D))));
  const g = emitGemv({ ...env, colours: { colours: rest } }, algorithm, gemvShape, { x: xs, W: bufs.W, y: y32 });
  const done = finishRound(g, b.step);
  return { ...done, routes: [...lineBroadcastRoutes(colour, 'x'), ...g.routes], scratch: [xs, ...done.scratch] };
}
