/**
 * The grid of every value of a distributed plan (kernels/grids.ts), before kernels are chosen
 * (distribute-plan.ts checks each op's grids and picks its kernel).
 *
 * Values computed by kernels with a layout of their own (GEMM, Gather, reductions, Softmax) anchor
 * the grids; views (Reshape, Squeeze, Unsqueeze, Flatten, Transpose, Identity) carry their input's
 * tiles forward, and elementwise ops their full-size operand's. Graph inputs, constants and the
 * elementwise / view chains computed from them alone are flexible: they take the grid their first
 * reader needs — a broadcast operand the projection of the reader's output grid (the causal mask
 * replicated over heads, a RoPE table over batch and head), a MatMul operand its block — and pass it
 * back up the chain (so the host loads each input directly in the view its first reader wants).
 * Whatever is left takes the natural grid of its shape (the forms of kernels/blocks.ts).
 */
import { attrInt } from '../../ir/ops/util.js';
import type { LayoutGrid, MeshGraph, MeshOp } from '../../ir/mesh.js';
import { FUSED_DOMAIN, FUSED_OP } from '../../ir/ops/fused.js';
import { blockForm, matrixView, rowsFormFits } from './blocks.js';
import { columnDemands, sliceSpec, splitSpec } from './distribute-demand.js';
import { concatTilePart, isReplicated, lastDimOrder, permutes, matmulGrid, naturalGrid, normalizeGrid, projectGrid, reshapeGrid, sameGrid, sliceTilePart, transposeGrid } from './grids.js';

/** Ops computed elementwise (with ONNX broadcasting), hence tile by tile (Identity is a view: a graph output's copy). */
const ELEMENTWISE = new Set([
  'Abs', 'Neg', 'Relu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Reciprocal', 'Floor', 'Ceil', 'Sin', 'Cos',
  'Softplus', 'Softsign', 'Mish', 'Sign', 'Round', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'ThresholdedRelu',
  'Not', 'IsNaN', 'IsInf', 'Gelu', 'Cast', 'CastLike', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater',
  'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Where', 'PRelu', 'Mod', 'BitShift',
]);
const RESHAPES = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);

export const isElementwise = (op: MeshOp): boolean =>
  op.outputs.length === 1 && ((op.domain === '' && ELEMENTWISE.has(op.op)) || (op.domain === FUSED_DOMAIN && op.op === FUSED_OP));
export const isView = (op: MeshOp): boolean => op.domain === '' && op.outputs.length === 1 && (RESHAPES.has(op.op) || op.op === 'Transpose' || op.op === 'Identity');

/** A Transpose's permutation (default: reversed dims). */
export function transposePerm(op: MeshOp, rank: number): number[] {
  const p = op.attrs.perm;
  return p && p.kind === 'ints' ? [...p.value] : Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

const elems = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const strip = (s: readonly number[]) => { let i = 0; while (i < s.length - 1 && s[i] === 1) i++; return s.slice(i); };
export const sameShape = (a: readonly number[], b: readonly number[]): boolean => {
  const x = strip(a), y = strip(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
};

/** The grid of a view's output from its input's (forward) or of its input from its output's (backward). */
export function viewGrid(op: MeshOp, g: LayoutGrid, from: readonly number[], to: readonly number[], backward: boolean): LayoutGrid | undefined {
  // A replicated value stored in its own order stays so; one stored permuted keeps its permutation.
  if (isReplicated(g) && !permutes(g)) return naturalGrid(to, 'rep', 1);
  if (op.op === 'Identity') return normalizeGrid(g, to);
  if (op.op === 'Transpose') {
    const p = transposePerm(op, backward ? to.length : from.length);
    const q = backward ? p.map((_, i) => p.indexOf(i)) : p;
    return transposeGrid(g, from, q);
  }
  return reshapeGrid(g, from, to);
}

/** Assigns a grid to every value of the mesh on a P×P region. */
export function assignGrids(mesh: MeshGraph, P: number): Map<string, LayoutGrid> {
  const grids = new Map<string, LayoutGrid>();
  const shape = (v: string) => mesh.values.get(v)!.type.shape;
  const natural = (v: string) => naturalGrid(shape(v), blockForm(shape(v), P), P);
  const producer = new Map<string, MeshOp>();
  for (const op of mesh.ops) for (const v of op.outputs) if (v) producer.set(v, op);
  const deferred = new Set<MeshOp>();
  const demands = columnDemands(mesh);

  const assign = (v: string, g: LayoutGrid | undefined): void => {
    if (!v || !g || grids.has(v)) return;
    grids.set(v, g);
    const p = producer.get(v);
    if (p && deferred.has(p)) {
      deferred.delete(p);
      backward(p);
    }
  };
  // An op's output grid is known: its unassigned inputs follow it.
  const backward = (op: MeshOp): void => {
    const out = op.outputs[0];
    const g = grids.get(out)!;
    if (isView(op)) { assign(op.inputs[0], viewGrid(op, g, shape(out), shape(op.inputs[0]), true)); return; }
    for (const v of op.inputs) {
      if (!v || grids.has(v)) continue;
      assign(v, elems(shape(v)) <= 1 ? natural(v) : projectGrid(g, shape(out), shape(v)) ?? natural(v));
    }
  };

  for (const op of mesh.ops) {
    const ins = op.inputs.filter(Boolean);
    const out = op.outputs[0];
    if (isView(op) || isElementwise(op)) {
      const known = ins.filter((v) => grids.has(v) && elems(shape(v)) > 1);
      if (known.length === 0) { deferred.add(op); continue; }
      if (isView(op)) {
        assign(out, viewGrid(op, grids.get(ins[0])!, shape(ins[0]), shape(out), false) ?? natural(out));
        continue;
      }
      const anchor = known.find((v) => sameShape(shape(v), shape(out)));
      assign(out, (anchor ? normalizeGrid(grids.get(anchor)!, shape(out)) : undefined) ?? natural(out));
      backward(op);
      continue;
    }
    // Kernels with layouts of their own: unassigned operands take what the kernel reads.
    if (op.domain === '' && op.op === 'Gather' && op.inputs[1] && !grids.has(op.inputs[1]) && embeddingIds(mesh, op, P)) {
      const s = shape(op.inputs[1]);
      assign(op.inputs[1], naturalGrid(s, 'rows', P));
    }
    if (op.domain === '' && op.op === 'MatMul' && op.inputs[1] && !grids.has(op.inputs[1]) && shape(op.inputs[1]).length === 2) {
      // B = Transpose(W) of a 2-D W: W stays a block, B its transposed view (the transposed GEMM) —
      // unless A is one row (the GEMV of a decode step reads B as [K, N]: the host loads W transposed).
      // A demanded column order (distribute-demand.ts) refines and orders B's N dims.
      const t = producer.get(op.inputs[1]);
      const ga = grids.get(op.inputs[0]);
      const row = (!ga || ga.y.mod === 1) && elems(shape(op.inputs[0]).slice(0, -1)) === 1;
      const w = !row && t && t.op === 'Transpose' && deferred.has(t) && shape(t.inputs[0]).length === 2 ? t.inputs[0] : undefined;
      const c = demands.get(op.outputs[0]);
      const [K, N] = shape(op.inputs[1]);
      const split = { y: { div: 1, mod: P }, x: { div: 1, mod: P } };
      if (w && blockForm(shape(w), P) === 'block') {
        const wg = c ? { dims: [...c.parts, K], perm: [...c.order, c.parts.length], rows: c.parts.length, ...split } : grids.get(w) ?? natural(w);
        assign(op.inputs[1], transposeGrid(wg, shape(w), [1, 0]));
      } else if (c && blockForm([K, N], P) === 'block') {
        assign(op.inputs[1], { dims: [K, ...c.parts], perm: [0, ...c.order.map((i) => i + 1)], rows: 1, ...split });
      }
    }
    if (op.domain === '' && NORMS.has(op.op) && grids.has(op.inputs[0])) {
      // Scale and bias: the part of one row each core reads.
      for (const v of op.inputs.slice(1)) if (v && elems(shape(v)) > 1) assign(v, projectGrid(grids.get(op.inputs[0])!, shape(op.inputs[0]), shape(v)) ?? natural(v));
    }
    for (const v of ins) assign(v, natural(v));
    for (const v of op.outputs) if (v) assign(v, outputGrid(op, v));
  }
  // Chains nothing anchored: natural grids from their last value back.
  for (const op of [...mesh.ops].reverse()) if (deferred.has(op)) assign(op.outputs[0], natural(op.outputs[0]));
  for (const v of mesh.values.keys()) assign(v, natural(v));
  return grids;

  function outputGrid(op: MeshOp, v: string): LayoutGrid {
    if (op.domain === '' && op.op === 'MatMul' && v === op.outputs[0]) {
      const [a, b] = op.inputs.map((x) => grids.get(x));
      const n = b ? lastDimOrder(b, shape(op.inputs[1])) : undefined;
      return (a ? matmulGrid(a, shape(op.inputs[0]), shape(v), n) : undefined) ?? natural(v);
    }
    if (op.domain === '' && (op.op === 'Softmax' || NORMS.has(op.op)) && v === op.outputs[0]) return grids.get(op.inputs[0]) ?? natural(v);
    if (op.domain === '' && REDUCE_OPS.has(op.op) && v === op.outputs[0] && keepsDims(op)) {
      // With keepdims: each result where its row (or column) is — a col of a block, a vec of its
      // columns; the kernel checks the axes.
      return projectGrid(grids.get(op.inputs[0])!, shape(op.inputs[0]), shape(v)) ?? natural(v);
    }
    if (op.domain === '' && op.op === 'Slice' && v === op.outputs[0]) {
      const s = sliceSpec(mesh, op), g = grids.get(op.inputs[0])!;
      return (s && sliceTilePart(g, shape(op.inputs[0]), s.axis, s.start, s.end, shape(v))?.part) ?? natural(v);
    }
    if (op.domain === '' && op.op === 'Split') {
      const s = splitSpec(mesh, op), k = op.outputs.indexOf(v), g = grids.get(op.inputs[0])!;
      const start = s ? s.sizes.slice(0, k).reduce((x, y) => x + y, 0) : 0;
      return (s && sliceTilePart(g, shape(op.inputs[0]), s.axis, start, start + s.sizes[k], shape(v))?.part) ?? natural(v);
    }
    if (op.domain === '' && op.op === 'Concat' && v === op.outputs[0]) {
      const g = grids.get(op.inputs[0])!, rank = shape(v).length;
      const a = attrInt(op.attrs, 'axis', 0), axis = a < 0 ? a + rank : a;
      const same = op.inputs.every((x) => x && sameGrid(grids.get(x)!, g) && sameShape(shape(x), shape(op.inputs[0])));
      return (same ? concatTilePart(g, shape(op.inputs[0]), axis, op.inputs.length, shape(v))?.whole : undefined) ?? natural(v);
    }
    return natural(v);
  }
}

const REDUCE_OPS = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax']);
const NORMS = new Set(['LayerNormalization', 'RMSNormalization']);

/** Whether a reduction keeps its reduced dims (as 1s): its result is then a broadcast operand's shape. */
function keepsDims(op: MeshOp): boolean {
  return attrInt(op.attrs, 'keepdims', 1) === 1;
}

/** Whether a Gather is an embedding lookup whose token ids can take the rows form. */
export function embeddingIds(mesh: MeshGraph, op: MeshOp, P: number): boolean {
  if (attrInt(op.attrs, 'axis', 0) !== 0) return false;
  const [tbl, ids] = op.inputs.map((v) => mesh.values.get(v)!);
  const out = mesh.values.get(op.outputs[0])!;
  if (tbl.type.shape.length !== 2 || blockForm(tbl.type.shape, P) !== 'block' || ids.mem !== 'i32') return false;
  return rowsFormFits(ids.type.shape, P) && blockForm(out.type.shape, P) === 'block' && matrixView(out.type.shape).rows === elems(ids.type.shape);
}
