/**
 * The inverse of opset.ts's canonicalization, for export: when the graph's opset predates the ONNX
 * version that turned an attribute into an input (ReduceMean axes before 18, Squeeze axes before 13,
 * Reshape shape before 5 ...), a constant input is written back as the attribute, so the file obeys
 * the operator schema of its opset and ONNX runtimes accept it. Nodes whose moved input is not a
 * compile-time constant cannot be written in the old form and are left as they are. Constants that
 * only such nodes read are dropped from the export. importOnnx reads the result back to the same
 * graph (its moved constants are recreated under the same `<node>__<attr>` names).
 */
import type { Attr, Graph, Node } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';

type Kind = 'ints' | 'floats' | 'float' | 'int';

/** One moved attribute: input index, attribute name, attribute kind. */
type Move = [index: number, attr: string, kind: Kind];

const REDUCE_AXES_18 = new Set([
  'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare',
]);

/** The moves that apply to an ai.onnx node at `opset`, and how many inputs the old form takes. */
function movesFor(op: string, opset: number): { moves: Move[]; arity: number } | undefined {
  switch (op) {
    case 'Reshape':
      return opset < 5 ? { moves: [[1, 'shape', 'ints']], arity: 1 } : undefined;
    case 'Split':
      return opset < 13 ? { moves: [[1, 'split', 'ints']], arity: 1 } : undefined;
    case 'Slice':
      return opset < 10 ? { moves: [[1, 'starts', 'ints'], [2, 'ends', 'ints'], [3, 'axes', 'ints']], arity: 1 } : undefined;
    case 'Squeeze':
    case 'Unsqueeze':
    case 'ReduceSum':
      return opset < 13 ? { moves: [[1, 'axes', 'ints']], arity: 1 } : undefined;
    case 'Clip':
      return opset < 11 ? { moves: [[1, 'min', 'float'], [2, 'max', 'float']], arity: 1 } : undefined;
    case 'Pad':
      return opset < 11 ? { moves: [[1, 'pads', 'ints'], [2, 'value', 'float']], arity: 1 } : undefined;
    case 'Dropout':
      return opset < 12 ? { moves: [[1, 'ratio', 'float']], arity: 1 } : undefined;
    case 'TopK':
      return opset < 10 ? { moves: [[1, 'k', 'int']], arity: 1 } : undefined;
    case 'Upsample':
      return opset >= 7 && opset < 9 ? { moves: [[1, 'scales', 'floats']], arity: 1 } : undefined;
    default:
      return REDUCE_AXES_18.has(op) && opset < 18 ? { moves: [[1, 'axes', 'ints']], arity: 1 } : undefined;
  }
}

function toAttr(t: Tensor, kind: Kind): Attr | undefined {
  const v = t.toArray();
  switch (kind) {
    case 'ints':
      return t.rank === 1 ? { kind: 'ints', value: v } : undefined;
    case 'floats':
      return t.rank === 1 ? { kind: 'floats', value: v } : undefined;
    case 'float':
      return v.length === 1 ? { kind: 'float', value: v[0] } : undefined;
    case 'int':
      return v.length === 1 ? { kind: 'int', value: v[0] } : undefined;
  }
}

/** The node in the old form of its opset, or undefined when it needs no change or cannot have one. */
function legacyNode(n: Node, g: Graph): Node | undefined {
  if (n.domain !== '' && n.domain !== 'ai.onnx') return undefined;
  const rule = movesFor(n.op, g.opset);
  if (!rule || n.inputs.length <= rule.arity) return undefined;
  const extra = n.inputs.slice(rule.arity);
  const moves = new Map(rule.moves.map((m) => [m[0], m]));
  if (n.op === 'Slice' && extra[3] && !isAllOnes(g.constants.get(extra[3]))) return undefined; // steps: no old form
  const attrs = { ...n.attrs };
  for (let i = 0; i < extra.length; i++) {
    const name = extra[i];
    if (!name) continue;
    if (n.op === 'Slice' && i === 3) continue; // unit steps: the old default
    const move = moves.get(rule.arity + i);
    const t = g.constants.get(name);
    if (!move || !t || Object.prototype.hasOwnProperty.call(attrs, move[1])) return undefined;
    const a = toAttr(t, move[2]);
    if (!a) return undefined;
    if (n.op === 'Pad' && move[1] === 'value' && a.value === 0) continue; // the old default
    Object.defineProperty(attrs, move[1], { value: a, enumerable: true, writable: true, configurable: true });
  }
  return { ...n, inputs: n.inputs.slice(0, rule.arity), attrs };
}

function isAllOnes(t: Tensor | undefined): boolean {
  return t !== undefined && t.toArray().every((x) => x === 1);
}

/**
 * The graph's nodes in the old forms its opset requires, and the constants no exported node reads
 * any more (only constants that a rewritten node read; graph inputs and outputs are kept).
 */
export function legacyForms(g: Graph): { nodes: Node[]; dropped: Set<string> } {
  const candidates = new Set<string>();
  const nodes = g.nodes.map((n) => {
    const old = legacyNode(n, g);
    if (!old) return n;
    for (const v of n.inputs.slice(old.inputs.length)) if (v) candidates.add(v);
    return old;
  });
  if (candidates.size === 0) return { nodes, dropped: candidates };
  for (const n of nodes) for (const v of n.inputs) candidates.delete(v);
  for (const v of [...g.inputs, ...g.outputs]) candidates.delete(v);
  return { nodes, dropped: candidates };
}
