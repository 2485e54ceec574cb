/**
 * simplify — remove ops that do nothing, then dead code. (graph → graph)
 *
 * No-ops: Identity; Dropout (always the identity: wafer compiles for inference) whose mask is unused; Cast to the dtype it already has; Reshape / Expand to the shape it already has;
 * Slice keeping the shape with positive steps (the whole tensor); Transpose by the identity
 * permutation. First, a Gather whose constant indices are 0 … n − 1 along its axis becomes a Reshape. A no-op's output is replaced by its input; when the output is
 * a graph output its name is kept by renaming the input's producer instead. Afterwards nodes and
 * constants that nothing reads are removed. Requires static types (run after infer-shapes).
 *
 *   before:  %a = Relu(%x)   %b = Identity(%a)   %c = Cast(%b) {to = 1 : i}   output %c
 *   after:   %c = Relu(%x)                                                     output %c
 */
import { cloneGraph, isStatic, type Graph, type Node, type TensorType } from '../../ir/graph.js';
import { Tensor } from '../../ir/tensor.js';
import type { GraphPass } from '../pass-manager.js';

const sameShape = (a: TensorType | undefined, b: TensorType | undefined): boolean =>
  !!a && !!b && a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** True when node output 0 always equals input 0. */
function isNoOp(g: Graph, n: Node, used: Set<string>): boolean {
  if (n.domain !== '') return false;
  const tin = g.types.get(n.inputs[0]);
  const tout = g.types.get(n.outputs[0]);
  switch (n.op) {
    case 'Identity':
      return true;
    case 'Dropout':
      return !(n.outputs.length > 1 && n.outputs[1] && used.has(n.outputs[1]));
    case 'Cast':
    case 'Reshape':
    case 'Expand':
      return sameShape(tin, tout);
    case 'Slice': {
      // The same shape with positive steps can only be the whole tensor in order.
      if (!sameShape(tin, tout)) return false;
      const steps = n.inputs[4] ? g.constants.get(n.inputs[4]) : undefined;
      if (n.inputs[4] && !steps) return false;
      return !steps || Array.from(steps.data as ArrayLike<number>).every((v) => Number(v) > 0);
    }
    case 'Transpose': {
      const perm = n.attrs.perm;
      if (!sameShape(tin, tout) || !tin) return false;
      if (perm?.kind !== 'ints') return tin.shape.length <= 1;
      return perm.value.every((p, i) => p === i);
    }
    default:
      return false;
  }
}

function usedValues(g: Graph): Set<string> {
  const used = new Set<string>(g.outputs);
  for (const n of g.nodes) for (const v of n.inputs) if (v) used.add(v);
  return used;
}

function renameValue(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((v) => (v === from ? to : v));
    n.outputs = n.outputs.map((v) => (v === from ? to : v));
  }
  g.outputs = g.outputs.map((v) => (v === from ? to : v));
}

/**
 * A Gather along an axis whose constant indices are 0, 1, …, n − 1 (any index shape, n the axis's
 * size) only inserts the index shape: it becomes a Reshape to its output shape.
 */
function gatherAsReshape(g: Graph, n: Node, fresh: (base: string) => string): Node | undefined {
  if (n.op !== 'Gather' || n.domain !== '') return undefined;
  const data = g.types.get(n.inputs[0]);
  const out = g.types.get(n.outputs[0]);
  const idx = g.constants.get(n.inputs[1]);
  if (!data || !out || !idx || !isStatic(data) || !isStatic(out)) return undefined;
  const a = n.attrs.axis;
  const rank = data.shape.length;
  const axis = a && a.kind === 'int' ? (a.value < 0 ? a.value + rank : a.value) : 0;
  const size = data.shape[axis];
  const values = idx.data as ArrayLike<number>;
  if (values.length !== size) return undefined;
  for (let i = 0; i < size; i++) if (Number(values[i]) !== i) return undefined;
  const shape = fresh(`${n.name}/shape`);
  g.constants.set(shape, Tensor.from('int64', [out.shape.length], out.shape));
  g.types.set(shape, { dtype: 'int64', shape: [out.shape.length] });
  return { name: n.name, op: 'Reshape', domain: '', inputs: [n.inputs[0], shape], outputs: [...n.outputs], attrs: {} };
}

export function simplify(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const taken = new Set<string>([...g.types.keys(), ...g.constants.keys()]);
  const fresh = (base: string) => {
    let v = base;
    for (let k = 1; taken.has(v); k++) v = `${base}${k}`;
    taken.add(v);
    return v;
  };
  g.nodes = g.nodes.map((n) => gatherAsReshape(g, n, fresh) ?? n);
  const outputs = new Set(g.outputs);
  const boundary = new Set<string>([...g.inputs, ...g.constants.keys()]);
  const kept: Node[] = [];
  const used = usedValues(g);
  for (const n of g.nodes) {
    if (!isNoOp(g, n, used)) {
      kept.push(n);
      continue;
    }
    const src = n.inputs[0];
    const dst = n.outputs[0];
    if (!outputs.has(dst)) {
      // readers of dst read src instead
      for (const m of g.nodes) m.inputs = m.inputs.map((v) => (v === dst ? src : v));
      g.types.delete(dst);
    } else if (!boundary.has(src) && !outputs.has(src)) {
      // keep the graph output's name: the producer of src now defines dst
      renameValue(g, src, dst);
      g.types.delete(src);
    } else {
      kept.push(n); // output aliases an input or constant: the copy is needed
      continue;
    }
    for (const o of n.outputs.slice(1)) if (o) g.types.delete(o); // unused extra outputs (Dropout's mask)
  }
  g.nodes = kept;
  return eliminateDeadCode(g);
}

/** Removes nodes none of whose outputs are read, and unread constants. Mutates and returns g. */
export function eliminateDeadCode(g: Graph): Graph {
  const live = new Set<string>(g.outputs);
  const kept: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n.outputs.some((o) => o && live.has(o))) {
      kept.push(n);
      for (const v of n.inputs) if (v) live.add(v);
    } else {
      for (const o of n.outputs) g.types.delete(o);
    }
  }
  g.nodes = kept.reverse();
  for (const name of [...g.constants.keys()]) {
    if (!live.has(name) && !g.inputs.includes(name)) {
      g.constants.delete(name);
      g.types.delete(name);
    }
  }
  return g;
}

export const simplifyPass: GraphPass = {
  id: 'simplify',
  summary: 'remove Identity, inference Dropout, no-op Cast/Reshape/Expand/Slice/Transpose, arange Gathers and dead code',
  run: (g) => simplify(g),
};
