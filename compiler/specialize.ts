/**
 * Input specialization: turn graph inputs into constants with given values. A static compiler needs
 * the values of inputs that determine shapes (a Reshape target, Pad amounts, a Range limit ...);
 * specializing them compiles the graph for those values, as a user does by fixing such inputs.
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import { cloneGraph, type Graph } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';

export function specializeInputs(graph: Graph, values: ReadonlyMap<string, Tensor>): Graph {
  const g = cloneGraph(graph);
  for (const [name, t] of values) {
    if (!g.inputs.includes(name)) {
      throw new DiagnosticError({ code: 'W2007', message: `cannot specialize '${name}': it is not a graph input`, hint: `inputs: ${g.inputs.join(', ')}` });
    }
    g.constants.set(name, t);
    g.types.set(name, { dtype: t.dtype, shape: [...t.shape] });
  }
  g.inputs = g.inputs.filter((n) => !values.has(n));
  return g;
}
