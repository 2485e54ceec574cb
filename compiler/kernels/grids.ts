/**
 * Layout grids of the distributed back end (ir/mesh.ts `LayoutGrid`): every value of a distributed
 * program is a 2-D matrix of tiles over the P×P region — its data reshaped to refined dims, permuted,
 * split into matrix rows (along y) and columns (along x). This file is the algebra on them:
 *
 * - `naturalGrid`: the forms of kernels/blocks.ts (block, vec, col, rep, rows) as grids;
 * - `transposeGrid` / `reshapeGrid`: the grid of a Transpose or Reshape over the same tiles, so every
 *   Transpose, and every Reshape whose dims have a common refinement with the input's, is a view:
 *   attention's [2,1024,1024] → [2,1024,2,512] → [2,2,1024,512] (batch, head, seq, dim) keeps the
 *   tiles of the GEMM that computed it (rows (batch, seq), columns (head, dim));
 * - `projectGrid`: the grid a broadcast operand of an elementwise op needs so that each core holds
 *   exactly the part of it that the core's output tile reads (replicated where its tile coordinate
 *   repeats: a mask without the head dim, a RoPE table without batch and head);
 * - `tileExtents`: a tile as an N-D box over the permuted refined dims, the shape a `call` sees, with
 *   each broadcast operand's box aligned to its output's.
 *
 * Refined dims are normalised: a shape dim of 1 is one refined dim of 1, other shape dims are
 * products of refined dims > 1, and size-1 dims carry no data (they may sit anywhere in the perm).
 */
import { gridMatrix, type GridAxis, type LayoutGrid } from '../../ir/mesh.js';
import type { Expr } from '../../ir/program.js';
import { X, Y, and, div, eq, lt, mod } from '../../ir/program-builder.js';
import type { BlockForm } from './blocks.js';

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
const ONE: GridAxis = { div: 1, mod: 1 };

/** A form of kernels/blocks.ts as a grid on a P×P region. */
export function naturalGrid(shape: readonly number[], form: BlockForm, P: number): LayoutGrid {
  const rank = shape.length;
  const perm = shape.map((_, i) => i);
  const base = { dims: [...shape], perm };
  const split: GridAxis = { div: 1, mod: P };
  switch (form) {
    case 'block': return { ...base, rows: rank - 1, y: split, x: split };
    case 'vec': return { ...base, rows: rank - 1, y: ONE, x: split };
    case 'col': return { ...base, rows: rank - 1, y: split, x: ONE };
    case 'rows': return { ...base, rows: rank, y: split, x: ONE };
    case 'rep': return { ...base, rows: Math.max(rank - 1, 0), y: ONE, x: ONE };
  }
}

/** Every core holds the whole tensor. */
export const isReplicated = (g: LayoutGrid): boolean => g.y.mod === 1 && g.x.mod === 1;

/** The refined dims of each shape dim (consecutive indices), or undefined when `dims` does not refine `shape`. */
export function refinedGroups(shape: readonly number[], dims: readonly number[]): number[][] | undefined {
  const groups: number[][] = [];
  let i = 0;
  for (const s of shape) {
    const g: number[] = [];
    if (s === 1) {
      if (dims[i] !== 1) return undefined;
      g.push(i++);
    } else {
      let p = 1;
      while (p < s && i < dims.length) { if (dims[i] === 1) return undefined; p *= dims[i]; g.push(i++); }
      if (p !== s) return undefined;
    }
    groups.push(g);
  }
  return i === dims.length ? groups : undefined;
}

/**
 * The grid re-expressed on `shape` (whose non-1 dims the grid's non-1 dims refine): size-1 dims
 * dropped, the shape's own 1s added at the end of the row dims (where they change nothing).
 */
export function normalizeGrid(g: LayoutGrid, shape: readonly number[]): LayoutGrid | undefined {
  const keep: number[] = [];
  g.dims.forEach((d, i) => { if (d !== 1) keep.push(i); });
  const dims: number[] = [];
  const index = new Map<number, number>();
  const ones: number[] = [];
  let k = 0;
  for (const s of shape) {
    if (s === 1) { ones.push(dims.length); dims.push(1); continue; }
    let p = 1;
    while (p < s && k < keep.length) { index.set(keep[k], dims.length); dims.push(g.dims[keep[k]]); p *= g.dims[keep[k]]; k++; }
    if (p !== s) return undefined;
  }
  if (k !== keep.length) return undefined;
  const rowsPart = g.perm.slice(0, g.rows).filter((d) => index.has(d)).map((d) => index.get(d)!);
  const colsPart = g.perm.slice(g.rows).filter((d) => index.has(d)).map((d) => index.get(d)!);
  return { dims, perm: [...rowsPart, ...ones, ...colsPart], rows: rowsPart.length + ones.length, y: { ...g.y }, x: { ...g.x } };
}

/** The grid without its size-1 dims: what decides the tiles. */
function essence(g: LayoutGrid): { dims: number[]; perm: number[]; rows: number } {
  const index = new Map<number, number>();
  const dims: number[] = [];
  g.dims.forEach((d, i) => { if (d !== 1) { index.set(i, dims.length); dims.push(d); } });
  const perm = g.perm.filter((d) => index.has(d)).map((d) => index.get(d)!);
  return { dims, perm, rows: g.perm.slice(0, g.rows).filter((d) => index.has(d)).length };
}

/** The essence with runs of dims consecutive in both the data and the matrix merged: one form per tiling. */
function canonical(g: LayoutGrid): { dims: number[]; perm: number[]; rows: number } {
  const e = essence(g);
  // Runs in perm order: d followed by d + 1 in the same list merge into d.
  const head = new Map<number, number>(); // refined dim → the run it starts (merged size)
  const merged = new Set<number>();
  for (let i = 0; i < e.perm.length; i++) {
    const d = e.perm[i];
    if (i > 0 && i !== e.rows && e.perm[i - 1] === d - 1) { merged.add(d); continue; }
    head.set(d, d);
  }
  const size = new Map<number, number>();
  for (let i = 0; i < e.perm.length; i++) {
    const d = e.perm[i];
    let h = d;
    while (merged.has(h)) h--;
    size.set(h, (size.get(h) ?? 1) * e.dims[d]);
  }
  const starts = [...head.keys()].sort((a, b) => a - b);
  const index = new Map(starts.map((d, i) => [d, i]));
  const perm = e.perm.filter((d) => head.has(d)).map((d) => index.get(d)!);
  const rows = e.perm.slice(0, e.rows).filter((d) => head.has(d)).length;
  return { dims: starts.map((d) => size.get(d)!), perm, rows };
}

/** Whether two grids give every core the same tile (size-1 dims and refinements aside). */
export function sameGrid(a: LayoutGrid, b: LayoutGrid): boolean {
  const p = canonical(a), q = canonical(b);
  const eqs = (u: number[], v: number[]) => u.length === v.length && u.every((x, i) => x === v[i]);
  const ax = (u: GridAxis, v: GridAxis) => u.mod === v.mod && (u.mod === 1 || u.div === v.div);
  return eqs(p.dims, q.dims) && eqs(p.perm, q.perm) && p.rows === q.rows && ax(a.y, b.y) && ax(a.x, b.x);
}

/** The grid of Transpose(perm) of a value with grid g and shape `shape`: the same tiles. */
export function transposeGrid(g: LayoutGrid, shape: readonly number[], perm: readonly number[]): LayoutGrid | undefined {
  const groups = refinedGroups(shape, g.dims);
  if (!groups || perm.length !== shape.length) return undefined;
  const index = new Map<number, number>();
  const dims: number[] = [];
  for (const p of perm) for (const d of groups[p]) { index.set(d, dims.length); dims.push(g.dims[d]); }
  return { dims, perm: g.perm.map((d) => index.get(d)!), rows: g.rows, y: { ...g.y }, x: { ...g.x } };
}

/**
 * The grid of a Reshape of a value with grid g from `from` to `to`: the common refinement of the
 * grid's dims and the new shape (a refined dim splits into consecutive parts, which keeps the
 * matrix), or undefined when there is none (a dim of 6 read as 4·…).
 */
export function reshapeGrid(g: LayoutGrid, from: readonly number[], to: readonly number[]): LayoutGrid | undefined {
  if (!refinedGroups(from, g.dims)) return undefined;
  const old: number[] = [];
  g.dims.forEach((d, i) => { if (d !== 1) old.push(i); });
  const target = to.filter((s) => s !== 1);
  if (target.some((s) => s === 0)) return undefined;
  const parts = new Map<number, number[]>(old.map((i) => [i, []]));
  let i = 0, j = 0;
  let ra = g.dims[old[0]] ?? 1, rb = target[0] ?? 1;
  while (i < old.length && j < target.length) {
    if (ra === rb) { parts.get(old[i])!.push(ra); i++; j++; ra = g.dims[old[i]] ?? 1; rb = target[j] ?? 1; }
    else if (rb % ra === 0) { parts.get(old[i])!.push(ra); rb /= ra; i++; ra = g.dims[old[i]] ?? 1; }
    else if (ra % rb === 0) { parts.get(old[i])!.push(rb); ra /= rb; j++; rb = target[j] ?? 1; }
    else return undefined;
  }
  if (i !== old.length || j !== target.length) return undefined;
  const dims: number[] = [];
  const first = new Map<number, number>();
  for (const o of old) { first.set(o, dims.length); dims.push(...parts.get(o)!); }
  const expand = (d: number) => parts.get(d)!.map((_, k) => first.get(d)! + k);
  const rowsPart = g.perm.slice(0, g.rows).filter((d) => parts.has(d)).flatMap(expand);
  const colsPart = g.perm.slice(g.rows).filter((d) => parts.has(d)).flatMap(expand);
  return normalizeGrid({ dims, perm: [...rowsPart, ...colsPart], rows: rowsPart.length, y: g.y, x: g.x }, to);
}

/** One axis of a grid split into the dims that vary across cores (outer) and those within a tile. */
interface AxisSplit {
  /** Outer dims, major first: refined index and the part of its size that varies across cores. */
  outer: { dim: number; size: number }[];
  /** Per refined dim of the axis: its extent within one tile. */
  extent: Map<number, number>;
}

function splitAxis(g: LayoutGrid, list: readonly number[], ax: GridAxis): AxisSplit | undefined {
  const total = prod(list.map((d) => g.dims[d]));
  if (total % ax.mod !== 0) return undefined;
  let rem = total / ax.mod;
  const outer: { dim: number; size: number }[] = [];
  const extent = new Map<number, number>();
  for (let k = list.length - 1; k >= 0; k--) {
    const n = g.dims[list[k]];
    if (rem % n === 0) { extent.set(list[k], n); rem /= n; continue; }
    if (rem > 1) {
      if (n % rem !== 0) return undefined;
      extent.set(list[k], rem);
      outer.unshift({ dim: list[k], size: n / rem });
      rem = 1;
    } else {
      extent.set(list[k], 1);
      outer.unshift({ dim: list[k], size: n });
    }
  }
  return { outer, extent };
}

const rowList = (g: LayoutGrid) => g.perm.slice(0, g.rows);
const colList = (g: LayoutGrid) => g.perm.slice(g.rows);

/** A tile as an N-D box over the permuted refined dims (rows then columns). */
export function tileExtents(g: LayoutGrid): number[] | undefined {
  const r = splitAxis(g, rowList(g), g.y), c = splitAxis(g, colList(g), g.x);
  if (!r || !c) return undefined;
  return g.perm.map((d) => (r.extent.get(d) ?? c.extent.get(d))!);
}

/** Which refined dims of an output's grid a broadcast operand of shape `opShape` keeps. */
function keptDims(out: LayoutGrid, outShape: readonly number[], opShape: readonly number[]): boolean[] | undefined {
  const groups = refinedGroups(outShape, out.dims);
  if (!groups || opShape.length > outShape.length) return undefined;
  const keep = out.dims.map(() => false);
  const lead = outShape.length - opShape.length;
  for (let i = 0; i < outShape.length; i++) {
    if (i < lead) continue;
    const s = opShape[i - lead];
    if (s === outShape[i]) for (const d of groups[i]) keep[d] = true;
    else if (s !== 1) return undefined;
  }
  return keep;
}

/** The operand's axis: its outer dims must be one run of the output's (else no (c div d) mod m form). */
function projectAxis(split: AxisSplit, keep: readonly boolean[], ax: GridAxis): GridAxis | undefined {
  const outer = split.outer.filter((o) => o.size > 1);
  const kept = outer.map((o) => keep[o.dim]);
  const first = kept.indexOf(true), last = kept.lastIndexOf(true);
  if (first < 0) return ONE;
  if (kept.slice(first, last + 1).some((k) => !k)) return undefined;
  const stride = prod(outer.slice(last + 1).map((o) => o.size));
  return { div: ax.div * stride, mod: prod(outer.slice(first, last + 1).map((o) => o.size)) };
}

/**
 * The grid a broadcast operand (ONNX multidirectional broadcasting onto the output) needs to be
 * read tile for tile with an output of grid `out`: each core holds the operand's part under its
 * output tile. Undefined when that part is not a tile of any grid.
 */
export function projectGrid(out: LayoutGrid, outShape: readonly number[], opShape: readonly number[]): LayoutGrid | undefined {
  const keep = keptDims(out, outShape, opShape);
  if (!keep) return undefined;
  const r = splitAxis(out, rowList(out), out.y), c = splitAxis(out, colList(out), out.x);
  if (!r || !c) return undefined;
  const y = projectAxis(r, keep, out.y), x = projectAxis(c, keep, out.x);
  if (!y || !x) return undefined;
  const index = new Map<number, number>();
  const dims: number[] = [];
  out.dims.forEach((d, i) => { if (keep[i] && d !== 1) { index.set(i, dims.length); dims.push(d); } });
  const rowsPart = rowList(out).filter((d) => index.has(d)).map((d) => index.get(d)!);
  const colsPart = colList(out).filter((d) => index.has(d)).map((d) => index.get(d)!);
  return normalizeGrid({ dims, perm: [...rowsPart, ...colsPart], rows: rowsPart.length, y, x }, opShape);
}

/** A broadcast operand's tile as the N-D box aligned with its output's tile (1 where it broadcasts). */
export function operandExtents(out: LayoutGrid, outShape: readonly number[], opShape: readonly number[]): number[] | undefined {
  const keep = keptDims(out, outShape, opShape);
  const ext = tileExtents(out);
  if (!keep || !ext) return undefined;
  return out.perm.map((d, i) => (keep[d] ? ext[i] : 1));
}

const coordinate = (c: Expr, ax: GridAxis, side: number): Expr => {
  if (ax.mod === 1) return 0;
  const q = ax.div === 1 ? c : div(c, ax.div);
  return ax.div * ax.mod === side ? q : mod(q, ax.mod);
};

/** Tile coordinates (row tile, col tile) a core holds, for program tilings. */
export function gridCoords(g: LayoutGrid, P: number): [Expr, Expr] {
  return [coordinate(Y, g.y, P), coordinate(X, g.x, P)];
}

/** For an output: the cores whose tile is read back (the first core holding each tile). */
export function gridOutputGuard(g: LayoutGrid, P: number): Expr | undefined {
  const parts: Expr[] = [];
  for (const [c, ax] of [[Y, g.y], [X, g.x]] as const) {
    if (ax.mod === 1) { parts.push(eq(c, 0)); continue; }
    if (ax.div > 1) parts.push(eq(mod(c, ax.div), 0));
    if (ax.div * ax.mod < P) parts.push(lt(c, ax.div * ax.mod));
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : and(parts[0], parts[1], ...parts.slice(2));
}

/** Whether the grid permutes the tensor's data (its matrix is not the row-major data). */
export function permutes(g: LayoutGrid): boolean {
  const e = essence(g);
  return e.perm.some((d, i) => d !== i);
}

/** The matrix [rows, cols] of a grid. */
export const gridShape = (g: LayoutGrid): [number, number] => { const m = gridMatrix(g); return [m.rows, m.cols]; };

/**
 * The grid of MatMul(A, B)'s result C (shape `sc`) from A's (shape `sa`) and B's N dims: A's K dims
 * replaced by B's N dims (refined, and in the order B's grid has them) at the end of the columns —
 * the rows and batch dims stay where A has them.
 */
export function matmulGrid(a: LayoutGrid, sa: readonly number[], sc: readonly number[], n?: { parts: number[]; order: number[] }): LayoutGrid | undefined {
  if (isReplicated(a) || sa.length < 2 || sc.length !== sa.length) return undefined;
  const groups = refinedGroups(sa, a.dims);
  if (!groups) return undefined;
  const k0 = groups[groups.length - 1][0];
  const parts = n?.parts ?? [sc[sc.length - 1]];
  const order = n?.order ?? [0];
  const rows = a.perm.slice(0, a.rows).filter((d) => d < k0);
  const cols = a.perm.slice(a.rows).filter((d) => d < k0);
  return normalizeGrid({ dims: [...a.dims.slice(0, k0), ...parts], perm: [...rows, ...cols, ...order.map((i) => k0 + i)], rows: rows.length, y: a.y, x: a.x }, sc);
}

/** A matrix operand's N dims (its last dim): their refined sizes and the order its grid has them in. */
export function lastDimOrder(g: LayoutGrid, shape: readonly number[]): { parts: number[]; order: number[] } | undefined {
  const groups = refinedGroups(shape, g.dims);
  if (!groups) return undefined;
  const last = groups[groups.length - 1].filter((d) => g.dims[d] !== 1);
  if (last.length === 0) return { parts: [1], order: [0] };
  const order = g.perm.filter((d) => last.includes(d)).map((d) => last.indexOf(d));
  return { parts: last.map((d) => g.dims[d]), order };
}

/**
 * A Slice or Concat along the outermost refined part of an axis that lies wholly inside every tile:
 * done on each tile alone, seen as [outer, count, inner] (the part's extent in the middle).
 */
export interface TilePart {
  /** The grid with the part (the sliced / concatenated one). */
  whole: LayoutGrid;
  /** The grid without it. */
  part: LayoutGrid;
  outer: number;
  count: number;
  inner: number;
}

function withoutDim(g: LayoutGrid, d: number): LayoutGrid {
  const map = (x: number) => (x > d ? x - 1 : x);
  const rowsPart = g.perm.slice(0, g.rows).filter((x) => x !== d).map(map);
  const colsPart = g.perm.slice(g.rows).filter((x) => x !== d).map(map);
  return { dims: g.dims.filter((_, i) => i !== d), perm: [...rowsPart, ...colsPart], rows: rowsPart.length, y: g.y, x: g.x };
}

function tilePart(g: LayoutGrid, d: number): { outer: number; inner: number } | undefined {
  const ext = tileExtents(g);
  const pos = g.perm.indexOf(d);
  if (!ext || ext[pos] !== g.dims[d]) return undefined;
  return { outer: prod(ext.slice(0, pos)), inner: prod(ext.slice(pos + 1)) };
}

/** Slice [start, end) of `axis` selecting one index of the axis' outermost refined part, inside the tiles. */
export function sliceTilePart(g: LayoutGrid, shape: readonly number[], axis: number, start: number, end: number, outShape: readonly number[]): (TilePart & { index: number }) | undefined {
  const groups = refinedGroups(shape, g.dims);
  if (!groups) return undefined;
  const parts = groups[axis].filter((d) => g.dims[d] !== 1);
  if (parts.length < 2) return undefined;
  const inner = prod(parts.slice(1).map((d) => g.dims[d]));
  if (start % inner !== 0 || end - start !== inner) return undefined;
  const t = tilePart(g, parts[0]);
  const part = t && normalizeGrid(withoutDim(g, parts[0]), outShape);
  return t && part ? { whole: g, part, ...t, count: g.dims[parts[0]], index: start / inner } : undefined;
}

/** Concat of `count` values of grid g along `axis`: a new outermost part of the axis, placed after its other parts. */
export function concatTilePart(g: LayoutGrid, shape: readonly number[], axis: number, count: number, outShape: readonly number[]): TilePart | undefined {
  const groups = refinedGroups(shape, g.dims);
  if (!groups) return undefined;
  const parts = groups[axis].filter((d) => g.dims[d] !== 1);
  if (parts.length === 0) return undefined;
  const at = groups[axis][0];
  const shift = (x: number) => (x >= at ? x + 1 : x);
  const last = Math.max(...parts.map((d) => g.perm.indexOf(d)));
  const perm = g.perm.map(shift);
  perm.splice(last + 1, 0, at);
  const whole: LayoutGrid = { dims: [...g.dims.slice(0, at), count, ...g.dims.slice(at)], perm, rows: g.rows + (last < g.rows ? 1 : 0), y: g.y, x: g.x };
  const t = tilePart(whole, at);
  const norm = t && normalizeGrid(whole, outShape);
  return t && norm ? { whole: norm, part: g, ...t, count } : undefined;
}
