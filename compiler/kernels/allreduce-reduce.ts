/**
 * Reductions along a mesh axis for the compiler's Softmax (max, sum), RMSNorm / LayerNorm (sum of
 * squares, mean) and ReduceSum / ReduceMax / ReduceMean, on the allreduce machinery: each core first
 * reduces its own tile over the tile dimension that is split across the mesh axis (a `reduce`
 * instruction: one value per row, or per column), then the line allreduces those values, then
 * (mean) scales them by 1/count. The result lands on every core of the line (or only the root's,
 * with `broadcast: false`), so the normalization that follows is local.
 *
 * Exact cost: the local reduce (every core alike), the allreduce's exact cost from that cycle on
 * (it ends with no transfer in flight), and for the mean a `scale` (docs/kernels-gemv.md,
 * "Reductions").
 */
import { diag } from '../../ir/diagnostics.js';
import { eq, type BufferRef, type BufferSlice } from '../../ir/program-builder.js';
import { lanesFor, reduceCycles, unaryCycles } from '../../ir/program-cost.js';
import type { MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { ALLREDUCE_ALGORITHMS, allreduceCost, emitAllreduce, type AllreduceAlgorithm, type AllreduceCost, type KTreeOptions, type MeshAxis } from './allreduce.js';
import { axisPorts, piecewiseLinear } from './allreduce-emit.js';
import type { EmittedKernel, KernelEnv } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export type AxisReduceFn = 'sum' | 'max' | 'mean';

/** The shape of a reduction along a mesh axis (what its cost depends on). */
export interface AxisReduceShape {
  fn: AxisReduceFn;
  /** Mesh axis the reduced tensor dimension is split along ('x': rows of the region reduce). */
  axis: MeshAxis;
  /** 'auto' (default): the algorithm with the fewest cycles for this line. */
  algorithm?: AllreduceAlgorithm | 'auto';
  type: MemType;
  /** The core's tile: rows × cols, row-major. */
  rows: number;
  cols: number;
  /** The tile dimension reduced locally: 'cols' leaves one value per row, 'rows' one per column. */
  tileAxis: 'rows' | 'cols';
  /** mean: how many values the result averages (the reduced dimension's full length). */
  count?: number;
  broadcast?: boolean;
  ktree?: KTreeOptions;
}

export interface AxisReduceCost {
  algorithm: AllreduceAlgorithm;
  cycles: number;
  /** Finish offset of each position along the line. */
  finish: number[];
  /** Cycles of the local reduce, issue included. */
  localCycles: number;
  allreduce: AllreduceCost;
}

function resultLength(s: AxisReduceShape): number {
  return s.tileAxis === 'cols' ? s.rows : s.cols;
}

function check(s: AxisReduceShape, where: string): void {
  const bad = (m: string) => { throw diag('W3007', `reduction ${where}: ${m}`, where); };
  if (!['sum', 'max', 'mean'].includes(s.fn)) bad(`fn '${String(s.fn)}' is not sum, max or mean`);
  for (const [n, v] of [['rows', s.rows], ['cols', s.cols]] as const) if (!Number.isInteger(v) || v < 1 || v > 1 << 24) bad(`${n} = ${v} is not an integer from 1 to ${1 << 24}`);
  if (s.tileAxis !== 'rows' && s.tileAxis !== 'cols') bad(`tileAxis '${String(s.tileAxis)}' is not rows or cols`);
  if (s.fn === 'mean' && !(Number.isInteger(s.count) && s.count! >= 1)) bad(`a mean needs count, the number of values averaged (got ${String(s.count)})`);
  if (s.algorithm !== undefined && s.algorithm !== 'auto' && !(ALLREDUCE_ALGORITHMS as readonly string[]).includes(s.algorithm)) bad(`unknown algorithm '${String(s.algorithm)}'`);
}

/** Exact cost of a reduction along a mesh axis on a line of `length` cores. */
export function axisReduceCost(target: Target, length: number, s: AxisReduceShape, where = 'reduce'): AxisReduceCost {
  check(s, where);
  const n = resultLength(s);
  const lanes = lanesFor(target, [s.type], s.type);
  const { readWordsPerCycle: R, writeWordsPerCycle: W } = target.sram;
  const local = target.overhead.issue + reduceCycles(s.rows, s.cols, n, lanes, R, W);
  const algorithms = !s.algorithm || s.algorithm === 'auto' ? ALLREDUCE_ALGORITHMS : [s.algorithm];
  let best: { a: AllreduceAlgorithm; c: AllreduceCost } | undefined;
  for (const a of algorithms) {
    const c = allreduceCost(target, length, { algorithm: a, axis: s.axis, fn: s.fn === 'max' ? 'max' : 'sum', n, type: s.type, broadcast: s.broadcast, ktree: s.ktree }, where);
    if (!best || c.cycles < best.c.cycles) best = { a, c };
  }
  const { a, c } = best!;
  const scale = target.overhead.issue + unaryCycles(n, 1, lanes, R, W);
  const broadcast = s.broadcast ?? true;
  // The allreduce ends with no transfer in flight (finish = next issue), so the mean's scale follows.
  const finish = c.finish.map((f, p) => local + f + (s.fn === 'mean' && (broadcast || p === c.root) ? scale : 0));
  return { algorithm: a, cycles: Math.max(...finish), finish, localCycles: local, allreduce: c };
}

export interface AxisReduceSpec extends AxisReduceShape {
  /** The core's tile (rows × cols of `type`); read only. */
  src: BufferRef | BufferSlice;
  /** The result: rows (tileAxis 'cols') or cols ('rows') elements; must not overlap src. */
  dst: BufferRef | BufferSlice;
}

export interface EmittedAxisReduce extends EmittedKernel {
  cost: AxisReduceCost;
}

/** Emits a reduction along a mesh axis into env.region. */
export function reduceAlongAxis(env: KernelEnv, s: AxisReduceSpec): EmittedAxisReduce {
  const where = env.loc || 'reduce';
  const length = s.axis === 'x' ? env.width : env.height;
  const cost = axisReduceCost(env.target, length, s, where);
  const n = resultLength(s);
  const rb = env.region;
  rb.setLoc(env.loc);
  const part = scratchBuffer(env, `${env.loc}.partial`, s.type, n);
  rb.reduce(s.fn === 'max' ? 'max' : 'sum', part, s.src, s.rows, s.cols, { axis: s.tileAxis });
  const ar = emitAllreduce(env, {
    algorithm: cost.algorithm, axis: s.axis, fn: s.fn === 'max' ? 'max' : 'sum', n, type: s.type, broadcast: s.broadcast, ktree: s.ktree, src: part, dst: s.dst,
  }, cost.allreduce);
  const pos = axisPorts(s.axis).pos;
  if (s.fn === 'mean') {
    const guard = (s.broadcast ?? true) ? undefined : { guard: eq(pos, cost.allreduce.root) };
    rb.unary('scale', s.dst, s.dst, n, { scalar: 1 / s.count!, ...guard });
  }
  return { routes: ar.routes, scratch: [part, ...ar.scratch], cycles: cost.cycles, finish: piecewiseLinear(pos, cost.finish), cost };
}
