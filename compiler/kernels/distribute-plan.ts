/**
 * The distributed plan: select-kernels' choice for a model too large for single-core ops. Every value
 * takes a grid on one P×P region at the mesh origin (kernels/grids.ts, assigned by
 * distribute-assign.ts) and every op a distributed kernel (kernels/distributed.ts); P is, of the
 * sides up to the mesh's for which every op has a kernel for the grids of its values, the one
 * replicating the fewest bytes on every core (the largest among equals).
 *
 * Rules, per op (a value's form — block, vec, col, rep, rows of kernels/blocks.ts — is its grid when
 * that is the form's natural grid, else "grid"):
 * - every value replicated → `dist.call` (each core computes the op redundantly);
 * - an elementwise op (ELEMENTWISE, or a fused chain of them) → `dist.call` on the tiles, when every
 *   operand's grid is the projection of the output's (the same tiles, or the broadcast part of them:
 *   a vec along the rows of a block, a col along its columns, a mask without the head dim on every
 *   head's cores) or the operand is one replicated value;
 * - Reshape / Squeeze / Unsqueeze / Flatten / Transpose whose output grid is the input's re-expressed
 *   (grids.ts: every Transpose, every Reshape with a common refinement) → `dist.view` (no copy: the
 *   output shares its input's tiles); Identity (a graph output's own copy) → `dist.copy`;
 * - ReduceSum / ReduceMean / ReduceMax of a block over the last axis with keepdims (a col result),
 *   or over all the leading axes (a vec result) → `dist.reduce`;
 * - Softmax over the last axis, when the last axis is the innermost of the columns (the cores of one
 *   row split into groups of Q = P / (the other column dims), one softmax row per group: attention's
 *   heads) → `dist.softmax`; LayerNormalization / RMSNormalization of f32 block / vec values over the
 *   last axis, scale and bias one row (or one value) → `dist.layernorm` / `dist.rmsnorm`;
 * - MatMul of a vec a (one row) by a 2-D block W → `gemv.<allreduce>` (dist-gemv.ts: MeshGEMV);
 * - MatMul A·B → `gemm.<algorithm>` (the algorithm forced by `--gemm` or the cheapest by the exact
 *   cost) when A's columns end in K and B is a block [K, N], or `gemm.transposed` when B's tiles are
 *   those of a block [N, K] (B a Transpose of it: Q·Kᵀ, A·Wᵀ); batched MatMul when the batch dims lead
 *   both A's rows and columns with nb batch parts each: each batch element on its own
 *   (P/nb)×(P/nb) sub-square (attention's batch × heads), the kernel scoped to it. GEMM kernels shift
 *   their operands in place, so an operand read later (or a graph output, or both operands one
 *   value) is first copied (`dist.copy` into `%v#gemm<k>`).
 * - Gather along axis 0 of a 2-D block table by token ids (a graph input or constant, which take
 *   the rows form) → `dist.gather` (dist-gather.ts);
 * - Gemm (transA = 0) is first expanded into MatMul (of Transpose(B) for transB), Mul by alpha and
 *   Add of beta·C (expandGemm), which the rules above take.
 * Anything else is W3008, naming the op and the grids it met.
 */
import { attrInt } from '../../ir/ops/util.js';
import { DiagnosticError, diag, type Diagnostic } from '../../ir/diagnostics.js';
import type { DimMap, Layout, LayoutGrid, MeshGraph, MeshOp } from '../../ir/mesh.js';
import type { Rect } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { ALLREDUCE_ALGORITHMS, type AllreduceAlgorithm } from './allreduce.js';
import { blockForm, blockLayout, type BlockForm } from './blocks.js';
import { distGemvCycles } from './dist-gemv.js';
import { assignGrids, isElementwise, isView, viewGrid } from './distribute-assign.js';
import { sliceSpec, splitSpec } from './distribute-demand.js';
import { expandGemm } from './distribute-gemm.js';
import { gemmCost, type GemmKernel } from './gemm-program.js';
import { concatTilePart, gridShape, isReplicated, lastDimOrder, matmulGrid, sliceTilePart, naturalGrid, permutes, projectGrid, refinedGroups, sameGrid } from './grids.js';

export type GemmChoice = 'meshgemm' | 'cannon' | 'summa' | 'auto';
export type AllreduceChoice = AllreduceAlgorithm | 'auto';

export interface DistributeOptions {
  gemm?: GemmChoice;
  allreduce?: AllreduceChoice;
  /** The largest side to consider. */
  maxSide?: number;
}

type Form = BlockForm | 'grid';
const REDUCE_FN: Record<string, string> = { ReduceSum: 'sum', ReduceMean: 'mean', ReduceMax: 'max' };
const FORMS: readonly BlockForm[] = ['rep', 'block', 'vec', 'col', 'rows'];

const elems = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** The form whose natural grid a grid is, else 'grid'. */
export function formOfGrid(g: LayoutGrid, shape: readonly number[], P: number): Form {
  if (isReplicated(g)) return permutes(g) ? 'grid' : 'rep';
  for (const f of FORMS) if (f !== 'rep' && sameGrid(g, naturalGrid(shape, f, P))) return f;
  return 'grid';
}


/** The axes a reduction reads: attribute (older opsets) or constant input 1; undefined when unknown. */
function reduceAxes(mesh: MeshGraph, op: MeshOp): number[] | undefined {
  const a = op.attrs.axes;
  if (a && a.kind === 'ints') return [...a.value];
  const v = op.inputs[1];
  if (!v) return undefined;
  const t = mesh.constants.get(v);
  return t ? Array.from(t.data as ArrayLike<number>, Number) : undefined;
}

/** Why an op has no distributed kernel for these grids, or its kernel and parameters. */
type Choice = { kernel: string; params: Record<string, number | string> } | { why: string };

interface Ctx {
  mesh: MeshGraph;
  grids: Map<string, LayoutGrid>;
  P: number;
  target: Target;
  o: DistributeOptions;
}

/** The refined dims of a value's grid, split into one shape dim's (`last` from the end) and the rest. */
function groupsOf(c: Ctx, v: string): number[][] | undefined {
  return refinedGroups(c.mesh.values.get(v)!.type.shape, c.grids.get(v)!.dims);
}

const full = (g: LayoutGrid, P: number) => g.y.mod === P && g.x.mod === P && g.y.div === 1 && g.x.div === 1;

/**
 * A GEMM's shape per sub-square, or why not. Batch dims (the leading dims of a batched MatMul) must
 * lead A's, B's and C's row and column lists alike, with as many batch parts in rows as in columns.
 */
function gemmShape(c: Ctx, op: MeshOp): { M: number; K: number; N: number; Q: number; transposed: boolean } | { why: string } {
  const [av, bv] = op.inputs, cv = op.outputs[0];
  const shape = (v: string) => c.mesh.values.get(v)!.type.shape;
  const [ga, gb, gc] = [av, bv, cv].map((v) => c.grids.get(v)!);
  const [sa, sb, sc] = [av, bv, cv].map(shape);
  if (![ga, gb, gc].every((g) => full(g, c.P))) return { why: 'its operands are not split over every core' };
  const batched = sb.length > 2;
  if (batched && (sa.length !== sb.length || sa.slice(0, -2).some((d, i) => d !== sb[i]))) return { why: `its batch dims ${fmt(sa.slice(0, -2))} and ${fmt(sb.slice(0, -2))} differ (broadcast batches have no kernel)` };
  if (!batched && sb.length !== 2) return { why: 'B is not a matrix' };
  const [A, B] = [groupsOf(c, av), groupsOf(c, bv)];
  if (!A || !B) return { why: 'internal: a grid does not refine its shape' };
  const nBatch = batched ? sa.length - 2 : 0;
  // A: rows = batch dims then M dims; cols = batch dims then K's dims in order.
  const split = (g: LayoutGrid, groups: number[][], lastTwo: [number[], number[]]) => {
    const batch = new Set(groups.slice(0, nBatch).flat());
    // A batch part is named by its shape dim, its size and its stride within that dim, so that A's,
    // B's and C's sub-squares hold the same batch element (not just parts of equal sizes).
    const name = (d: number) => {
      const k = groups.findIndex((gr) => gr.includes(d));
      const inner = groups[k].filter((e) => e > d).reduce((p, e) => p * g.dims[e], 1);
      return `${k}:${g.dims[d]}:${inner}`;
    };
    const part = (list: number[]) => {
      const k = list.findIndex((d) => !batch.has(d));
      const head = k < 0 ? list : list.slice(0, k), tail = k < 0 ? [] : list.slice(k);
      const real = head.filter((d) => g.dims[d] !== 1);
      return tail.some((d) => batch.has(d)) ? undefined : { batch: real.map((d) => g.dims[d]), names: real.map(name).join(','), rest: tail.filter((d) => g.dims[d] !== 1) };
    };
    const rows = part(g.perm.slice(0, g.rows)), cols = part(g.perm.slice(g.rows));
    if (!rows || !cols) return undefined;
    const real = (group: number[]) => group.filter((d) => g.dims[d] !== 1);
    // Each list holds one dim's parts in any order; the order is the matrix's (C's columns follow N's;
    // K's must agree between A and B).
    const anyOrder = (list: number[], group: number[]) => { const gr = real(group); return list.length === gr.length && gr.every((d) => list.includes(d)); };
    // A dim's column order, canonical: parts consecutive in both the data and the list merged.
    const order = (list: number[], group: number[]) => {
      const gr = real(group);
      const idx = list.map((d) => gr.indexOf(d));
      const runs: number[][] = [];
      for (const i of idx) { const r = runs[runs.length - 1]; if (r && r[r.length - 1] === i - 1) r.push(i); else runs.push([i]); }
      const starts = runs.map((r) => r[0]).sort((x, y) => x - y);
      const size = (r: number[]) => r.reduce((p, i) => p * g.dims[gr[i]], 1);
      const bySize = starts.map((st) => size(runs.find((r) => r[0] === st)!));
      return `${bySize.join(',')}|${runs.map((r) => starts.indexOf(r[0])).join(',')}`;
    };
    const first = anyOrder(rows.rest, lastTwo[0]) && anyOrder(cols.rest, lastTwo[1]);
    const swapped = anyOrder(rows.rest, lastTwo[1]) && anyOrder(cols.rest, lastTwo[0]);
    return { rows, cols, first, swapped, rowOrder: order(rows.rest, first ? lastTwo[0] : lastTwo[1]), colOrder: order(cols.rest, first ? lastTwo[1] : lastTwo[0]) };
  };
  const lead = batched ? A.slice(nBatch, -1).flat() : A.slice(0, -1).flat();
  const a = split(ga, A, [lead, A[A.length - 1]]);
  if (!a) return { why: 'A\'s batch dims do not lead its rows and columns' };
  if (!a.first) return { why: 'A\'s columns do not end in its K dim' };
  const nb = elems(a.rows.batch);
  if (nb !== elems(a.cols.batch) || c.P % nb !== 0) return { why: `its batch splits into ${elems(a.rows.batch)} row parts and ${elems(a.cols.batch)} column parts of ${c.P} cores (batched GEMMs run on square sub-squares)` };
  const b = split(gb, B, [B[B.length - 2], B[B.length - 1]]);
  const same = (p: number[], q: number[]) => p.length === q.length && p.every((x, i) => x === q[i]);
  if (!b || !same(b.rows.batch, a.rows.batch) || !same(b.cols.batch, a.cols.batch) || b.rows.names !== a.rows.names || b.cols.names !== a.cols.names) return { why: 'B\'s batch dims are not laid out as A\'s' };
  if (!b.first && !b.swapped) return { why: 'B is neither a block [K, N] nor the tiles of a block [N, K] on each sub-square' };
  if ((b.first ? b.rowOrder : b.colOrder) !== a.colOrder) return { why: 'A and B order the parts of K differently' };
  const expected = matmulGrid(ga, sa, sc, lastDimOrder(gb, sb));
  if (!expected || !sameGrid(expected, gc)) return { why: 'internal: the result\'s grid is not the one A gives' };
  const K = sa[sa.length - 1], N = sc[sc.length - 1];
  const M = elems(sa.slice(nBatch, -1));
  return { M, K, N, Q: c.P / nb, transposed: !b.first };
}

function chooseMatMul(c: Ctx, op: MeshOp, form: (v: string) => Form): Choice {
  const val = (v: string) => c.mesh.values.get(v)!;
  const [a, b] = op.inputs.map(val);
  const out = val(op.outputs[0]);
  const types = new Set([a.mem, b.mem, out.mem]);
  // f16 operands may accumulate into an f32 result (an expanded f16 Gemm rounds once, later).
  const widened = a.mem === 'f16' && b.mem === 'f16' && out.mem === 'f32';
  if (!widened && (types.size !== 1 || !(a.mem === 'f32' || a.mem === 'f16'))) return { why: `its operands are ${[a.mem, b.mem, out.mem].join(', ')} in SRAM; a GEMM needs one float type` };
  // B a [K, N] block, its N parts in any order (the result's columns follow them: RoPE's order).
  const gb = c.grids.get(op.inputs[1])!;
  const bRowsK = b.type.shape.length === 2 && full(gb, c.P) && gb.perm.slice(0, gb.rows).filter((d) => gb.dims[d] !== 1).map((d) => gb.dims[d]).join() === `${b.type.shape[0]}`;
  const gemvOut = matmulGrid(c.grids.get(op.inputs[0])!, a.type.shape, out.type.shape, lastDimOrder(gb, b.type.shape));
  const legacy = form(op.outputs[0]) === 'vec' && form(op.inputs[1]) === 'block'; // a 1-D vector too
  if (form(op.inputs[0]) === 'vec' && bRowsK && (legacy || (!!gemvOut && sameGrid(gemvOut, c.grids.get(op.outputs[0])!)))) {
    // A vector times a matrix: MeshGEMV (the decode step).
    const [K, N] = b.type.shape;
    const algorithms = !c.o.allreduce || c.o.allreduce === 'auto' ? ALLREDUCE_ALGORITHMS : [c.o.allreduce];
    let best: { a: AllreduceAlgorithm; cycles: number } | undefined;
    for (const al of algorithms) {
      const cycles = distGemvCycles(c.target, { K, N, P: c.P, type: a.mem as 'f32' | 'f16', ...(widened ? { out: 'f32' as const } : {}) }, al);
      if (!best || cycles < best.cycles) best = { a: al, cycles };
    }
    return { kernel: `gemv.${best!.a}`, params: { K, N, cycles: best!.cycles, choice: c.o.allreduce ?? 'auto' } };
  }
  const s = gemmShape(c, op);
  if ('why' in s) return { why: `A is ${form(op.inputs[0])}, B ${form(op.inputs[1])}, the result ${form(op.outputs[0])}: ${s.why}` };
  const sub: Record<string, number> = s.Q < c.P ? { sub: s.Q } : {};
  if (s.transposed) return { kernel: 'gemm.transposed', params: { ...gemmParams('transposed', s.M, s.K, s.N, s.Q, a.mem, c.target), ...sub } };
  const kernels: GemmKernel[] = !c.o.gemm || c.o.gemm === 'auto' ? ['meshgemm', 'cannon', 'summa'] : [c.o.gemm];
  let best: { k: GemmKernel; cycles: number } | undefined;
  for (const k of kernels) {
    const cycles = gemmCost(k, { M: s.M, K: s.K, N: s.N, P: s.Q, type: a.mem as 'f32' | 'f16', ...(a.mem === 'f16' ? { acc: 'f32' as const } : {}) }, c.target).cycles;
    if (!best || cycles < best.cycles) best = { k, cycles };
  }
  return { kernel: `gemm.${best!.k}`, params: { ...gemmParams(best!.k, s.M, s.K, s.N, s.Q, a.mem, c.target), choice: c.o.gemm ?? 'auto', ...sub } };
}

/** Softmax over the last axis: the axis' dims innermost in the columns; Q cores per softmax row. */
function softmaxGroup(c: Ctx, v: string): number | undefined {
  const g = c.grids.get(v)!;
  const groups = groupsOf(c, v);
  if (!groups || g.x.mod !== c.P || g.x.div !== 1) return undefined;
  const last = groups[groups.length - 1].filter((d) => g.dims[d] !== 1);
  const cols = g.perm.slice(g.rows).filter((d) => g.dims[d] !== 1);
  if (cols.length < last.length) return undefined; // part of the axis lies in the rows
  // The axis' parts innermost, in any order (a row's values are reduced whatever their order).
  const tail = cols.slice(cols.length - last.length);
  if (!last.every((d) => tail.includes(d))) return undefined;
  const outer = elems(cols.slice(0, cols.length - last.length).map((d) => g.dims[d]));
  return c.P % outer === 0 ? c.P / outer : undefined;
}

function choose(c: Ctx, op: MeshOp): Choice {
  const { mesh, P, o } = c;
  const val = (v: string) => mesh.values.get(v)!;
  const form = (v: string) => formOfGrid(c.grids.get(v)!, val(v).type.shape, P);
  const ins = op.inputs.filter(Boolean);
  const outs = op.outputs.filter(Boolean);
  if ([...ins, ...outs].every((v) => form(v) === 'rep')) return { kernel: 'dist.call', params: {} };
  if (op.domain === '' && op.op === 'MatMul' && ins.length === 2) return chooseMatMul(c, op, form);
  const out = op.outputs[0];
  const outForm = form(out);
  const oshape = val(out).type.shape;
  if (isElementwise(op)) {
    const g = c.grids.get(out)!;
    for (const v of ins) {
      const s = val(v).type.shape;
      const want = projectGrid(g, oshape, s);
      const ok = form(v) === 'rep' && elems(s) === 1 ? true : !!want && sameGrid(c.grids.get(v)!, want);
      if (!ok) return { why: `input '%${v}' (${form(v)} ${fmt(s)}) is not laid out as the part of the ${outForm} output ${fmt(oshape)} each core computes` };
    }
    return { kernel: 'dist.call', params: {} };
  }
  if (op.domain !== '' ) return { why: 'no distributed kernel for this domain' };
  if (isView(op)) {
    const x = val(op.inputs[0]), y = val(out);
    const gi = c.grids.get(op.inputs[0])!, go = c.grids.get(out)!;
    const want = viewGrid(op, gi, x.type.shape, y.type.shape, false);
    if (x.mem === y.mem && want && sameGrid(want, go)) return { kernel: op.op === 'Identity' ? 'dist.copy' : 'dist.view', params: {} };
    const [r0, c0] = gridShape(gi), [r1, c1] = gridShape(go);
    return { why: `its output is not its input's tiles re-expressed ([${r0},${c0}] → [${r1},${c1}]); that redistribution has no kernel yet` };
  }
  if (op.op === 'Gather' && form(op.inputs[1]) === 'rows') {
    if (form(op.inputs[0]) !== 'block' || outForm !== 'block' || val(op.inputs[0]).mem !== val(out).mem) return { why: 'an embedding Gather needs a 2-D block table and a block result of its type' };
    return { kernel: 'dist.gather', params: {} };
  }
  if (op.op === 'Slice') {
    const s = sliceSpec(mesh, op);
    const t = s && sliceTilePart(c.grids.get(op.inputs[0])!, val(op.inputs[0]).type.shape, s.axis, s.start, s.end, oshape);
    if (!t || !sameGrid(t.part, c.grids.get(out)!) || val(op.inputs[0]).mem !== val(out).mem) return { why: 'only a Slice of one index of a dim part inside every tile (one half of RoPE\'s last axis in its column order) has a distributed kernel' };
    return { kernel: 'dist.slice', params: { outer: t.outer, count: t.count, inner: t.inner, index: t.index } };
  }
  if (op.op === 'Split') {
    const s = splitSpec(mesh, op);
    const g = c.grids.get(op.inputs[0])!, shape = val(op.inputs[0]).type.shape;
    let start = 0, params: Record<string, number> | undefined;
    for (const [k, v] of op.outputs.entries()) {
      const t = s && v ? sliceTilePart(g, shape, s.axis, start, start + s.sizes[k], val(v).type.shape) : undefined;
      if (!t || t.count !== op.outputs.length || t.index !== k || !sameGrid(t.part, c.grids.get(v)!) || val(v).mem !== val(op.inputs[0]).mem) { params = undefined; break; }
      params = { outer: t.outer, count: t.count, inner: t.inner };
      start += s!.sizes[k];
    }
    if (!params) return { why: 'only a Split into the parts of a dim part inside every tile has a distributed kernel' };
    return { kernel: 'dist.split', params };
  }
  if (op.op === 'Concat') {
    const g = c.grids.get(op.inputs[0])!, r = oshape.length;
    const a = attrInt(op.attrs, 'axis', 0), axis = a < 0 ? a + r : a;
    const same = ins.every((x) => sameGrid(c.grids.get(x)!, g) && val(x).mem === val(out).mem && val(x).type.shape.every((d, i) => d === val(op.inputs[0]).type.shape[i]));
    const t = same ? concatTilePart(g, val(op.inputs[0]).type.shape, axis, ins.length, oshape) : undefined;
    if (!t || !sameGrid(t.whole, c.grids.get(out)!)) return { why: 'only a Concat of equal values along a new dim part inside every tile has a distributed kernel' };
    return { kernel: 'dist.concat', params: { outer: t.outer, count: t.count, inner: t.inner } };
  }
  const rank = val(op.inputs[0]).type.shape.length;
  const rowwise = (v: string) => form(v) === 'block' || form(v) === 'vec';
  const isLast = (a: number) => a === -1 || a === rank - 1;
  if (REDUCE_FN[op.op]) {
    const axes = reduceAxes(mesh, op)?.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    const sameMem = val(op.inputs[0]).mem === val(out).mem && val(op.inputs[0]).mem !== 'i32';
    const same = sameMem && form(op.inputs[0]) === 'block';
    // Over the last axis (keepdims): one value per row, a col value (of a vec: one value, replicated);
    // over every leading axis: one value per column, a vec value.
    // Of any grid whose last axis is innermost in the columns: per softmax-like group of Q cores
    // (attention's heads), the result the projection of the input's grid (a col of a block).
    const q = softmaxGroup(c, op.inputs[0]);
    const want = projectGrid(c.grids.get(op.inputs[0])!, val(op.inputs[0]).type.shape, oshape);
    const lastOk = (sameMem && q !== undefined && !!want && sameGrid(want, c.grids.get(out)!)) || (sameMem && form(op.inputs[0]) === 'vec' && outForm === 'rep');
    if (lastOk && axes && axes.length === 1 && axes[0] === rank - 1 && attrInt(op.attrs, 'keepdims', 1) === 1) {
      return { kernel: 'dist.reduce', params: { fn: REDUCE_FN[op.op], axis: 'cols', allreduce: o.allreduce ?? 'auto', ...(q !== undefined && q < P ? { sub: q } : {}) } };
    }
    if (same && axes && axes.length === rank - 1 && axes.every((a, i) => a === i) && outForm === 'vec') {
      return { kernel: 'dist.reduce', params: { fn: REDUCE_FN[op.op], axis: 'rows', allreduce: o.allreduce ?? 'auto' } };
    }
    return { why: 'only a reduction of a float block value over its last axis (keepdims) or over all its leading axes has a distributed kernel' };
  }
  if (op.op === 'LayerNormalization' || op.op === 'RMSNormalization') {
    // Over the last axis of any grid whose last axis is innermost in the columns (per head when the
    // other column dims split the core rows into groups of Q), scale and bias laid out as the part
    // of one row each core reads (or one value).
    const axis = attrInt(op.attrs, 'axis', -1);
    const x = val(op.inputs[0]);
    const gx = c.grids.get(op.inputs[0])!;
    const q = softmaxGroup(c, op.inputs[0]);
    if (q === undefined || !sameGrid(gx, c.grids.get(out)!) || !isLast(axis) || x.mem !== 'f32' || val(out).mem !== 'f32' || outs.length !== 1 || op.outputs.slice(1).some(Boolean)) {
      return { why: `only a normalization of an f32 value over its last axis (innermost in the columns), with no Mean / InvStdDev outputs, has a distributed kernel` };
    }
    const C = x.type.shape[x.type.shape.length - 1];
    for (const v of op.inputs.slice(1).filter(Boolean)) {
      const s = val(v).type.shape;
      const want = projectGrid(gx, x.type.shape, s);
      const ok = val(v).mem === 'f32' && ((elems(s) === C && s[s.length - 1] === C && !!want && sameGrid(want, c.grids.get(v)!)) || (form(v) === 'rep' && elems(s) === 1));
      if (!ok) return { why: `its scale / bias '%${v}' (${form(v)} ${fmt(s)}) is not one row of ${C} values (or one value) in f32, laid out as the rows it scales` };
    }
    return { kernel: op.op === 'LayerNormalization' ? 'dist.layernorm' : 'dist.rmsnorm', params: { allreduce: o.allreduce ?? 'auto', ...(q < P ? { sub: q } : {}) } };
  }
  if (op.op === 'Softmax') {
    // Before opset 13 the axis defaults to 1 and the input is flattened from it: the last axis only
    // when it is the last axis.
    const axis = attrInt(op.attrs, 'axis', mesh.opset >= 13 ? -1 : 1);
    const q = softmaxGroup(c, op.inputs[0]);
    const ok = isLast(axis) && q !== undefined && val(op.inputs[0]).mem === val(out).mem && sameGrid(c.grids.get(op.inputs[0])!, c.grids.get(out)!) && c.grids.get(out)!.x.mod === P;
    if (!ok) return { why: 'only a Softmax over the last axis, with that axis innermost in the columns of every core row, has a distributed kernel' };
    return { kernel: 'dist.softmax', params: { allreduce: o.allreduce ?? 'auto', ...(q! < P ? { sub: q! } : {}) } };
  }
  return { why: `no distributed kernel for ${op.op} on ${ins.map((v) => form(v)).join(', ')} values` };
}

function gemmParams(k: GemmKernel, M: number, K: number, N: number, P: number, type: string, target: Target): Record<string, number | string> {
  const acc = type === 'f16' ? { acc: 'f32' as const } : {};
  const cost = gemmCost(k, { M, K, N, P, type: type as 'f32' | 'f16', ...acc }, target);
  return { M, K, N, cycles: cost.cycles };
}

/** The mesh IR layout of a value: the grid, with `dims`/`tile` summarising it for the legacy forms. */
function layoutOf(shape: readonly number[], g: LayoutGrid, P: number, rect: Rect): Layout {
  const f = formOfGrid(g, shape, P);
  const summary: Layout = f !== 'grid' && (f !== 'block' || blockForm(shape, P) === 'block') && (f !== 'col' || blockForm(shape, P) === 'col')
    ? blockLayout(shape, f, rect)
    : { region: { ...rect }, dims: shape.map((): DimMap => 'r'), tile: [...shape] };
  return { ...summary, grid: g };
}

/** Plans the distributed program on a P×P region; throws W3008 for an op with no kernel. */
export function planOnSide(mesh: MeshGraph, target: Target, P: number, o: DistributeOptions = {}): MeshGraph {
  const rect: Rect = { x: 0, y: 0, width: P, height: P };
  const grids = assignGrids(mesh, P);
  // A value that does not split over P is replicated on every core: only small ones may be.
  const capacity = target.sram.bytesPerCore;
  for (const [name, v] of mesh.values) {
    const bytes = elems(v.type.shape) * (v.mem === 'f16' ? 2 : 4);
    if (isReplicated(grids.get(name)!) && bytes > capacity / 8) {
      throw diag('W3008', `value '%${name}' ${fmt(v.type.shape)} does not split over ${P}×${P} cores (its sizes are not multiples of ${P}) and is too large (${bytes} B) to replicate on every core`,
        `value '%${name}'`, 'choose a mesh whose side divides the tensor sizes');
    }
  }
  const c: Ctx = { mesh, grids, P, target, o };
  const out: MeshGraph = { ...mesh, values: new Map(), ops: [] };
  for (const [name, v] of mesh.values) out.values.set(name, { ...v, layout: layoutOf(v.type.shape, grids.get(name)!, P, rect) });
  const chosen: { op: MeshOp; kernel: string; params: Record<string, number | string>; inputs: string[] }[] = [];
  for (const op of mesh.ops) {
    const ch = choose(c, op);
    if ('why' in ch) {
      throw diag('W3008', `op '${op.name}' (${op.op}) has no distributed kernel on ${P}×${P} cores: ${ch.why}`, `op '${op.name}'`,
        'a model whose ops do not fit single cores runs only if every op has a distributed kernel (docs/compiler.md, "Distributed mode")');
    }
    const inputs = ['dist.view', 'dist.copy', 'dist.reduce', 'dist.slice', 'dist.split'].includes(ch.kernel) ? [op.inputs[0]] : op.inputs;
    chosen.push({ op, kernel: ch.kernel, params: ch.params, inputs });
  }
  // GEMM operands read again later (or graph outputs, or both operands one value) are copied first —
  // counting every view of the same storage (dist.view outputs share their input's tiles).
  const root = new Map<string, string>();
  for (const ch of chosen) if (ch.kernel === 'dist.view') root.set(ch.op.outputs[0], root.get(ch.inputs[0]) ?? ch.inputs[0]);
  const storage = (v: string) => root.get(v) ?? v;
  const lastRead = new Map<string, number>();
  chosen.forEach((ch, i) => ch.inputs.forEach((v) => v && lastRead.set(storage(v), i)));
  const outputs = new Set(mesh.outputs.map(storage));
  let copies = 0;
  chosen.forEach((ch, i) => {
    if (ch.kernel.startsWith('gemm.')) {
      ch.inputs = ch.inputs.map((v, k) => {
        const again = (lastRead.get(storage(v)) ?? i) > i || outputs.has(storage(v)) || (k === 1 && storage(ch.inputs[0]) === storage(v));
        if (!again) return v;
        const copy = `${v}#gemm${copies++}`;
        out.values.set(copy, { ...out.values.get(v)! });
        out.ops.push({ name: `${ch.op.name}/copy${k}`, kernel: 'dist.copy', op: 'Identity', domain: '', attrs: {}, inputs: [v], outputs: [copy], region: { ...rect }, params: {} });
        return copy;
      });
    }
    out.ops.push({ ...ch.op, kernel: ch.kernel, inputs: ch.inputs, region: { ...rect }, params: ch.params });
  });
  return out;
}

/** Bytes every core holds for values replicated whole (that a kernel reads or writes: a Reshape's shape is not stored). */
function replicatedBytes(plan: MeshGraph): number {
  const stored = new Set([...plan.ops.flatMap((op) => [...op.inputs, ...op.outputs]), ...plan.outputs]);
  let bytes = 0;
  for (const [name, v] of plan.values) {
    if (stored.has(name) && v.layout.grid && isReplicated(v.layout.grid)) bytes += v.type.shape.reduce((a, b) => a * b, 1) * (v.mem === 'f16' ? 2 : 4);
  }
  return bytes;
}

/**
 * The distributed plan: of the square sides (up to the mesh's) for which every op has a kernel, the
 * one replicating the fewest bytes on every core, the largest among equals (W3008 of the full side
 * when none works).
 */
export function planDistributed(mesh0: MeshGraph, target: Target, o: DistributeOptions = {}): MeshGraph {
  const mesh = expandGemm(mesh0);
  const max = Math.min(target.width, target.height, o.maxSide ?? Infinity);
  let first: Diagnostic[] | undefined;
  let best: { plan: MeshGraph; rep: number } | undefined;
  for (let P = max; P >= 2; P--) {
    try {
      const plan = planOnSide(mesh, target, P, o);
      const rep = replicatedBytes(plan);
      if (!best || rep < best.rep) best = { plan, rep };
      if (rep === 0) break; // nothing replicated: no smaller side does better
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      first ??= e.diagnostics;
    }
  }
  if (best) return best.plan;
  throw new DiagnosticError(first ?? [{ code: 'W3008', message: `a distributed program needs a mesh of at least 2×2 cores; ${target.name} is ${target.width}×${target.height}` }]);
}
