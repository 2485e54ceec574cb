/**
 * infer-shapes — give every value a static tensor type. (graph → graph)
 *
 * Requires every graph input to have a static type (symbolic dims bound). Walks the nodes in order and
 * calls each op's `infer` rule. Shape-dependent ops (Reshape, Expand, Slice ...) need the values of
 * their shape inputs, so small values computable at compile time (constants, Shape/Size of a static
 * value, and small ops over those) are tracked on the side; the graph itself is not rewritten
 * (fold-constants does that).
 *
 *   before:  %s : ? = Shape(%x)            %y : ? = Reshape(%x, %s)
 *   after:   %s : i64[2] = Shape(%x)       %y : f32[4,8] = Reshape(%x, %s)
 */
import { DiagnosticError } from '../../ir/diagnostics.js';
import { evaluateNode, opDiagnostic } from '../../ir/evaluate.js';
import { cloneGraph, isStatic, type Graph, type Node, type StaticType } from '../../ir/graph.js';
import { getOp, type InferInput } from '../../ir/ops/index.js';
import { Tensor, sizeOf } from '../../ir/tensor.js';
import type { GraphPass } from '../pass-manager.js';

/** Largest value (in elements) computed on the side to resolve data-dependent shapes. */
const SIDE_VALUE_LIMIT = 1 << 16;

/** The value of Shape(x) / Size(x) from x's static type, or undefined for other ops. */
export function shapeOpValue(node: Node, input: StaticType | undefined): Tensor | undefined {
  if (!input || node.domain !== '') return undefined;
  if (node.op === 'Size') return Tensor.scalar('int64', sizeOf(input.shape));
  if (node.op !== 'Shape') return undefined;
  const r = input.shape.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const startAttr = node.attrs.start;
  const endAttr = node.attrs.end;
  const start = clamp(startAttr?.kind === 'int' ? startAttr.value : 0);
  const end = clamp(endAttr?.kind === 'int' ? endAttr.value : r);
  const dims = input.shape.slice(start, Math.max(start, end));
  return Tensor.from('int64', [dims.length], dims);
}

export function staticTypeOf(g: Graph, value: string, node: Node): StaticType {
  const t = g.types.get(value);
  if (isStatic(t)) return t;
  if (!t) {
    throw new DiagnosticError({ code: 'W2006', message: `the type of '${value}' is unknown`, location: `node '${node.name}'`, hint: 'the value must be a graph input, a constant or the output of an earlier node' });
  }
  const symbols = t.shape.filter((d) => typeof d === 'string');
  throw new DiagnosticError({
    code: 'W2006',
    message: `'${value}' has symbolic dims ${symbols.join(', ')}`,
    location: `node '${node.name}'`,
    hint: `bind them: ${symbols.map((s) => `--dim ${s}=N`).join(' ')}`,
  });
}

export function inferGraphShapes(graph: Graph): Graph {
  const g = cloneGraph(graph);
  for (const name of g.inputs) {
    const t = g.types.get(name);
    if (!isStatic(t)) {
      const symbols = t ? t.shape.filter((d) => typeof d === 'string') : [];
      throw new DiagnosticError({
        code: 'W2006',
        message: t ? `graph input '${name}' has symbolic dims ${symbols.join(', ')}` : `graph input '${name}' has no type`,
        location: `input '${name}'`,
        hint: symbols.length ? `bind them: ${symbols.map((s) => `--dim ${s}=N`).join(' ')}` : undefined,
      });
    }
  }
  const known = new Map<string, Tensor>(g.constants);
  for (const node of g.nodes) {
    const def = getOp(node.op, node.domain);
    if (!def) {
      throw new DiagnosticError({ code: 'W1010', message: `unsupported operator ${node.op}`, location: `node '${node.name}'` });
    }
    const inputs: (InferInput | undefined)[] = node.inputs.map((v) =>
      v ? { type: staticTypeOf(g, v, node), value: known.get(v) } : undefined,
    );
    let types: StaticType[];
    try {
      types = def.infer(inputs, node.attrs, { name: node.name, opset: g.opset, numOutputs: node.outputs.length });
    } catch (e) {
      throw opDiagnostic(e, node);
    }
    node.outputs.forEach((o, k) => {
      if (!o) return;
      const t = types[k];
      if (!t) throw new Error(`internal: ${node.op} infer returned no type for output ${k}`);
      g.types.set(o, t);
    });
    // side values for later data-dependent shapes
    const sv = shapeOpValue(node, inputs[0]?.type);
    if (sv) {
      known.set(node.outputs[0], sv);
    } else if (
      inputs.every((x) => x === undefined || x.value !== undefined) &&
      types.every((t) => sizeOf(t.shape) <= SIDE_VALUE_LIMIT)
    ) {
      const results = evaluateNode(node, inputs.map((x) => x?.value), g.opset);
      node.outputs.forEach((o, k) => o && results[k] && known.set(o, results[k]));
    }
  }
  for (const o of g.outputs) {
    if (!isStatic(g.types.get(o))) {
      throw new DiagnosticError({ code: 'W2006', message: `graph output '${o}' has no static type`, location: `output '${o}'` });
    }
  }
  return g;
}

export const inferShapesPass: GraphPass = {
  id: 'infer-shapes',
  summary: 'give every value a static tensor type from the op rules',
  run: (g) => inferGraphShapes(g),
};
