/**
 * insert-redistribution — make every op read values that live on its own core. (mesh → mesh)
 *
 * For each op, in order, each input that lives on another core is brought over just before the op's
 * first read of it on that core: by a `redistribute` op (kernel `transfer`: the whole tensor, point
 * to point, from the value's core to the reader's) producing a copy `%v@x,y`, which later readers on
 * the same core reuse. Small constants (≤ SMALL_CONSTANT_BYTES) are not transferred: each reader's
 * core gets its own copy of the constant (place counted it there). The redistribute op's region is
 * the rectangle spanning both cores (the routers its stream crosses lie inside it).
 *
 *   before:  %h = call Relu(%x) on (0,0 1x1) @r       %y = call Neg(%h) on (1,0 1x1) @n
 *   after:   %h = call Relu(%x) on (0,0 1x1) @r
 *            %"h@1,0" = redistribute(%h) on (0,0 2x1) {kernel = "transfer"} @"h->1,0"
 *            %y = call Neg(%"h@1,0") on (1,0 1x1) @n
 */
import { singleCoreLayout, type MeshGraph, type MeshOp } from '../../ir/mesh.js';
import type { Rect } from '../../ir/program.js';
import { Tensor } from '../../ir/tensor.js';
import type { BackendPass, BackendState } from '../pipeline.js';
import { distributedSide } from '../kernels/distributed.js';
import { SMALL_CONSTANT_BYTES, valueBytes } from './place.js';

const span = (a: Rect, b: Rect): Rect => {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x, b.x) - x + 1, height: Math.max(a.y, b.y) - y + 1 };
};

export function insertRedistribution(mesh: MeshGraph): MeshGraph {
  const out: MeshGraph = { ...mesh, values: new Map(mesh.values), constants: new Map(mesh.constants), ops: [] };
  const names = new Set([...mesh.ops.map((o) => o.name)]);
  const unique = (base: string) => {
    let n = base;
    for (let k = 1; names.has(n); k++) n = `${base}_${k}`;
    names.add(n);
    return n;
  };
  for (const op of mesh.ops) {
    const core = op.region;
    const inputs = op.inputs.map((v) => {
      if (!v) return v;
      const mv = out.values.get(v)!;
      const at = mv.layout.region;
      if (at.x === core.x && at.y === core.y) return v;
      const copy = `${v}@${core.x},${core.y}`;
      if (out.values.has(copy)) return copy;
      const layout = singleCoreLayout(core.x, core.y, mv.type.shape);
      out.values.set(copy, { ...mv, layout });
      const t = mesh.constants.get(v);
      if (t && valueBytes(mv) <= SMALL_CONSTANT_BYTES) {
        out.constants.set(copy, t);
        return copy;
      }
      if (valueBytes(mv) === 0) {
        // Nothing to move: the reader's core gets its own empty tensor.
        out.constants.set(copy, Tensor.zeros(mv.type.dtype, mv.type.shape));
        return copy;
      }
      const x: MeshOp = {
        name: unique(`${v}->${core.x},${core.y}`), kernel: 'redistribute', op: '', domain: '', attrs: {}, inputs: [v], outputs: [copy],
        region: span(at, core), params: { kernel: 'transfer' },
      };
      out.ops.push(x);
      return copy;
    });
    out.ops.push({ ...op, inputs });
  }
  return out;
}

export const insertRedistributionPass: BackendPass = {
  id: 'insert-redistribution',
  summary: 'bring every value a core reads onto that core (transfers; small constants are duplicated)',
  run(state: BackendState): BackendState {
    // A distributed program's kernels take the layouts select-kernels gave every value.
    if (distributedSide(state.mesh!) !== undefined) return state;
    return { ...state, mesh: insertRedistribution(state.mesh!) };
  },
};
