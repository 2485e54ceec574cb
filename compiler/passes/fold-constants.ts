/**
 * fold-constants — evaluate at compile time every node whose inputs are all known. (graph → graph)
 *
 * Known inputs are constants, and Shape/Size of values with static types (so shape arithmetic
 * chains Shape → Gather → Unsqueeze → Concat → Reshape collapse once dims are bound). Folding uses the
 * reference evaluator, the same definition of each op as everywhere else. Results larger than the
 * context's `maxFoldElements` are not folded. Requires static types (run after infer-shapes).
 *
 *   before:  %s : i64[2] = Shape(%x)     %d : i64[] = Gather(%s, %zero)     %y = Reshape(%x, %t)
 *   after:   const %d : i64[] = dense<[4]>                                   %y = Reshape(%x, %t)
 */
import { evaluateNode } from '../../ir/evaluate.js';
import { cloneGraph, isStatic, type Graph } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { GraphPass, PassContext } from '../pass-manager.js';
import { shapeOpValue } from './infer-shapes.js';

/** Ops whose result is not a function of their inputs, never folded. */
const NON_DETERMINISTIC = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);

export function foldConstants(graph: Graph, ctx: PassContext): Graph {
  const g = cloneGraph(graph);
  const kept = [];
  for (const node of g.nodes) {
    if (NON_DETERMINISTIC.has(node.op)) {
      kept.push(node);
      continue;
    }
    const first = node.inputs[0] ? g.types.get(node.inputs[0]) : undefined;
    const sv = shapeOpValue(node, isStatic(first) ? first : undefined);
    if (sv) {
      g.constants.set(node.outputs[0], sv);
      continue;
    }
    const allKnown = node.inputs.every((v) => v === '' || g.constants.has(v));
    const outTypes = node.outputs.map((o) => g.types.get(o));
    const small = outTypes.every((t) => isStatic(t) && sizeOf(t.shape) <= ctx.maxFoldElements);
    if (!allKnown || !small || node.outputs.length === 0) {
      kept.push(node);
      continue;
    }
    const results = evaluateNode(node, node.inputs.map((v) => (v ? g.constants.get(v) : undefined)), g.opset);
    node.outputs.forEach((o, k) => {
      if (!o) return;
      g.constants.set(o, results[k]);
      g.types.set(o, { dtype: results[k].dtype, shape: [...results[k].shape] });
    });
  }
  g.nodes = kept;
  return g;
}

export const foldConstantsPass: GraphPass = {
  id: 'fold-constants',
  summary: 'evaluate nodes with compile-time inputs and replace them by constants',
  run: foldConstants,
};
