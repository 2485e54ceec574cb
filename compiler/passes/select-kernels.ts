/**
 * select-kernels — choose a kernel and a layout for every op and value. (graph → mesh)
 *
 * This first back end has one kernel, `call`: the op runs whole on one core with the reference
 * semantics (the program's `call` instruction), every value whole on one core (singleCoreLayout).
 * Kernel choice goes through KERNEL_RULES, a list the distributed kernels (GEMM, GEMV, ...) join:
 * the first rule that accepts a node wins and `call` is the fallback. Every value gets its SRAM type:
 * float32 / float64 / bfloat16 → f32, float16 → f16 (f32 with `dtype: 'f32'`), integers and bool → i32.
 * Placement is not decided yet: every op and value sits on core (0,0) until `place` moves them.
 * Last, graph inputs too large for a single-core op are tiled with their row-separable readers
 * (kernels/tiled.ts: one `call` per tile, pinned to its core), then ops too large for one core but
 * separable along dim 0 run as pinned pieces (kernels/batch-split.ts), or are left for `place` to refuse.
 * With `layout: 'distributed'` (which compile() retries with when single cores cannot hold the
 * model), the single-core choice is turned into the distributed plan instead
 * (kernels/distribute-plan.ts): block layouts over a P×P region and a distributed kernel per op.
 *
 * Integer constants must fit the i32 buffers: Slice starts/ends beyond the int32 range (the
 * INT64_MAX "to the end" idiom) are clamped, which does not change the result; any other such
 * constant is W3006. A graph output that is not computed by an op of its own (a graph input, a
 * constant, or a value listed twice) gets an Identity `call` so each output has its own tensor.
 * Tensors with no elements never cross the host link: an empty graph input becomes an empty
 * constant, an empty graph output is left out of the program (runners produce it from its type).
 *
 *   before:  %y : f32[8,16] = Relu(%x) @relu
 *   after:   %y : f32[8,16] in f32 at (0,0 1x1) [r,r] tile [8,16] = call Relu(%x) on (0,0 1x1) @relu
 */
import { diag } from '../../ir/diagnostics.js';
import { isFloat, type DType } from '../../ir/dtype.js';
import { isStatic, type Graph, type Node, type StaticType } from '../../ir/graph.js';
import { singleCoreLayout, type KernelName, type MeshGraph, type MeshOp, type MeshValue } from '../../ir/mesh.js';
import type { MemType } from '../../ir/program.js';
import { Tensor } from '../../ir/tensor.js';
import { planDistributed } from '../kernels/distribute-plan.js';
import { batchSplit } from '../kernels/batch-split.js';
import { tileOversized } from '../kernels/tiled.js';
import type { BackendOptions, BackendPass, BackendState } from '../pipeline.js';

/** A kernel selection rule: returns the kernel (and its parameters) for a node it can run, else undefined. */
export interface KernelRule {
  name: KernelName;
  select(node: Node, graph: Graph, state: BackendState): { params: Record<string, number | string> } | undefined;
}

/** The single-core fallback: every registered op. */
const CALL_RULE: KernelRule = { name: 'call', select: () => ({ params: {} }) };

/** Distributed kernels register here, ahead of `call`. */
export const KERNEL_RULES: KernelRule[] = [];

/** SRAM element type of a graph dtype. */
export function memTypeOf(dtype: DType, options: BackendOptions = {}): MemType {
  if (dtype === 'float16') return options.dtype === 'f32' ? 'f32' : 'f16';
  return isFloat(dtype) ? 'f32' : 'i32';
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Index inputs whose out-of-range values mean "to the end" and may be clamped without changing the result. */
function clampable(node: Node, input: number): boolean {
  return node.domain === '' && node.op === 'Slice' && (input === 1 || input === 2);
}

function outOfI32(t: Tensor): boolean {
  if (isFloat(t.dtype)) return false;
  for (let i = 0; i < t.data.length; i++) if (t.data[i] < INT32_MIN || t.data[i] > INT32_MAX) return true;
  return false;
}

function clampI32(t: Tensor): Tensor {
  return Tensor.from(t.dtype, t.shape, Array.from(t.data as ArrayLike<number>, (v) => Math.min(INT32_MAX, Math.max(INT32_MIN, v))));
}

function staticType(g: Graph, v: string, where: string): StaticType {
  const t = g.types.get(v);
  if (!isStatic(t)) {
    throw diag('W2006', `value '%${v}' has no static type`, where, 'bind every symbolic dim with --dim name=N');
  }
  return { dtype: t.dtype, shape: [...t.shape] };
}

/** Maps a graph (after the graph passes) to the mesh IR with every op a single-core kernel on (0,0). */
export function selectKernels(g: Graph, state: BackendState): { mesh: MeshGraph; outputNames: Map<string, string> } {
  const mesh: MeshGraph = {
    name: g.name, opset: g.opset, target: state.target.name, inputs: [...g.inputs], outputs: [], values: new Map(), constants: new Map(), ops: [],
  };
  const addValue = (name: string, type: StaticType): MeshValue => {
    const v: MeshValue = { type, mem: memTypeOf(type.dtype, state.options), layout: singleCoreLayout(0, 0, type.shape) };
    mesh.values.set(name, v);
    return v;
  };
  for (const i of g.inputs) {
    const t = addValue(i, staticType(g, i, `input '${i}'`)).type;
    if (t.shape.includes(0)) {
      // Nothing to send from the host: an empty input is an empty constant of the program.
      mesh.inputs = mesh.inputs.filter((x) => x !== i);
      mesh.constants.set(i, Tensor.zeros(t.dtype, t.shape));
    }
  }
  // Constants, with out-of-range integer constants clamped where their readers allow it.
  const readers = new Map<string, { node: Node; input: number }[]>();
  for (const n of g.nodes) n.inputs.forEach((v, k) => { if (v) (readers.get(v) ?? readers.set(v, []).get(v)!).push({ node: n, input: k }); });
  for (const [name, t] of g.constants) {
    if (g.inputs.includes(name)) continue; // an input with a default: the caller gives it
    let tensor = t;
    if (outOfI32(t)) {
      const rs = readers.get(name) ?? [];
      const bad = rs.find((r) => !clampable(r.node, r.input));
      if (bad || g.outputs.includes(name)) {
        throw diag('W3006', `constant '%${name}' (${t.dtype}) holds values outside the int32 range that SRAM integers hold`,
          bad ? `node '${bad.node.name}'` : `output '${name}'`, 'compute with values within ±2^31, or cast to a float type');
      }
      tensor = clampI32(t);
    }
    mesh.constants.set(name, tensor);
    addValue(name, { dtype: tensor.dtype, shape: [...tensor.shape] });
  }
  const here = { x: 0, y: 0, width: 1, height: 1 };
  for (const n of g.nodes) {
    const where = `node '${n.name}'`;
    for (const o of n.outputs) if (o) addValue(o, staticType(g, o, where));
    for (const i of n.inputs) if (i && !mesh.values.has(i)) addValue(i, staticType(g, i, where));
    const rule = [...KERNEL_RULES, CALL_RULE].find((r) => r.select(n, g, state));
    const chosen = rule!.select(n, g, state)!;
    const op: MeshOp = {
      name: n.name, kernel: rule!.name, op: n.op, domain: n.domain, attrs: n.attrs, inputs: [...n.inputs], outputs: [...n.outputs],
      region: { ...here }, params: chosen.params,
    };
    mesh.ops.push(op);
  }
  // Every graph output gets a tensor of its own, computed by an op.
  const outputNames = new Map<string, string>();
  const computed = new Set(g.nodes.flatMap((n) => n.outputs.filter(Boolean)));
  const taken = new Set<string>();
  const fresh = (base: string) => {
    let k = 0;
    let name = `${base}#out`;
    while (mesh.values.has(name)) name = `${base}#out${++k}`;
    return name;
  };
  g.outputs.forEach((o) => {
    // An empty output has nothing to read back: the program leaves it out (runners make it empty).
    if (mesh.values.get(o)!.type.shape.includes(0)) return;
    if (computed.has(o) && !taken.has(o)) {
      taken.add(o);
      mesh.outputs.push(o);
      return;
    }
    const copy = fresh(o);
    const src = mesh.values.get(o)!;
    addValue(copy, { dtype: src.type.dtype, shape: [...src.type.shape] });
    let opName = `${copy}/Identity`;
    while (mesh.ops.some((x) => x.name === opName)) opName += '_';
    mesh.ops.push({ name: opName, kernel: 'call', op: 'Identity', domain: '', attrs: {}, inputs: [o], outputs: [copy], region: { ...here }, params: {} });
    mesh.outputs.push(copy);
    outputNames.set(copy, o);
  });
  return { mesh, outputNames };
}

export const selectKernelsPass: BackendPass = {
  id: 'select-kernels',
  summary: 'choose a kernel (call) and an SRAM type and layout for every op and value',
  run(state: BackendState): BackendState {
    const { mesh, outputNames } = selectKernels(state.graph, state);
    if (state.options.layout === 'distributed') {
      return { ...state, mesh: planDistributed(mesh, state.target, { gemm: state.options.gemm, allreduce: state.options.allreduce, maxSide: state.options.maxSide }), outputNames };
    }
    return { ...state, mesh: batchSplit(tileOversized(mesh, state.target), state.target), outputNames };
  },
};
