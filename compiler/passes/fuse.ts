/**
 * fuse — elementwise chains into one op. (graph → graph, the first back-end pass)
 *
 * A fusable node (an attribute-free elementwise op of the default domain, or a Cast: FUSABLE in
 * ir/ops/fused.ts) whose single output is read by exactly one node, itself fusable, and is not a
 * graph output, is absorbed into that reader; each group of absorbed nodes with the node that
 * absorbed them (its root, the last in graph order) becomes one `wafer:FusedElementwise` node at the
 * root's place, named after the root, computing the root's output from the group's external inputs.
 * The group's intermediate values are gone: the kernels read each input once and write the output
 * once (a `call` of the fused op on one core, or on every core's tiles in distributed mode), with the
 * same results as the chain, since each step is evaluated by its own op (ir/ops/fused.ts).
 *
 *   before:  %s = Sigmoid(%h) @sig     %y = Mul(%h, %s) @silu
 *   after:   %y = wafer:FusedElementwise(%h) {args = [0, 0, -1], arity = [1, 2], nodes = ["sig", "silu"],
 *                  ops = ["Sigmoid", "Mul"], to = [0, 0]} @silu
 */
import { isStatic, type Graph, type Node } from '../../ir/graph.js';
import { FUSABLE, FUSED_DOMAIN, FUSED_OP } from '../../ir/ops/fused.js';
import type { BackendPass, BackendState } from '../pipeline.js';

function fusable(n: Node, g: Graph): boolean {
  if (n.domain !== '' && n.domain !== 'ai.onnx') return false;
  if (!FUSABLE.has(n.op) || n.outputs.length !== 1 || !n.outputs[0] || n.inputs.some((v) => !v)) return false;
  const attrs = Object.keys(n.attrs);
  if (n.op === 'Cast') {
    const sat = n.attrs.saturate;
    if (attrs.some((a) => a !== 'to' && a !== 'saturate') || (sat && !(sat.kind === 'int' && sat.value === 1))) return false;
  } else if (attrs.length) return false;
  return isStatic(g.types.get(n.outputs[0]));
}

export function fuse(g: Graph): Graph {
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes) for (const v of new Set(n.inputs)) if (v) (readers.get(v) ?? readers.set(v, []).get(v)!).push(n);
  const outputs = new Set(g.outputs);
  // Each absorbed node points at the node that absorbs it.
  const into = new Map<Node, Node>();
  for (const n of g.nodes) {
    if (!fusable(n, g)) continue;
    const o = n.outputs[0];
    const rs = readers.get(o) ?? [];
    if (outputs.has(o) || rs.length !== 1 || !fusable(rs[0], g)) continue;
    into.set(n, rs[0]);
  }
  if (into.size === 0) return g;
  const rootOf = (n: Node): Node => {
    let r = n;
    while (into.has(r)) r = into.get(r)!;
    return r;
  };
  const absorbers = new Set(into.values());
  const groups = new Map<Node, Node[]>();
  for (const n of g.nodes) {
    if (!into.has(n) && !absorbers.has(n)) continue;
    const r = rootOf(n);
    (groups.get(r) ?? groups.set(r, []).get(r)!).push(n);
  }
  const nodes: Node[] = [];
  const types = new Map(g.types);
  for (const n of g.nodes) {
    if (into.has(n)) continue; // emitted with its root
    const members = groups.get(n);
    if (!members || members.length < 2) {
      nodes.push(n);
      continue;
    }
    // Members are in graph order; the root (n) is last.
    const inputs: string[] = [];
    const stepOf = new Map<string, number>();
    const ops: string[] = [], arity: number[] = [], args: number[] = [], to: number[] = [];
    members.forEach((m, s) => {
      for (const v of m.inputs) {
        if (stepOf.has(v)) args.push(-stepOf.get(v)! - 1);
        else {
          if (!inputs.includes(v)) inputs.push(v);
          args.push(inputs.indexOf(v));
        }
      }
      ops.push(m.op);
      arity.push(m.inputs.length);
      const t = m.attrs.to;
      to.push(m.op === 'Cast' && t && t.kind === 'int' ? t.value : 0);
      stepOf.set(m.outputs[0], s);
      if (m !== n) types.delete(m.outputs[0]);
    });
    nodes.push({
      name: n.name, op: FUSED_OP, domain: FUSED_DOMAIN, inputs, outputs: [...n.outputs],
      attrs: {
        ops: { kind: 'strings', value: ops }, arity: { kind: 'ints', value: arity }, args: { kind: 'ints', value: args },
        to: { kind: 'ints', value: to }, nodes: { kind: 'strings', value: members.map((m) => m.name) },
      },
    });
  }
  return { ...g, nodes, types };
}

export const fusePass: BackendPass = {
  id: 'fuse',
  summary: 'fuse chains of elementwise ops whose intermediate values nothing else reads into one op',
  run(state: BackendState): BackendState {
    return state.options.fuse === false ? state : { ...state, graph: fuse(state.graph) };
  },
};
