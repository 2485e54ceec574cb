/**
 * The reference evaluator: runs a graph over concrete tensors, node by node in order, using each op's
 * `evaluate` from the registry. Intermediate tensors are released after their last use.
 */
import { DiagnosticError, type Diagnostic } from './diagnostics.js';
import type { Graph, Node } from './graph.js';
import { getOp, OpError } from './ops/index.js';
import type { Tensor } from './tensor.js';

export interface EvaluateOptions {
  /** Keep every intermediate value in the result (for debugging); default false. */
  keepAll?: boolean;
}

/** Turns an OpError raised by an op into a located diagnostic; rethrows anything else. */
export function opDiagnostic(e: unknown, node: Node): DiagnosticError {
  if (e instanceof OpError) {
    const d: Diagnostic = { code: e.code, message: `${node.op}: ${e.message}`, location: `node '${node.name}'`, hint: e.hint };
    return new DiagnosticError(d);
  }
  if (e instanceof DiagnosticError) return e;
  if (e instanceof RangeError) {
    // e.g. "Array buffer allocation failed" / "Invalid typed array length": an input too large for memory.
    return new DiagnosticError({ code: 'W2002', message: `${node.op}: ${e.message}`, location: `node '${node.name}'`, hint: 'the tensor is too large to evaluate' });
  }
  throw e;
}

/** Evaluates one node. */
export function evaluateNode(node: Node, inputs: (Tensor | undefined)[], opset: number): Tensor[] {
  const def = getOp(node.op, node.domain);
  if (!def) {
    throw new DiagnosticError({ code: 'W1010', message: `unsupported operator ${node.domain ? node.domain + ':' : ''}${node.op}`, location: `node '${node.name}'` });
  }
  try {
    return def.evaluate(inputs, node.attrs, { name: node.name, opset, numOutputs: node.outputs.length });
  } catch (e) {
    throw opDiagnostic(e, node);
  }
}

/**
 * Evaluates `graph` on the given input tensors (by graph input name). Returns the graph outputs by
 * name (and every value with `keepAll`).
 */
export function evaluateGraph(
  graph: Graph,
  inputs: ReadonlyMap<string, Tensor>,
  options: EvaluateOptions = {},
): Map<string, Tensor> {
  const env = new Map<string, Tensor>(graph.constants);
  for (const name of graph.inputs) {
    if (graph.constants.has(name) && !inputs.has(name)) continue; // input with a default initializer
    const t = inputs.get(name);
    if (!t) throw new DiagnosticError({ code: 'W2007', message: `no value given for graph input '${name}'`, location: `input '${name}'` });
    env.set(name, t);
  }
  // last use of each value, so intermediates can be dropped
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((v) => v && lastUse.set(v, i)));
  const keep = new Set(graph.outputs);
  graph.nodes.forEach((node, i) => {
    const args = node.inputs.map((v) => {
      if (!v) return undefined;
      const t = env.get(v);
      if (!t) throw new DiagnosticError({ code: 'W2007', message: `value '${v}' is not available`, location: `node '${node.name}'` });
      return t;
    });
    const results = evaluateNode(node, args, graph.opset);
    node.outputs.forEach((o, k) => {
      if (o && results[k]) env.set(o, results[k]);
    });
    if (!options.keepAll) {
      for (const v of node.inputs) if (v && lastUse.get(v) === i && !keep.has(v) && !graph.constants.has(v)) env.delete(v);
    }
  });
  if (options.keepAll) return env;
  const out = new Map<string, Tensor>();
  for (const o of graph.outputs) {
    const t = env.get(o);
    if (!t) throw new DiagnosticError({ code: 'W2007', message: `graph output '${o}' was not computed`, location: `output '${o}'` });
    out.set(o, t);
  }
  return out;
}
