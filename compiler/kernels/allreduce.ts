/**
 * Allreduce along one mesh axis of a region: every core of a line (a row for axis 'x', a column for
 * axis 'y') holds n elements; after the kernel every core of the line holds their sum (or max) — or,
 * with `broadcast: false`, only the line's root does. Three algorithms (docs/kernels-gemv.md):
 *
 * - `chain`: one pipeline toward the root at the line's + end, each core adding its partial into the
 *   stream as it passes (a chain of `forward`s, β per core), then a multicast back;
 * - `ktree`: WaferLLM's K-tree — K levels of grouped chains (default K = 2 with ⌈√L⌉ groups); group
 *   roots reduce to the global root over colours that pass straight through the other routers; the
 *   root multicasts the result;
 * - `ring`: reduce-scatter + allgather over the ring p → p + 1, the wrap L − 1 → 0 crossing the line
 *   on the − links.
 *
 * Each algorithm is a generator (emitAllreduce, writing into a RegionBuilder per kernel.ts) and an
 * exact cost function (allreduceCost) computed from docs/runtime-model.md: the cycles and every core's
 * finish equal what the emulator measures. `reduceAlongAxis` (allreduce-reduce.ts) builds the
 * Softmax / RMSNorm / LayerNorm / mean reductions on this machinery.
 *
 * Contract details: the kernel ends with no transfer in flight, so each core's finish is also the
 * cycle its next instruction issues; `src` is scratch (on return it holds an unspecified partial);
 * `dst` receives the result and must not overlap `src`; both hold n elements of `type` ('f32' or 'f16'; f16 streams pack
 * two elements per word, and every combine rounds to f16, as the emulator's SRAM does).
 */
import { diag } from '../../ir/diagnostics.js';
import { BufferRef, BufferSlice } from '../../ir/program-builder.js';
import type { MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { axisPorts, emitRing, emitTree, needsCombineScratch, piecewiseLinear, treeColourCount, type MeshAxis } from './allreduce-emit.js';
import { chainPlan, defaultGroups, ktreePlan, type TreePlan } from './allreduce-plan.js';
import { binaryCycles } from '../../ir/program-cost.js';
import { copyCost, fillCost, lineFigures, message, ringTiming, ScheduleInvariantError, treeTiming, type LineTiming } from './allreduce-timing.js';
import type { EmittedKernel, KernelEnv } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export type { MeshAxis };

export const ALLREDUCE_ALGORITHMS = ['ktree', 'chain', 'ring'] as const;
export type AllreduceAlgorithm = (typeof ALLREDUCE_ALGORITHMS)[number];
export type AllreduceFn = 'sum' | 'max';

export interface KTreeOptions {
  /** Levels K (default 2). */
  k?: number;
  /** Groups of the first level (default ⌈L^((K−1)/K)⌉: ⌈√L⌉ for K = 2). */
  groups?: number;
}

/** What an allreduce reduces; the line length comes from the region (width for 'x', height for 'y'). */
export interface AllreduceShape {
  algorithm: AllreduceAlgorithm;
  /** Mesh axis the lines run along: 'x' reduces over each row of the region, 'y' over each column. */
  axis: MeshAxis;
  fn: AllreduceFn;
  /** Elements per core. */
  n: number;
  type: MemType;
  /** Result on every core (default true), or only on the root (chain and K-tree; the ring always gathers). */
  broadcast?: boolean;
  ktree?: KTreeOptions;
}

/** Exact timing of an allreduce (offsets from the kernel's T0). */
export interface AllreduceCost {
  cycles: number;
  /** Finish offset of each position along the line (every line of the region alike). */
  finish: number[];
  /** Where each position's last instruction ends (finish also waits for transfers). */
  issueEnd: number[];
  /** Position of the root: where the result is when `broadcast` is false. */
  root: number;
  /** Colours the kernel uses. */
  colours: number;
  /** Elements of scratch the kernel declares (the ring's work buffer, or the + side buffer of two-sided roots). */
  scratchElements: number;
}

const MAX_N = 1 << 24;
const MAX_K = 16;

function bad(where: string, what: string, hint?: string): never {
  throw diag('W3007', `allreduce ${where}: ${what}`, where, hint);
}

/** Checks an allreduce shape for a line of `length` cores (W3007 on the first problem). */
export function checkAllreduceShape(s: AllreduceShape, length: number, where: string): void {
  if (!(ALLREDUCE_ALGORITHMS as readonly string[]).includes(s.algorithm)) bad(where, `unknown algorithm '${String(s.algorithm)}'`, `use one of ${ALLREDUCE_ALGORITHMS.join(', ')}`);
  if (s.axis !== 'x' && s.axis !== 'y') bad(where, `axis '${String(s.axis)}' is not x or y`);
  if (s.fn !== 'sum' && s.fn !== 'max') bad(where, `fn '${String(s.fn)}' is not sum or max`);
  if (s.type !== 'f32' && s.type !== 'f16') bad(where, `type '${String(s.type)}' is not f32 or f16`);
  if (!Number.isInteger(s.n) || s.n < 1 || s.n > MAX_N) bad(where, `n = ${s.n} is not an integer from 1 to ${MAX_N}`);
  if (!Number.isInteger(length) || length < 1) bad(where, `line length ${length} is not a positive integer`);
  if (s.algorithm === 'ktree' && s.ktree) {
    const { k, groups } = s.ktree;
    if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > MAX_K)) bad(where, `K-tree k = ${k} is not an integer from 1 to ${MAX_K}`);
    if (groups !== undefined && (!Number.isInteger(groups) || groups < 1 || groups > length)) {
      bad(where, `K-tree groups = ${groups} is not an integer from 1 to the line length ${length}`);
    }
    if ((k ?? 2) === 1 && groups !== undefined && groups !== 1) bad(where, `a K-tree with k = 1 has one group, not ${groups}`, 'give k ≥ 2 for several groups');
  }
}

/** The tree plan of a chain or K-tree allreduce over a line (undefined for the ring). */
export function allreducePlan(length: number, s: AllreduceShape): TreePlan | undefined {
  if (s.algorithm === 'chain') return chainPlan(length);
  if (s.algorithm === 'ring') return undefined;
  const k = s.ktree?.k ?? 2;
  return ktreePlan(length, k, s.ktree?.groups ?? defaultGroups(length, k));
}

/** Chunk (elements) each ring step moves: ⌈n / L⌉. */
export function ringChunk(length: number, n: number): number {
  return Math.ceil(n / length);
}

/** Colours an allreduce needs on a line of `length` cores. */
export function allreduceColours(length: number, s: AllreduceShape): number {
  const plan = allreducePlan(length, s);
  if (!plan) return length > 1 ? 1 : 0;
  return treeColourCount(plan, s.broadcast ?? true);
}

/** The exact cost of an allreduce on a line of `length` cores (docs/kernels-gemv.md). */
export function allreduceCost(target: Target, length: number, s: AllreduceShape, where = 'allreduce'): AllreduceCost {
  checkAllreduceShape(s, length, where);
  const f = lineFigures(target, s.type);
  const broadcast = s.broadcast ?? true;
  const plan = allreducePlan(length, s);
  let t: LineTiming;
  let scratchElements = 0;
  if (plan) {
    const rootCombine = f.issue + binaryCycles(1, s.n, s.n, false, f.lanes, f.R, f.W);
    try {
      t = treeTiming(f, plan, { msg: message(f, s.type, s.n), broadcast, rootCopy: copyCost(f, s.n), rootCombine });
    } catch (e) {
      if (!(e instanceof ScheduleInvariantError)) throw e;
      bad(where, `the ${s.algorithm} plan (k = ${s.ktree?.k ?? 2}, ${plan.levels[0]?.length ?? 1} level-1 groups) over ${length} cores has no exact schedule: ${e.message}`,
        'use k ≤ 2 (always exact), or another group count');
    }
    if (needsCombineScratch(plan)) scratchElements = s.n;
  } else {
    const c = ringChunk(length, s.n);
    scratchElements = length * c;
    const pad = length * c - s.n;
    t = ringTiming(f, length, {
      msg: message(f, s.type, c),
      setup: copyCost(f, s.n) + (pad > 0 ? fillCost(f, pad) : 0),
      teardown: copyCost(f, s.n),
    });
  }
  return {
    cycles: t.cycles, finish: t.finish, issueEnd: t.issueEnd, root: plan ? plan.root : 0,
    colours: allreduceColours(length, s), scratchElements,
  };
}

/** A place in a buffer: the buffer and a constant element offset. */
function placeOf(o: BufferRef | BufferSlice, what: string, where: string): { buf: BufferRef; offset: number } {
  if (o instanceof BufferRef) return { buf: o, offset: 0 };
  if (o instanceof BufferSlice && typeof o.offset === 'number') return { buf: o.buffer, offset: o.offset };
  return bad(where, `${what} must be a buffer or a slice at a constant offset`);
}

export interface AllreduceSpec extends AllreduceShape {
  /** The partial on every core (clobbered). */
  src: BufferRef | BufferSlice;
  /** Where the result goes (must not overlap src). */
  dst: BufferRef | BufferSlice;
}

export interface EmittedAllreduce extends EmittedKernel {
  cost: AllreduceCost;
}

/**
 * Emits an allreduce into env.region (the region's cores all start it at the same cycle). `known`:
 * its cost if the caller has computed it already (allreduceCost of the same shape and line).
 */
export function emitAllreduce(env: KernelEnv, s: AllreduceSpec, known?: AllreduceCost): EmittedAllreduce {
  const where = env.loc || 'allreduce';
  const length = s.axis === 'x' ? env.width : env.height;
  const cost = known ?? allreduceCost(env.target, length, s, where);
  const src = placeOf(s.src, 'src', where), dst = placeOf(s.dst, 'dst', where);
  for (const [name, p] of [['src', src], ['dst', dst]] as const) {
    if (p.buf.type !== s.type) bad(where, `${name} buffer ${p.buf.name} holds ${p.buf.type}, the reduction is ${s.type}`);
    if (p.offset < 0 || p.offset + s.n > p.buf.length) bad(where, `${name} range [${p.offset}, ${p.offset + s.n}) leaves buffer ${p.buf.name} (${p.buf.length} elements)`);
  }
  if (src.buf === dst.buf && src.offset < dst.offset + s.n && dst.offset < src.offset + s.n) {
    bad(where, `dst overlaps src in buffer ${src.buf.name}`, 'give the result its own buffer (src is the scratch the reduction combines into)');
  }
  const have = env.colours.colours;
  if (have.length < cost.colours) bad(where, `${s.algorithm} needs ${cost.colours} colours, ${have.length} were given`, 'hand the kernel more colours');
  if (new Set(have.slice(0, cost.colours)).size !== cost.colours) bad(where, `the colours given are not distinct: ${have.join(', ')}`);
  const rb = env.region;
  rb.setLoc(env.loc);
  const ports = axisPorts(s.axis);
  const combine = s.fn === 'sum' ? 'add' : 'max';
  const operands = { src: s.src, dst: s.dst, n: s.n, combine, copyAtRoot: true } as const;
  const scratch: BufferRef[] = [];
  let routes;
  const plan = allreducePlan(length, s);
  if (plan) {
    let tmp: BufferRef | undefined;
    if (cost.scratchElements > 0) scratch.push((tmp = scratchBuffer(env, `${env.loc}.side`, s.type, cost.scratchElements)));
    routes = emitTree(rb, plan, ports, { ...operands, tmp }, have, s.broadcast ?? true);
  } else {
    const work = scratchBuffer(env, `${env.loc}.ring`, s.type, cost.scratchElements);
    scratch.push(work);
    routes = emitRing(rb, length, ports, { ...operands, work, chunk: ringChunk(length, s.n), identity: s.fn === 'sum' ? 0 : -Infinity }, have[0]);
  }
  return { routes, scratch, cycles: cost.cycles, finish: piecewiseLinear(ports.pos, cost.finish), cost };
}
