/**
 * Value types from ONNX TypeProtos (symbolic dims kept as their dim_param name, anonymous unknown dims
 * given generated names `unk__N`), and binding of symbolic dims to sizes: by name (`bindDims`) or
 * from concrete input tensors (`bindDimsFromInputs`). Binding returns a new graph; the input graph is
 * not changed.
 */
import { diag } from '../../../ir/diagnostics.js';
import { cloneGraph, typeToString, type Dim, type Graph, type TensorType } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { has, toNum, type TypeProto } from './decode.js';
import { dtypeOrFail } from './tensor.js';

/** Why a TypeProto has no IR tensor type. */
export type TypeProblem = 'missing' | 'not-a-tensor' | 'unknown-rank';

/**
 * The IR type of a TypeProto, or the problem that prevents one. Element types outside the IR are
 * W1002; negative dims are W1003. `fresh` names anonymous unknown dims.
 */
export function tensorTypeOf(t: TypeProto | null | undefined, where: string, fresh: () => string): TensorType | TypeProblem {
  if (!t) return 'missing';
  const tt = t.tensorType;
  if (!tt) return 'not-a-tensor';
  const dtype = dtypeOrFail(tt.elemType ?? 0, where);
  if (!tt.shape) return 'unknown-rank';
  const shape: Dim[] = [];
  for (const d of tt.shape.dim ?? []) {
    if (has(d, 'dimValue')) {
      const v = toNum(d.dimValue);
      if (!Number.isSafeInteger(v) || v < 0) {
        throw diag('W1003', `invalid dim ${v} in the type of this value`, where, 'dims must be non-negative integers');
      }
      shape.push(v);
    } else if (d.dimParam) {
      shape.push(d.dimParam);
    } else {
      shape.push(fresh());
    }
  }
  return { dtype, shape };
}

/**
 * Replaces symbolic dims by the given sizes in every type of the graph (a symbol means the same size
 * wherever it appears). Unknown symbol names are ignored.
 */
export function bindDims(graph: Graph, dims: Record<string, number>): Graph {
  const sizes = new Map<string, number>();
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw diag('W1012', `dim '${name}' bound to ${v}, which is not a non-negative integer`, name, 'give a size such as 1 or 128');
    }
    sizes.set(name, v);
  }
  const g = cloneGraph(graph);
  if (sizes.size === 0) return g;
  for (const [name, t] of g.types) {
    if (!t || t.shape.every((d) => typeof d === 'number')) continue;
    g.types.set(name, { dtype: t.dtype, shape: t.shape.map((d) => (typeof d === 'string' ? sizes.get(d) ?? d : d)) });
  }
  return g;
}

/**
 * Derives symbol sizes from concrete inputs (e.g. test data) and binds them. W1012 when a tensor's
 * dtype, rank or static dims disagree with the declared input type, or one symbol gets two sizes.
 * Tensors for names that are not graph inputs are ignored.
 */
export function bindDimsFromInputs(graph: Graph, inputs: Map<string, Tensor>): Graph {
  const sizes = new Map<string, number>();
  const from = new Map<string, string>();
  for (const name of graph.inputs) {
    const x = inputs.get(name);
    const t = graph.types.get(name);
    if (!x || !t) continue;
    const given = `${x.dtype}[${x.shape.join(',')}]`;
    if (x.dtype !== t.dtype || x.shape.length !== t.shape.length) {
      throw diag('W1012', `input '${name}' is declared ${typeToString(t)} but the given tensor is ${given}`, name, 'pass a tensor of the declared type and rank');
    }
    t.shape.forEach((d, i) => {
      const v = x.shape[i];
      const known = typeof d === 'number' ? d : sizes.get(d);
      if (known === undefined) {
        sizes.set(d as string, v);
        from.set(d as string, name);
      } else if (known !== v) {
        throw typeof d === 'number'
          ? diag('W1012', `input '${name}' is declared ${typeToString(t)} but the given tensor is ${given}`, name, `dim ${i} must be ${d}`)
          : diag('W1012', `symbolic dim '${d}' is ${known} in input '${from.get(d)}' but ${v} in input '${name}'`, name, 'inputs that share a symbolic dim must agree on its size');
      }
    });
  }
  return bindDims(graph, Object.fromEntries(sizes));
}
