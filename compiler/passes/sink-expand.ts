/**
 * sink-expand — push Expand through elementwise ops into their broadcasting. (graph → graph)
 *
 * An elementwise op with numpy broadcasting (SINKABLE: unary math, Cast, binary arithmetic,
 * comparisons and logic, variadic Max / Min / Sum / Mean, Where) that reads `Expand(x, shape)` —
 * shape a constant, the Expand's output not a graph output — reads x instead: broadcasting commutes
 * with elementwise ops, E(…, Expand(x, s), …) = Expand(E(…, x, …), O) with O the old output shape.
 * When E's output shape, recomputed by broadcasting its new input shapes, is still O, the Expand has
 * been absorbed (another operand already covers the shape); otherwise E's output gets the smaller
 * shape under a new value `<out>_narrow` and a new `Expand(<out>_narrow, <out>_narrow_shape)` (node
 * `<E>_expand`, right after E) produces E's old output name, so readers and graph outputs are
 * unaffected. Run to a fixed point in graph order the Expand sinks down a chain of elementwise ops
 * until broadcasting absorbs it or a non-elementwise reader needs it whole. Expands left without
 * readers are removed with the rest of the dead code (eliminateDeadCode of simplify).
 * Exact: every output element is the same op applied to the same input elements, dtypes unchanged.
 * Excluded: multi-output ops, ops whose operands do not broadcast both ways (PRelu: the slope
 * broadcasts to X only; CastLike: input 1 gives only a dtype), anything not elementwise, and graphs
 * of opset < 8 (whose Add / Max / Sum ... broadcast one way or not at all). Requires static types
 * (run after simplify). Saves SRAM: the expanded tensors are never materialised.
 *
 *   before:  %e : f32[2,1,8,8] = Expand(%m, %s)              (%m : f32[2,1,1,8])
 *            %r : f32[2,1,8,8] = Sub(%one, %e)
 *            %y : f32[2,2,8,8] = Add(%scores, %r)
 *   after:   %r_narrow : f32[2,1,1,8] = Sub(%one, %m)
 *            %y : f32[2,2,8,8] = Add(%scores, %r_narrow)
 */
import { cloneGraph, isStatic, type Graph, type Node } from '../../ir/graph.js';
import { broadcastShapes } from '../../ir/ops/util.js';
import { Tensor } from '../../ir/tensor.js';
import type { GraphPass } from '../pass-manager.js';
import { eliminateDeadCode } from './simplify.js';

/** Single-output elementwise ops of the default domain whose operands all broadcast numpy-style. */
export const SINKABLE = new Set([
  'Abs', 'Neg', 'Relu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Identity', 'Reciprocal', 'Floor', 'Ceil', 'Sin', 'Cos',
  'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
  'Softplus', 'Softsign', 'Mish', 'Sign', 'Round', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'ThresholdedRelu',
  'Not', 'IsNaN', 'IsInf', 'Gelu', 'Cast', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater',
  'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Where', 'Mod', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor', 'BitwiseNot',
]);

const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The Expand producing `v` when it may be looked through: constant shape, static types, not a graph output. */
function sinkableExpand(g: Graph, prod: Map<string, Node>, outputs: Set<string>, v: string): Node | undefined {
  const p = prod.get(v);
  if (!p || p.op !== 'Expand' || (p.domain !== '' && p.domain !== 'ai.onnx') || p.outputs.length !== 1) return undefined;
  if (outputs.has(v) || !g.constants.has(p.inputs[1]) || !p.inputs[0]) return undefined;
  const tin = g.types.get(p.inputs[0]);
  const tout = g.types.get(v);
  if (!isStatic(tin) || !isStatic(tout) || tin.dtype !== tout.dtype) return undefined;
  return p;
}

export function sinkExpand(graph: Graph): Graph {
  const g = cloneGraph(graph);
  if (g.opset < 8) return g; // before opset 7/8 the binary and variadic ops did not broadcast both ways
  const taken = new Set<string>([...g.types.keys(), ...g.constants.keys()]);
  const nodeNames = new Set(g.nodes.map((n) => n.name));
  const freshIn = (set: Set<string>, base: string) => {
    let v = base;
    for (let k = 1; set.has(v); k++) v = `${base}${k}`;
    set.add(v);
    return v;
  };
  const outputs = new Set(g.outputs);
  for (let changed = true; changed; ) {
    changed = false;
    const prod = new Map<string, Node>();
    for (const n of g.nodes) for (const o of n.outputs) if (o) prod.set(o, n);
    for (let i = 0; i < g.nodes.length; i++) {
      const e = g.nodes[i];
      if (!SINKABLE.has(e.op) || (e.domain !== '' && e.domain !== 'ai.onnx')) continue;
      if (e.outputs.length !== 1 || !e.outputs[0] || e.inputs.length === 0 || e.inputs.some((v) => !v)) continue;
      const out = e.outputs[0];
      const tout = g.types.get(out);
      if (!isStatic(tout)) continue;
      let hit = false;
      const inputs = e.inputs.map((v) => {
        const p = sinkableExpand(g, prod, outputs, v);
        if (!p) return v;
        hit = true;
        return p.inputs[0];
      });
      if (!hit) continue;
      const types = inputs.map((v) => g.types.get(v));
      if (!types.every(isStatic)) continue;
      const shape = broadcastShapes(...types.map((t) => t!.shape as number[]));
      e.inputs = inputs;
      changed = true;
      if (sameDims(shape, tout.shape)) continue; // absorbed by broadcasting
      // E computes the narrow result; an Expand restores the old shape under the old name.
      const narrow = freshIn(taken, `${out}_narrow`);
      const shapeConst = freshIn(taken, `${out}_narrow_shape`);
      g.types.set(narrow, { dtype: tout.dtype, shape });
      g.constants.set(shapeConst, Tensor.from('int64', [tout.shape.length], tout.shape));
      g.types.set(shapeConst, { dtype: 'int64', shape: [tout.shape.length] });
      e.outputs = [narrow];
      const expand: Node = { op: 'Expand', domain: '', name: freshIn(nodeNames, `${e.name}_expand`), inputs: [narrow, shapeConst], outputs: [out], attrs: {} };
      g.nodes.splice(i + 1, 0, expand);
      prod.set(narrow, e);
      prod.set(out, expand);
    }
  }
  return eliminateDeadCode(g);
}

export const sinkExpandPass: GraphPass = {
  id: 'sink-expand',
  summary: 'push Expand through elementwise ops into their broadcasting (expanded tensors not materialised)',
  run: (g) => sinkExpand(g),
};
