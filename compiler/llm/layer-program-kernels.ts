/**
 * The step emitters of a layer program (layer-program.ts): each turns one planner `LayerStep`
 * (plan-steps.ts) into the instructions of the kernel its cost came from, on the layer's P×P region,
 * and returns the kernel's exact cycles, per-core finish and route rules (relative to the region).
 *
 *   local      one instruction per LocalOp (unary, binary, reduce, `count` matmuls, a Cos / Sin call),
 *              operands in step scratch of the op's types: the cost is Σ localOpCycles.
 *   gemv       emitGemv (MeshGEMV, K-tree allreduce) on x / W / y tile buffers, W a shapes-only constant.
 *   allreduce  emitAllreduce over lines of `line` cores; a sub-line (line < P) runs in groups of `line`
 *              consecutive cores of each row (or column) in a coordinate scope (x → x mod line); cores
 *              past the last whole group skip it (the scope's guard) and wait for the step's end.
 *   transfer   the decode KV shift (hops 1, P² flows): every core but the top row sends its entry one
 *              hop north while every core but the bottom row receives one from the south.
 */
import { diag } from '../../ir/diagnostics.js';
import { and, gt, lt, X, Y, type BufferRef, type InstrRef, type RegionBuilder } from '../../ir/program-builder.js';
import { piecewiseConstant } from '../kernels/allreduce-emit.js';
import type { Expr, MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { emitAllreduce, type AllreduceFn, type MeshAxis } from '../kernels/allreduce.js';
import { emitGemv, gemvCost, gemvTiles, type GemvShape } from '../kernels/gemv.js';
import type { KernelEnv, KernelRoute } from '../kernels/kernel.js';
import type { LayerStep, LocalOp } from './plan-steps.js';
import { kvShiftTiming, localOpCycles } from './plan-steps.js';
import { inLines, repeat } from './layer-program-gemm.js';

/** What an emitted step reports back. */
export interface EmittedStep {
  cycles: number;
  finish: Expr;
  routes: KernelRoute[];
}

/** Buffers a step emitter may ask for: persistent tiles (live for the whole layer) and step scratch. */
export interface StepBuffers {
  persistent(name: string, type: MemType, length: number): BufferRef;
  scratch(name: string, type: MemType, length: number): BufferRef;
  /** Declares a shapes-only weight constant [rows, cols] tiled into `buffer` (tile [tr, tc] at (rowTile, colTile)). */
  weight(name: string, buffer: BufferRef, shape: [number, number], tile: [number, number], at: [Expr, Expr], guard: Expr | undefined): void;
  /** The scratch cursor, and: the scratch declared since `mark` is live from `from` to `to` only (its room is reused). */
  mark(): number;
  release(mark: number, from: InstrRef, to: InstrRef): void;
}

export interface StepContext {
  target: Target;
  region: RegionBuilder;
  P: number;
  bufs: StepBuffers;
  colours: readonly number[];
}

// ---- local ------------------------------------------------------------------------------------------

/** One instruction per op; operand buffers by (role, type), each as long as the step's largest use. */
export function emitLocal(ctx: StepContext, step: LayerStep): EmittedStep {
  return repeat(ctx, (step.shape.copies as number | undefined) ?? 1, () => emitLocalOnce(ctx, step));
}

function emitLocalOnce(ctx: StepContext, step: LayerStep): EmittedStep {
  const ops = (step.shape.ops ?? []) as LocalOp[];
  const need = new Map<string, { type: MemType; length: number }>();
  const use = (role: string, type: MemType, length: number) => {
    const k = `${role}.${type}`;
    const cur = need.get(k);
    need.set(k, { type, length: Math.max(cur?.length ?? 0, length, 1) });
    return k;
  };
  const plan = ops.map((o) => {
    switch (o.op) {
      case 'unary': return [use('d', o.dst, o.n), use('a', o.src, o.n)];
      case 'binary': {
        const bSize = o.bcast === 'none' ? o.rows * o.cols : o.bcast === 'row' ? o.cols : o.bcast === 'col' ? o.rows : 1;
        return [use('d', o.dst, o.rows * o.cols), use('a', o.a, o.rows * o.cols), use('b', o.b, bSize)];
      }
      case 'reduce': return [use('d', o.type, o.rows), use('a', o.type, o.rows * o.cols)];
      case 'matmul': return [use('d', o.dst, o.m * o.n), use('a', o.a, o.m * o.k), use('b', o.a, o.k * o.n)];
      case 'call': return [use('d', 'f32', o.n), use('a', 'f32', o.n)];
    }
  });
  const bufs = new Map<string, BufferRef>();
  for (const [k, v] of need) bufs.set(k, ctx.bufs.scratch(`${step.name}.${k}`, v.type, v.length));
  const r = ctx.region;
  let cycles = 0;
  ops.forEach((o, i) => {
    const [d, a, b] = plan[i].map((k) => bufs.get(k)!);
    switch (o.op) {
      case 'unary': r.unary(o.fn, d, a, o.n, { scalar: o.fn === 'scale' ? 0.125 : o.fn === 'add_scalar' ? 1e-5 : 0 }); break;
      case 'binary': r.binary('mul', d, a, b, o.rows, o.cols, { bcast: o.bcast }); break;
      case 'reduce': r.reduce('sum', d, a, o.rows, o.cols); break;
      case 'matmul': for (let c = 0; c < o.count; c++) r.matmul(d, a, b, o.m, o.k, o.n); break;
      case 'call': r.call(o.opType, [a.tensor('float32', [o.n])], [d.tensor('float32', [o.n])]); break;
    }
    cycles += localOpCycles(ctx.target, o);
  });
  return { cycles, finish: cycles, routes: [] };
}

// ---- gemv -------------------------------------------------------------------------------------------

export function emitGemvStep(ctx: StepContext, step: LayerStep): EmittedStep {
  const s = step.shape as unknown as GemvShape;
  const { kt, nt, gk, gn } = gemvTiles(s);
  const acc = s.acc ?? s.type;
  const x = ctx.bufs.persistent(`${step.name}.x`, s.type, kt);
  const W = ctx.bufs.persistent(`${step.name}.W`, s.type, kt * nt);
  const y = ctx.bufs.persistent(`${step.name}.y`, acc, nt);
  const alongY = (s.reduceAxis ?? 'y') === 'y';
  const kPos = alongY ? Y : X, nPos = alongY ? X : Y;
  ctx.bufs.weight(`${step.name}.weight`, W, [s.K, s.N], [kt, nt], [kPos, nPos], and(lt(kPos, gk), lt(nPos, gn)));
  const env = envOf(ctx, step.name, ctx.P, ctx.P);
  const e = emitGemv(env, 'ktree', s, { x, W, y }, gemvCost(ctx.target, 'ktree', s, step.name));
  return { cycles: e.cycles, finish: e.finish, routes: e.routes };
}

// ---- allreduce --------------------------------------------------------------------------------------

export function emitAllreduceStep(ctx: StepContext, step: LayerStep): EmittedStep {
  const { line, axis, fn, n, type, copies } = step.shape as { line: number; axis: MeshAxis; fn: AllreduceFn; n: number; type: MemType; copies?: number };
  const P = ctx.P;
  if (!Number.isInteger(line) || line < 2 || line > P) throw diag('W3007', `step ${step.name}: an allreduce over ${line} cores does not run on a side of ${P}`, step.name);
  const src = ctx.bufs.scratch(`${step.name}.src`, type, n), dst = ctx.bufs.scratch(`${step.name}.dst`, type, n);
  const spec = { algorithm: 'ktree' as const, axis, fn, n, type, src, dst };
  // Groups of `line` cores along the axis (line < P: a sub-line); the cores past the last whole group sit the step out.
  return repeat(ctx, copies ?? 1, () => inLines(ctx, axis, line, () => {
    const e = emitAllreduce(envOf(ctx, step.name, axis === 'x' ? line : P, axis === 'x' ? P : line), spec);
    return { cycles: e.cycles, finish: e.finish, routes: e.routes };
  }));
}

/** A step no kernel here realises with the planner's cost: a delay of its cycles, moving nothing (reported as a placeholder). */
export function emitPlaceholder(ctx: StepContext, step: LayerStep): EmittedStep {
  ctx.region.delay(step.cycles);
  return { cycles: step.cycles, finish: step.cycles, routes: [] };
}

// ---- transfer: the decode KV shift --------------------------------------------------------------------

export function emitKvShift(ctx: StepContext, step: LayerStep): EmittedStep {
  const { type, n, hops, flows } = step.shape as { type: MemType; n: number; hops: number; flows: number };
  const P = ctx.P;
  if (hops !== 1 || flows !== P * P || P < 2) {
    throw diag('W1102', `step ${step.name}: a transfer of ${hops} hops in ${flows} flows on a side of ${P} is not a KV shift; only the decode KV shift (1 hop, P² flows, P ≥ 2) is emitted`, step.name);
  }
  const c = ctx.colours[0];
  const out = ctx.bufs.scratch(`${step.name}.out`, type, n), inb = ctx.bufs.scratch(`${step.name}.in`, type, n);
  const r = ctx.region;
  const sends = gt(Y, 0), recvs = lt(Y, P - 1);
  r.send(out, n, c, { guard: sends });
  r.recv(inb, n, c, { guard: recvs });
  r.wait();
  const tm = kvShiftTiming(ctx.target, type, n, P);
  return {
    cycles: tm.cycles, finish: piecewiseConstant(Y, tm.finish),
    routes: [{ colour: c, input: 'ramp', outputs: ['north'], guard: sends }, { colour: c, input: 'south', outputs: ['ramp'], guard: recvs }],
  };
}

function envOf(ctx: StepContext, loc: string, width: number, height: number): KernelEnv {
  return { target: ctx.target, region: ctx.region, width, height, colours: { colours: ctx.colours }, loc, scratch: (name, type, length) => ctx.bufs.scratch(name, type, length) };
}
