/**
 * Row-wise distributed kernels: Softmax, LayerNormalization and RMSNormalization over the last axis
 * of a block value, whose columns are split along mesh x. Each is a sequence of local instructions
 * on the core's tile [rows, cols] and reductions along x (allreduce-reduce.ts: local reduce,
 * allreduce, mean's scale), with every core padded to the slowest after each reduction, so each part
 * starts uniformly and the kernel's cycles are the sum of its parts (its finish is uniform):
 *
 *   softmax   m = max_x(x); y = exp(x − m); s = Σ_x y; y = y / s
 *   layer     μ = mean_x(x); d = x − μ; v = mean_x(d²); y = d · rsqrt(v + ε) · scale + bias
 *   rms       q = mean_x(x²); y = x · rsqrt(q + ε) · scale
 *
 * (per-row statistics broadcast with `binary … bcast col`, the scale and bias — vec tiles [cols] —
 * with `bcast row`, one-element ones with `bcast scalar`). The arithmetic is in f32: Softmax and the
 * reductions (emitRowReduce) convert an f16 tile into f32 scratch and round the result once, as
 * ONNX computes them; the planner hands the normalizations f32 tiles only.
 */
import type { BufferRef, RegionBuilder } from '../../ir/program-builder.js';
import { sub } from '../../ir/program-builder.js';
import { binaryCost, unaryCost } from '../../ir/program-cost.js';
import type { Broadcast, Expr, MemType, UnaryFn } from '../../ir/program.js';
import type { AllreduceAlgorithm } from './allreduce.js';
import { reduceAlongAxis, type AxisReduceFn } from './allreduce-reduce.js';
import type { BlockForm } from './blocks.js';
import type { EmittedKernel, KernelEnv, KernelRoute } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export interface RowwiseShape {
  type: MemType;
  /** The core's tile. */
  rows: number;
  cols: number;
  /** Length of the whole last axis (what means divide by). */
  count: number;
  algorithm: AllreduceAlgorithm | 'auto';
}

/** A scale or bias operand: its tile buffer and form (vec: one row of cols; rep: one element). */
export interface RowOperand {
  buf: BufferRef;
  form: BlockForm;
}

/** Collects the instructions of a row-wise kernel with their exact cycles. */
class Rowwise {
  cycles = 0;
  readonly routes: KernelRoute[] = [];
  readonly scratch: BufferRef[] = [];
  constructor(private readonly env: KernelEnv, private readonly s: RowwiseShape) {}
  private get rb(): RegionBuilder {
    return this.env.region;
  }
  buffer(name: string, length: number): BufferRef {
    const b = scratchBuffer(this.env, `${this.env.loc}.${name}`, this.s.type, length);
    this.scratch.push(b);
    return b;
  }
  /** Reduction of a tile along x (one value per row) or y (per column), then every core padded to the slowest. */
  reduce(fn: AxisReduceFn, src: BufferRef, dst: BufferRef, axis: 'x' | 'y' = 'x'): void {
    const { type, rows, cols, count, algorithm } = this.s;
    const e = reduceAlongAxis(this.env, { fn, axis, algorithm, type, rows, cols, tileAxis: axis === 'x' ? 'cols' : 'rows', count, broadcast: true, src, dst });
    this.routes.push(...e.routes);
    this.scratch.push(...e.scratch);
    if (!(typeof e.finish === 'number' && e.finish === e.cycles)) this.rb.delay(sub(e.cycles, e.finish) as Expr);
    this.cycles += e.cycles;
  }
  /** A type-converting copy (f16 → f32 exact, f32 → f16 rounded). */
  copy(dst: BufferRef, src: BufferRef, n: number, from: MemType, to: MemType): void {
    this.rb.unary('copy', dst, src, n);
    this.cycles += unaryCost(this.env.target, 'copy', n, from, to);
  }
  unary(fn: UnaryFn, dst: BufferRef, src: BufferRef, n: number, scalar = 0): void {
    this.rb.unary(fn, dst, src, n, { scalar });
    this.cycles += unaryCost(this.env.target, fn, n, this.s.type, this.s.type);
  }
  binary(fn: 'add' | 'sub' | 'mul' | 'div', dst: BufferRef, a: BufferRef, b: BufferRef, bcast: Broadcast): void {
    const { rows, cols, type } = this.s;
    this.rb.binary(fn, dst, a, b, rows, cols, { bcast });
    this.cycles += binaryCost(this.env.target, rows, cols, bcast, type, type, type);
  }
  done(): EmittedKernel {
    return { routes: this.routes, scratch: this.scratch, cycles: this.cycles, finish: this.cycles };
  }
}

export function emitSoftmax(env: KernelEnv, s: RowwiseShape, src: BufferRef, dst: BufferRef): EmittedKernel {
  env.region.setLoc(env.loc);
  // f16 tiles are computed in f32 (converted in, rounded once on the way out), as ONNX computes them.
  const k = new Rowwise(env, s.type === 'f16' ? { ...s, type: 'f32' } : s);
  const n = s.rows * s.cols;
  const work = s.type === 'f16' ? k.buffer('x32', n) : dst;
  if (work !== dst) k.copy(work, src, n, 'f16', 'f32');
  const stat = k.buffer('stat', s.rows);
  const from = work === dst ? src : work;
  k.reduce('max', from, stat);
  k.binary('sub', work, from, stat, 'col');
  k.unary('exp', work, work, n);
  k.reduce('sum', work, stat);
  k.binary('div', work, work, stat, 'col');
  if (work !== dst) k.copy(dst, work, n, 'f32', 'f16');
  return k.done();
}

/** A reduction along x of a tile into one value per row (f16 tiles: in f32, rounded once). */
export function emitRowReduce(env: KernelEnv, s: RowwiseShape, fn: AxisReduceFn, axis: 'x' | 'y', src: BufferRef, dst: BufferRef): EmittedKernel {
  env.region.setLoc(env.loc);
  const k = new Rowwise(env, s.type === 'f16' ? { ...s, type: 'f32' } : s);
  const n = s.rows * s.cols;
  const out = axis === 'x' ? s.rows : s.cols;
  if (s.type !== 'f16') {
    k.reduce(fn, src, dst, axis);
    return k.done();
  }
  const x32 = k.buffer('x32', n), r32 = k.buffer('r32', out);
  k.copy(x32, src, n, 'f16', 'f32');
  k.reduce(fn, x32, r32, axis);
  k.copy(dst, r32, out, 'f32', 'f16');
  return k.done();
}

const bcastOf = (o: RowOperand): Broadcast => (o.form === 'rep' ? 'scalar' : 'row');

export function emitNorm(env: KernelEnv, s: RowwiseShape, kind: 'layer' | 'rms', epsilon: number, src: BufferRef,
  scale: RowOperand | undefined, bias: RowOperand | undefined, dst: BufferRef): EmittedKernel {
  env.region.setLoc(env.loc);
  const k = new Rowwise(env, s);
  const n = s.rows * s.cols;
  const stat = k.buffer('stat', s.rows);
  const sq = k.buffer('sq', n);
  let centred = src;
  if (kind === 'layer') {
    k.reduce('mean', src, stat);
    k.binary('sub', dst, src, stat, 'col');
    centred = dst;
  }
  k.unary('square', sq, centred, n);
  k.reduce('mean', sq, stat);
  k.unary('add_scalar', stat, stat, s.rows, epsilon);
  k.unary('rsqrt', stat, stat, s.rows);
  k.binary('mul', dst, centred, stat, 'col');
  if (scale) k.binary('mul', dst, dst, scale.buf, bcastOf(scale));
  if (bias) k.binary('add', dst, dst, bias.buf, bcastOf(bias));
  return k.done();
}
