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
import type { Attrs } from '../../ir/graph.js';
import { gridTile, type MeshGraph, type MeshOp } from '../../ir/mesh.js';
import { ProgramBuilder, X, Y, mod, sub, substituteExpr, type BufferRef } from '../../ir/program-builder.js';
import { unaryCost } from '../../ir/program-cost.js';
import { MEM_TYPE_BYTES, type Expr, type MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { ALLREDUCE_ALGORITHMS, type AllreduceAlgorithm } from './allreduce.js';
import { emitDistGather } from './dist-gather.js';
import { emitDistGemv } from './dist-gemv.js';
import type { AxisReduceFn } from './allreduce-reduce.js';
import { emitNorm, emitRowReduce, emitSoftmax, type RowwiseShape } from './dist-rowwise.js';
import { formOfGrid } from './distribute-plan.js';
import { isElementwise } from './distribute-assign.js';
import { isReplicated, operandExtents, permutes, tileExtents } from './grids.js';
import { callKernelCycles, emitCallKernel, type CallSpec } from './call.js';
import { emitGemm, GEMM_KERNELS, type GemmKernel } from './gemm-program.js';
import type { EmittedKernel, KernelEnv, KernelRoute } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export const DIST_KERNELS = ['dist.call', 'dist.copy', 'dist.view', 'dist.slice', 'dist.split', 'dist.concat', 'dist.gather', 'dist.reduce', 'dist.softmax', 'dist.layernorm', 'dist.rmsnorm', ...GEMM_KERNELS.map((k) => `gemm.${k}`),
  ...ALLREDUCE_ALGORITHMS.map((a) => `gemv.${a}`)] as const;

export const isDistKernel = (k: string): boolean => (DIST_KERNELS as readonly string[]).includes(k);

/** Is the mesh a distributed program (its ops run on a P×P region), and its side. */
export function distributedSide(mesh: MeshGraph): number | undefined {
  const op = mesh.ops.find((o) => isDistKernel(o.kernel));
  return op ? op.region.width : undefined;
}

const elems = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A value's grid (every value of a distributed plan has one). */
function gridOf(mesh: MeshGraph, v: string) {
  const g = mesh.values.get(v)!.layout.grid;
  if (!g) throw new Error(`internal: value '%${v}' of a distributed plan has no grid`);
  return g;
}

/** A value's tile as a `call` sees it: the whole tensor when replicated, else its N-D tile box. */
function callTile(mesh: MeshGraph, v: string): number[] {
  const g = gridOf(mesh, v);
  if (isReplicated(g) && !permutes(g)) return [...mesh.values.get(v)!.type.shape];
  return tileExtents(g)!;
}

/** The tiles of an elementwise op's operands, each aligned with its output's (1 where it broadcasts). */
function elementwiseTiles(mesh: MeshGraph, op: MeshOp): (number[] | null)[] {
  const out = op.outputs[0];
  const g = gridOf(mesh, out);
  const oshape = mesh.values.get(out)!.type.shape;
  return op.inputs.map((v) => {
    if (!v) return null;
    const s = mesh.values.get(v)!.type.shape;
    return s.reduce((a, b) => a * b, 1) === 1 && isReplicated(gridOf(mesh, v)) ? [...s] : operandExtents(g, oshape, s)!;
  });
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
export function tileElementsOf(mesh: MeshGraph, v: string): number {
  // The 2-D tile: always defined (a tile need not be an N-D box of the tensor for the GEMM or a copy).
  const [r, c] = gridTile(gridOf(mesh, v));
  return r * c;
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
      const replicated = [...op.inputs, ...op.outputs].every((v) => !v || (isReplicated(gridOf(mesh, v)) && !permutes(gridOf(mesh, v))));
      const tiles = replicated || !isElementwise(op) ? op.inputs.map((v) => (v ? callTile(mesh, v) : null)) : elementwiseTiles(mesh, op);
      const tensor = (v: string, shape: number[] | null) => (v && shape ? { at: buf(v), dtype: mesh.values.get(v)!.type.dtype, shape } : null);
      const spec: CallSpec = { opType: op.op, domain: op.domain, attrs: op.attrs, inputs: op.inputs.map((v, i) => tensor(v, tiles[i])),
        outputs: op.outputs.map((v) => (v ? tensor(v, callTile(mesh, v)) : null)) };
      const cycles = callKernelCycles(spec, t);
      emitCallKernel(rb, spec, undefined, env.loc);
      return { routes: [], scratch: [], cycles, finish: cycles };
    }
    case 'dist.slice':
    case 'dist.split':
    case 'dist.concat': {
      // One part of a dim inside every tile: the tile as [outer, count, inner], split or joined on axis 1.
      const [outer, count, inner] = [op.params.outer, op.params.count, op.params.inner] as number[];
      const dtype = mesh.values.get(op.outputs[0])!.type.dtype;
      const part = { dtype, shape: [outer, 1, inner] }, whole = { dtype, shape: [outer, count, inner] };
      let spec: CallSpec;
      const scratch: BufferRef[] = [];
      if (op.kernel === 'dist.concat') {
        spec = { opType: 'Concat', domain: '', attrs: { axis: { kind: 'int', value: 1 } }, inputs: op.inputs.map((v) => ({ at: buf(v), ...part })), outputs: [{ at: buf(op.outputs[0]), ...whole }] };
      } else if (op.kernel === 'dist.split') {
        const attrs: Attrs = mesh.opset >= 18 ? { axis: { kind: 'int', value: 1 }, num_outputs: { kind: 'int', value: count } } : { axis: { kind: 'int', value: 1 } };
        spec = { opType: 'Split', domain: '', attrs, inputs: [{ at: buf(op.inputs[0]), ...whole }], outputs: op.outputs.map((v) => ({ at: buf(v), ...part })) };
      } else {
        const index = op.params.index as number;
        const rest = scratchBuffer(env, `${env.loc}.rest`, mem(op.outputs[0]), (count - 1) * outer * inner);
        scratch.push(rest);
        const outputs = Array.from({ length: count }, (_, k) => ({ at: k === index ? buf(op.outputs[0]) : rest.at((k < index ? k : k - 1) * outer * inner), ...part }));
        const attrs: Attrs = mesh.opset >= 18 ? { axis: { kind: 'int' as const, value: 1 }, num_outputs: { kind: 'int' as const, value: count } } : { axis: { kind: 'int' as const, value: 1 } };
        spec = { opType: 'Split', domain: '', attrs, inputs: [{ at: buf(op.inputs[0]), ...whole }], outputs };
      }
      const cycles = callKernelCycles(spec, t);
      emitCallKernel(rb, spec, undefined, env.loc);
      return { routes: [], scratch, cycles, finish: cycles };
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
      const n = tileElementsOf(mesh, op.outputs[0]);
      rb.copy(buf(op.outputs[0]), buf(op.inputs[0]), n);
      const cycles = unaryCost(t, 'copy', n, mem(op.inputs[0]), mem(op.outputs[0]));
      return { routes: [], scratch: [], cycles, finish: cycles };
    }
    case 'dist.reduce': {
      const x = mesh.values.get(op.inputs[0])!;
      const [rows, cols] = gridTile(gridOf(mesh, op.inputs[0]));
      const shape = x.type.shape;
      const byRows = op.params.axis === 'rows';
      const count = byRows ? elems(shape.slice(0, -1)) : shape[shape.length - 1];
      return inGroups(op, env, 'rows', (e) => emitRowReduce(e, { type: x.mem, rows, cols, count, algorithm: algorithmOf(op) }, op.params.fn as AxisReduceFn, byRows ? 'y' : 'x',
        buf(op.inputs[0]), buf(op.outputs[0])));
    }
    case 'dist.softmax':
    case 'dist.layernorm':
    case 'dist.rmsnorm': {
      const x = mesh.values.get(op.inputs[0])!;
      const [rows, cols] = gridTile(gridOf(mesh, op.inputs[0]));
      const operand = (k: number) => {
        const v = op.inputs[k];
        if (!v) return undefined;
        const f = formOfGrid(gridOf(mesh, v), mesh.values.get(v)!.type.shape, P);
        return { buf: buf(v), form: f === 'rep' ? 'rep' as const : 'vec' as const };
      };
      const shape: RowwiseShape = { type: x.mem, rows, cols, count: x.type.shape[x.type.shape.length - 1], algorithm: algorithmOf(op) };
      if (op.kernel === 'dist.softmax') return inGroups(op, env, 'rows', (e) => emitSoftmax(e, shape, buf(op.inputs[0]), buf(op.outputs[0])));
      const eps = op.attrs.epsilon;
      const epsilon = eps && eps.kind === 'float' ? eps.value : 1e-5;
      return inGroups(op, env, 'rows', (e) => emitNorm(e, shape, op.kernel === 'dist.layernorm' ? 'layer' : 'rms', epsilon, buf(op.inputs[0]), operand(1),
        op.kernel === 'dist.layernorm' ? operand(2) : undefined, buf(op.outputs[0])));
    }
    default: {
      if (op.kernel.startsWith('gemv.')) {
        const [K, N] = mesh.values.get(op.inputs[1])!.type.shape;
        const type = mesh.values.get(op.inputs[0])!.mem as 'f32' | 'f16';
        const out = type === 'f16' && mesh.values.get(op.outputs[0])!.mem === 'f32' ? { out: 'f32' as const } : {};
        return emitDistGemv(env, { K, N, P, type, ...out }, op.kernel.slice('gemv.'.length) as AllreduceAlgorithm,
          { a: buf(op.inputs[0]), W: buf(op.inputs[1]), y: buf(op.outputs[0]) });
      }
      if (!op.kernel.startsWith('gemm.')) throw new Error(`internal: no distributed kernel '${op.kernel}'`);
      return inGroups(op, env, 'squares', (e) => emitGemmOp(op, mesh, e, buf));
    }
  }
}

/**
 * A kernel on groups of Q = op.params.sub cores (absent: the whole region): on every Q-wide run of
 * each core row (a row-wise kernel per head: x → x mod Q) or on every Q×Q sub-square (a batched GEMM:
 * x → x mod Q, y → y mod Q), emitted once in a coordinate scope; its routes' guards and finish are
 * returned in the region's coordinates.
 */
function inGroups(op: MeshOp, env: KernelEnv, groups: 'rows' | 'squares', emit: (e: KernelEnv) => EmittedKernel): EmittedKernel {
  const q = typeof op.params.sub === 'number' ? op.params.sub : env.width;
  if (q === env.width) return emit(env);
  const vars: Partial<Record<'x' | 'y' | 'w' | 'h', Expr>> = groups === 'rows' ? { x: mod(X, q), w: q } : { x: mod(X, q), y: mod(Y, q), w: q, h: q };
  const e = env.region.scoped({ vars }, () => emit({ ...env, width: q, ...(groups === 'squares' ? { height: q } : {}) }));
  return {
    ...e,
    routes: e.routes.map((r) => (r.guard === undefined ? r : { ...r, guard: substituteExpr(r.guard, vars) })),
    finish: typeof e.finish === 'number' ? e.finish : substituteExpr(e.finish, vars),
  };
}

/** MatMul as a GEMM on env's P×P cores, of the (per batch element) shape the planner recorded. */
function emitGemmOp(op: MeshOp, mesh: MeshGraph, env: KernelEnv, buf: (v: string) => BufferRef): EmittedKernel {
  const P = env.width;
  const rb = env.region;
  const t = env.target;
  const kernel = gemmKernelOf(op);
  const a = mesh.values.get(op.inputs[0])!;
  const [M, K, N] = [op.params.M, op.params.K, op.params.N] as number[];
  const type = a.mem as 'f32' | 'f16';
  if (type === 'f32') return emitGemm(kernel, env, { M, K, N, P, type }, { A: buf(op.inputs[0]), B: buf(op.inputs[1]), C: buf(op.outputs[0]) });
  const mn = (M / P) * (N / P);
  // f16 operands into an f32 result (an expanded f16 Gemm): accumulate there directly.
  if (mesh.values.get(op.outputs[0])!.mem === 'f32') return emitGemm(kernel, env, { M, K, N, P, type, acc: 'f32' }, { A: buf(op.inputs[0]), B: buf(op.inputs[1]), C: buf(op.outputs[0]) });
  // f16: C accumulates in f32 scratch and is rounded to f16 once, as ONNX computes a MatMul.
  const c32 = scratchBuffer(env, `${env.loc}.c32`, 'f32', mn);
  const g = emitGemm(kernel, env, { M, K, N, P, type, acc: 'f32' }, { A: buf(op.inputs[0]), B: buf(op.inputs[1]), C: c32 });
  if (!(typeof g.finish === 'number' && g.finish === g.cycles)) rb.delay(sub(g.cycles, g.finish));
  rb.copy(buf(op.outputs[0]), c32, mn);
  const copy = unaryCost(t, 'copy', mn, 'f32', 'f16');
  return { routes: g.routes, scratch: [c32, ...g.scratch], cycles: g.cycles + copy, finish: g.cycles + copy };
}


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
      bufs.set(v, (b = rb.buffer(v, mv.mem, tileElementsOf(mesh, v))));
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
