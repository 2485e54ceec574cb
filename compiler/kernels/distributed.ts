/**
 * The distributed kernels of the block-layout back end (kernels/blocks.ts): how each op of a
 * distributed program runs on the P×P region, as generators into the region's SPMD kernel with an
 * exact cost, under the composition rule of kernel.ts (uniform start, per-core finish, nothing in
 * flight at the end).
 *
 *   dist.call      the op's reference semantics on each core's tiles (a `call` on every core): an
 *                  elementwise op over block / vec / col tiles whose broadcasting over the tiles is the
 *                  op's broadcasting over the tensors, or any op on replicated values. Cost callCost.
 *   dist.view      a layout-preserving Reshape / Squeeze / Unsqueeze / Flatten: no code, the output
 *                  shares its input's tile buffer (viewRoots; allocate-sram-distributed.ts).
 *   dist.copy      `unary copy` of the tile: a graph output's own copy (Identity), a GEMM operand
 *                  that is read again.
 *   dist.reduce    ReduceSum / ReduceMean / ReduceMax over the last axis (keepdims): local reduce,
 *                  allreduce along x (allreduce-reduce.ts), mean's scale, a col result; over all the
 *                  leading axes: the same along y, a vec result.
 *   dist.softmax   Softmax over the last axis, and dist.layernorm / dist.rmsnorm for
 *   dist.layernorm LayerNormalization / RMSNormalization over it: local instructions between
 *   dist.rmsnorm   allreduces along x (dist-rowwise.ts).
 *   gemv.<alg>     a vector times a matrix (dist-gemv.ts): diagonal multicast, MeshGEMV with the
 *                  allreduce <alg> (ktree, chain, ring).
 *   gemm.<alg>     MatMul as a distributed GEMM (gemm-program.ts): meshgemm, cannon, summa, or
 *                  transposed for A·Wᵀ (the Transpose folded in). The kernel shifts its operands in
 *                  place, so the planner hands it copies of operands that are read again.
 *
 * Cost = a dry run of the generator (`dryRun`): the same code that emits the kernel computes its
 * cycles, finish expression, routes and scratch, so what select-kernels, route, allocate-sram and
 * schedule use is what emit writes.
 */
import type { MeshGraph, MeshOp } from '../../ir/mesh.js';
import { ProgramBuilder, sub, type BufferRef } from '../../ir/program-builder.js';
import { unaryCost } from '../../ir/program-cost.js';
import { MEM_TYPE_BYTES, type Expr, type MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { ALLREDUCE_ALGORITHMS, type AllreduceAlgorithm } from './allreduce.js';
import { emitDistGather } from './dist-gather.js';
import { emitDistGemv } from './dist-gemv.js';
import type { AxisReduceFn } from './allreduce-reduce.js';
import { emitNorm, emitRowReduce, emitSoftmax, type RowwiseShape } from './dist-rowwise.js';
import { formOfLayout, tileShape } from './blocks.js';
import { callKernelCycles, emitCallKernel, type CallSpec } from './call.js';
import { emitGemm, GEMM_KERNELS, type GemmKernel } from './gemm-program.js';
import type { EmittedKernel, KernelEnv, KernelRoute } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export const DIST_KERNELS = ['dist.call', 'dist.copy', 'dist.view', 'dist.gather', 'dist.reduce', 'dist.softmax', 'dist.layernorm', 'dist.rmsnorm', ...GEMM_KERNELS.map((k) => `gemm.${k}`),
  ...ALLREDUCE_ALGORITHMS.map((a) => `gemv.${a}`)] as const;

export const isDistKernel = (k: string): boolean => (DIST_KERNELS as readonly string[]).includes(k);

/** Is the mesh a distributed program (its ops run on a P×P region), and its side. */
export function distributedSide(mesh: MeshGraph): number | undefined {
  const op = mesh.ops.find((o) => isDistKernel(o.kernel));
  return op ? op.region.width : undefined;
}

const elems = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A value's tile as a `call` sees it. */
function callTile(mesh: MeshGraph, v: string, P: number): number[] {
  const mv = mesh.values.get(v)!;
  return tileShape(mv.type.shape, formOfLayout(mv.layout, mv.type.shape), P);
}

/**
 * The storage each value uses: a `dist.view` output (a Reshape keeping the tiles) shares its input's
 * tile buffer, so values map to the root of their chain of views.
 */
export function viewRoots(mesh: MeshGraph): Map<string, string> {
  const root = new Map<string, string>();
  for (const op of mesh.ops) if (op.kernel === 'dist.view') root.set(op.outputs[0], root.get(op.inputs[0]) ?? op.inputs[0]);
  return root;
}

/** Elements of a value's tile. */
export function tileElementsOf(mesh: MeshGraph, v: string, P: number): number {
  return elems(callTile(mesh, v, P));
}

function gemmKernelOf(op: MeshOp): GemmKernel {
  return op.kernel.slice('gemm.'.length) as GemmKernel;
}

/** Generates an op's kernel into env.region; `buf` gives each value's tile buffer (tile at element 0). */
export function emitDist(op: MeshOp, mesh: MeshGraph, env: KernelEnv, buf: (v: string) => BufferRef): EmittedKernel {
  const P = env.width;
  const rb = env.region;
  rb.setLoc(env.loc);
  const t = env.target;
  const mem = (v: string) => mesh.values.get(v)!.mem;
  switch (op.kernel) {
    case 'dist.call': {
      const tensor = (v: string) => (v ? { at: buf(v), dtype: mesh.values.get(v)!.type.dtype, shape: callTile(mesh, v, P) } : null);
      const spec: CallSpec = { opType: op.op, domain: op.domain, attrs: op.attrs, inputs: op.inputs.map(tensor), outputs: op.outputs.map(tensor) };
      const cycles = callKernelCycles(spec, t);
      emitCallKernel(rb, spec, undefined, env.loc);
      return { routes: [], scratch: [], cycles, finish: cycles };
    }
    case 'dist.gather': {
      const tbl = mesh.values.get(op.inputs[0])!, ids = mesh.values.get(op.inputs[1])!;
      const [V, D] = tbl.type.shape;
      return emitDistGather(env, { V, D, n: elems(ids.type.shape), P, type: tbl.mem, dtype: tbl.type.dtype, idsDtype: ids.type.dtype },
        { table: buf(op.inputs[0]), ids: buf(op.inputs[1]), out: buf(op.outputs[0]) });
    }
    case 'dist.view':
      // Shares its input's tiles (allocate-sram gives both one buffer): nothing to do.
      return { routes: [], scratch: [], cycles: 0, finish: 0 };
    case 'dist.copy': {
      const n = tileElementsOf(mesh, op.outputs[0], P);
      rb.copy(buf(op.outputs[0]), buf(op.inputs[0]), n);
      const cycles = unaryCost(t, 'copy', n, mem(op.inputs[0]), mem(op.outputs[0]));
      return { routes: [], scratch: [], cycles, finish: cycles };
    }
    case 'dist.reduce': {
      const x = mesh.values.get(op.inputs[0])!;
      const [rows, cols] = tile2d(callTile(mesh, op.inputs[0], P));
      const shape = x.type.shape;
      const byRows = op.params.axis === 'rows';
      const count = byRows ? elems(shape.slice(0, -1)) : shape[shape.length - 1];
      return emitRowReduce(env, { type: x.mem, rows, cols, count, algorithm: algorithmOf(op) }, op.params.fn as AxisReduceFn, byRows ? 'y' : 'x',
        buf(op.inputs[0]), buf(op.outputs[0]));
    }
    case 'dist.softmax':
    case 'dist.layernorm':
    case 'dist.rmsnorm': {
      const x = mesh.values.get(op.inputs[0])!;
      const [rows, cols] = tile2d(callTile(mesh, op.inputs[0], P));
      const operand = (k: number) => (op.inputs[k] ? { buf: buf(op.inputs[k]), form: formOfLayout(mesh.values.get(op.inputs[k])!.layout, mesh.values.get(op.inputs[k])!.type.shape) } : undefined);
      const shape: RowwiseShape = { type: x.mem, rows, cols, count: x.type.shape[x.type.shape.length - 1], algorithm: algorithmOf(op) };
      if (op.kernel === 'dist.softmax') return emitSoftmax(env, shape, buf(op.inputs[0]), buf(op.outputs[0]));
      const eps = op.attrs.epsilon;
      const epsilon = eps && eps.kind === 'float' ? eps.value : 1e-5;
      return emitNorm(env, shape, op.kernel === 'dist.layernorm' ? 'layer' : 'rms', epsilon, buf(op.inputs[0]), operand(1), op.kernel === 'dist.layernorm' ? operand(2) : undefined, buf(op.outputs[0]));
    }
    default: {
      if (op.kernel.startsWith('gemv.')) {
        const [K, N] = mesh.values.get(op.inputs[1])!.type.shape;
        return emitDistGemv(env, { K, N, P, type: mesh.values.get(op.inputs[0])!.mem as 'f32' | 'f16' }, op.kernel.slice('gemv.'.length) as AllreduceAlgorithm,
          { a: buf(op.inputs[0]), W: buf(op.inputs[1]), y: buf(op.outputs[0]) });
      }
      if (!op.kernel.startsWith('gemm.')) throw new Error(`internal: no distributed kernel '${op.kernel}'`);
      const kernel = gemmKernelOf(op);
      const a = mesh.values.get(op.inputs[0])!, b = mesh.values.get(op.inputs[1])!;
      const [M, K] = [elems(a.type.shape.slice(0, -1)), a.type.shape[a.type.shape.length - 1]];
      const N = kernel === 'transposed' ? b.type.shape[0] : b.type.shape[1];
      const type = a.mem as 'f32' | 'f16';
      if (type === 'f32') return emitGemm(kernel, env, { M, K, N, P, type }, { A: buf(op.inputs[0]), B: buf(op.inputs[1]), C: buf(op.outputs[0]) });
      // f16: C accumulates in f32 scratch and is rounded to f16 once, as ONNX computes a MatMul.
      const mn = (M / P) * (N / P);
      const c32 = scratchBuffer(env, `${env.loc}.c32`, 'f32', mn);
      const g = emitGemm(kernel, env, { M, K, N, P, type, acc: 'f32' }, { A: buf(op.inputs[0]), B: buf(op.inputs[1]), C: c32 });
      if (!(typeof g.finish === 'number' && g.finish === g.cycles)) rb.delay(sub(g.cycles, g.finish));
      rb.copy(buf(op.outputs[0]), c32, mn);
      const copy = unaryCost(t, 'copy', mn, 'f32', 'f16');
      return { routes: g.routes, scratch: [c32, ...g.scratch], cycles: g.cycles + copy, finish: g.cycles + copy };
    }
  }
}

const tile2d = (shape: number[]): [number, number] => [elems(shape.slice(0, -1)), shape[shape.length - 1]];

function algorithmOf(op: MeshOp): AllreduceAlgorithm | 'auto' {
  const a = op.params.allreduce;
  return typeof a === 'string' ? (a as AllreduceAlgorithm | 'auto') : 'auto';
}

/** What a dry run of an op's kernel tells the passes. */
export interface DistDryRun {
  cycles: number;
  finish: Expr;
  routes: KernelRoute[];
  /** Scratch buffers in declaration order (elements and type). */
  scratch: { type: MemType; length: number }[];
  scratchBytes: number;
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Distinct colours a kernel's routes use. */
export function coloursUsed(routes: readonly KernelRoute[]): number[] {
  return [...new Set(routes.map((r) => r.colour))].sort((a, b) => a - b);
}

/**
 * Runs an op's generator into a throwaway region with the given colours (kernels take colours from
 * the list in order, so a run with every colour of the target tells how many the kernel needs).
 */
export function dryRun(op: MeshOp, mesh: MeshGraph, target: Target, P: number, colours: readonly number[]): DistDryRun {
  const pb = new ProgramBuilder('dry-run', target);
  const rb = pb.region('dry', { x: 0, y: 0, width: P, height: P });
  const bufs = new Map<string, BufferRef>();
  const buf = (v: string) => {
    let b = bufs.get(v);
    if (!b) {
      const mv = mesh.values.get(v)!;
      bufs.set(v, (b = rb.buffer(v, mv.mem, tileElementsOf(mesh, v, P))));
    }
    return b;
  };
  const scratch: { type: MemType; length: number }[] = [];
  const env: KernelEnv = {
    target, region: rb, width: P, height: P, colours: { colours }, loc: op.name,
    scratch: (name, type, length) => { scratch.push({ type, length }); return rb.buffer(name, type, length); },
  };
  const e = emitDist(op, mesh, env, buf);
  return { cycles: e.cycles, finish: e.finish, routes: e.routes, scratch, scratchBytes: scratch.reduce((s, b) => s + align4(b.length * MEM_TYPE_BYTES[b.type]), 0) };
}
