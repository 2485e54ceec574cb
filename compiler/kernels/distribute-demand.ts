/**
 * Column orders a GEMM's result should take so that later ops run without communication.
 *
 * RoPE's rotate-half, Concat(Neg(Slice(t, H:2H)), Slice(t, 0:H)) on the last axis (d = 2H), moves
 * every column H places: across cores when d is split along x in its natural order. If instead the
 * GEMM that computed t lays its columns out as (…, j, half) — d = half·H + j with the half innermost
 * — both halves of every j sit in the same tile, and the Slices, the Neg and the Concat are local
 * (dist.slice, dist.call, dist.concat). A GEMM's column order is free: it is the order of B's N
 * dims, which the host loads in any order (program tilings through a permutation). So each such
 * Slice asks, back through the views and same-shape elementwise ops that produced t, for the GEMM
 * computing it to refine N and order its parts accordingly (distribute-assign.ts gives B that grid).
 * A Split of the last axis into two halves asks the same.
 */
import { attrInt } from '../../ir/ops/util.js';
import type { MeshGraph, MeshOp } from '../../ir/mesh.js';
import { isElementwise, transposePerm } from './distribute-assign.js';

/** A dim refined into parts (sizes, data order) and the order the parts take in the columns (major first). */
export interface ColumnOrder {
  parts: number[];
  order: number[];
}

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);

/** A Slice's constant starts / ends / axes / steps (one axis), or undefined. */
export function sliceSpec(mesh: MeshGraph, op: MeshOp): { axis: number; start: number; end: number } | undefined {
  if (op.op !== 'Slice' || op.domain !== '') return undefined;
  const shape = mesh.values.get(op.inputs[0])!.type.shape;
  const read = (k: number) => { const v = op.inputs[k]; const t = v ? mesh.constants.get(v) : undefined; return t ? Array.from(t.data as ArrayLike<number>, Number) : undefined; };
  let starts: number[] | undefined, ends: number[] | undefined, axes: number[] | undefined, steps: number[] | undefined;
  if (op.inputs.length >= 3) [starts, ends, axes, steps] = [read(1), read(2), op.inputs[3] ? read(3) : undefined, op.inputs[4] ? read(4) : undefined];
  else {
    const attr = (n: string) => { const a = op.attrs[n]; return a && a.kind === 'ints' ? [...a.value] : undefined; };
    [starts, ends, axes] = [attr('starts'), attr('ends'), attr('axes')];
  }
  if (!starts || !ends || starts.length !== 1 || ends.length !== 1 || (axes && axes.length !== 1) || (steps && (steps.length !== 1 || steps[0] !== 1))) return undefined;
  const axis = axes ? (axes[0] < 0 ? axes[0] + shape.length : axes[0]) : 0;
  const D = shape[axis];
  const clamp = (x: number) => Math.max(0, Math.min(D, x < 0 ? x + D : x));
  return { axis, start: clamp(starts[0]), end: clamp(ends[0]) };
}

/** The demanded column order per MatMul result. */
export function columnDemands(mesh: MeshGraph): Map<string, ColumnOrder> {
  const producer = new Map<string, MeshOp>();
  for (const op of mesh.ops) for (const v of op.outputs) if (v) producer.set(v, op);
  const shape = (v: string) => mesh.values.get(v)!.type.shape;
  const out = new Map<string, ColumnOrder>();
  for (const op of mesh.ops) {
    const sp = splitSpec(mesh, op);
    const s = sliceSpec(mesh, op) ?? (sp && sp.sizes.length === 2 && sp.sizes[0] === sp.sizes[1] ? { axis: sp.axis, start: 0, end: sp.sizes[0] } : undefined);
    if (!s) continue;
    const t = op.inputs[0];
    const D = shape(t)[s.axis];
    const H = D / 2;
    if (s.axis !== shape(t).length - 1 || D % 2 !== 0 || H < 2 || !((s.start === 0 && s.end === H) || (s.start === H && s.end === D))) continue;
    trace(t, s.axis, { parts: [2, H], order: [1, 0] });
  }
  return out;

  function trace(v0: string, axis0: number, c0: ColumnOrder): void {
    let v = v0, axis = axis0, c = c0;
    for (let guard = 0; guard < 64; guard++) {
      const p = producer.get(v);
      if (!p) return;
      const rank = shape(v).length;
      if (p.domain === '' && p.op === 'MatMul') {
        if (axis === rank - 1 && !out.has(v)) out.set(v, c);
        return;
      }
      if (p.domain === '' && p.op === 'Transpose') { axis = transposePerm(p, rank)[axis]; v = p.inputs[0]; continue; }
      if (p.domain === '' && (p.op === 'Reshape' || p.op === 'Squeeze' || p.op === 'Unsqueeze' || p.op === 'Flatten')) {
        const from = shape(p.inputs[0]), to = shape(v);
        const sOut = prod(to.slice(axis + 1)), n = to[axis];
        const ai = from.findIndex((_, i) => { const sIn = prod(from.slice(i + 1)); return sIn <= sOut && sOut * n <= sIn * from[i] && sOut % sIn === 0 && (sIn * from[i]) % (sOut * n) === 0 && from[i] > 1; });
        if (ai < 0) return;
        const sIn = prod(from.slice(ai + 1));
        const outer = (from[ai] * sIn) / (sOut * n), inner = sOut / sIn;
        const parts = [outer, ...c.parts, inner];
        const order = [0, ...c.order.map((i) => i + 1), parts.length - 1];
        // Drop size-1 parts, renumbering the order.
        const keep = parts.map((x) => x > 1);
        const index = new Map<number, number>();
        parts.forEach((x, i) => { if (keep[i]) index.set(i, index.size); });
        c = { parts: parts.filter((_, i) => keep[i]), order: order.filter((i) => keep[i]).map((i) => index.get(i)!) };
        v = p.inputs[0];
        axis = ai;
        continue;
      }
      if (isElementwise(p)) {
        const same = p.inputs.find((x) => x && shape(x).length === rank && shape(x).every((d, i) => d === shape(v)[i]));
        if (!same) return;
        v = same;
        continue;
      }
      return;
    }
  }
}

/** A Split's axis and the sizes of its outputs (constant `split` input or attribute, else equal parts), or undefined. */
export function splitSpec(mesh: MeshGraph, op: MeshOp): { axis: number; sizes: number[] } | undefined {
  if (op.op !== 'Split' || op.domain !== '') return undefined;
  const shape = mesh.values.get(op.inputs[0])!.type.shape;
  const axis0 = attrInt(op.attrs, 'axis', 0);
  const axis = axis0 < 0 ? axis0 + shape.length : axis0;
  const n = op.outputs.length;
  const attr = op.attrs.split;
  const t = op.inputs[1] ? mesh.constants.get(op.inputs[1]) : undefined;
  if (op.inputs[1] && !t) return undefined;
  const sizes = attr && attr.kind === 'ints' ? [...attr.value] : t ? Array.from(t.data as ArrayLike<number>, Number) : shape[axis] % n === 0 ? Array(n).fill(shape[axis] / n) : undefined;
  return sizes && sizes.length === n ? { axis, sizes } : undefined;
}
