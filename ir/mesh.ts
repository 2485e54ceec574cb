/**
 * Mesh IR: the graph after kernel selection and placement. Every value has a layout on a region (a
 * rectangle of cores) — for each tensor dimension, whether it is split along mesh x, split along mesh
 * y, or not split — and the tile each core holds; every op is an instance of a named distributed
 * kernel on a region; every change of layout is an explicit `redistribute` op. Kernel selection,
 * placement, routing and SRAM allocation decide and annotate this level; `emit` lowers it to a
 * program (ir/program.ts).
 */
import type { Attrs, StaticType } from './graph.js';
import type { MemType, Rect } from './program.js';
import type { Tensor } from './tensor.js';

/** How one tensor dimension is laid out: split along mesh x, along mesh y, or whole on every core ('r'). */
export type DimMap = 'x' | 'y' | 'r';

export interface Layout {
  /** Cores holding the value (absolute mesh coordinates). */
  region: Rect;
  /** One entry per tensor dimension; at most one dimension maps to x and at most one to y. */
  dims: DimMap[];
  /** The tile each core holds, per dimension (the full size for 'r' dims). */
  tile: number[];
  /**
   * Distributed programs: the value as a 2-D grid of tiles (which then defines the tiles; `dims` and
   * `tile` only summarise it).
   */
  grid?: LayoutGrid;
}

/** Which tile a core holds along one mesh axis: tile (coordinate div `div`) mod `mod`, coordinates relative to the region. */
export interface GridAxis {
  div: number;
  /** Tiles along this axis (1: every core holds the whole extent). */
  mod: number;
}

/**
 * A tensor as a 2-D matrix of tiles: its row-major data reshaped to `dims` (a refinement of its
 * shape: every dim a product of consecutive refined dims), permuted by `perm` (output dim i is
 * refined dim perm[i]), the first `rows` permuted dims merged into the matrix rows and the rest into
 * its columns. Rows split along y, columns along x: the core at (x, y) of the region holds the tile of
 * [R / y.mod] rows and [C / x.mod] columns at row tile (y div y.div) mod y.mod and column tile
 * (x div x.div) mod x.mod, stored row-major. So a Transpose or Reshape is a new grid over the same
 * tiles, and a broadcast operand is replicated where its tile coordinate repeats.
 */
export interface LayoutGrid {
  dims: number[];
  perm: number[];
  rows: number;
  y: GridAxis;
  x: GridAxis;
}

/** The matrix [R, C] a grid views its tensor as. */
export function gridMatrix(g: LayoutGrid): { rows: number; cols: number } {
  let rows = 1, cols = 1;
  g.perm.forEach((d, i) => { if (i < g.rows) rows *= g.dims[d]; else cols *= g.dims[d]; });
  return { rows, cols };
}

/** A grid's tile [tileRows, tileCols]. */
export function gridTile(g: LayoutGrid): [number, number] {
  const { rows, cols } = gridMatrix(g);
  return [rows / g.y.mod, cols / g.x.mod];
}

export interface MeshValue {
  /** Graph dtype and shape of the whole tensor. */
  type: StaticType;
  /** Element type in SRAM. */
  mem: MemType;
  layout: Layout;
}

/** Kernel names: `call` (one graph op on one core), `redistribute`, and the distributed kernels (`gemm.meshgemm`, ...). */
export type KernelName = string;

export interface MeshOp {
  /** Unique name; the IR location of the emitted instructions (the graph node's name). */
  name: string;
  kernel: KernelName;
  /** The graph op it implements ('' for redistribute). */
  op: string;
  domain: string;
  attrs: Attrs;
  inputs: string[];
  outputs: string[];
  /** Cores the kernel runs on. */
  region: Rect;
  /** Kernel parameters chosen by select-kernels (algorithm knobs, tile sizes). Sorted keys when printed. */
  params: Record<string, number | string>;
}

export interface MeshGraph {
  name: string;
  opset: number;
  /** Name of the target the placement was made for. */
  target: string;
  inputs: string[];
  outputs: string[];
  values: Map<string, MeshValue>;
  constants: Map<string, Tensor>;
  ops: MeshOp[];
}

/** The layout of a value held whole by one core. */
export function singleCoreLayout(x: number, y: number, shape: readonly number[]): Layout {
  return { region: { x, y, width: 1, height: 1 }, dims: shape.map(() => 'r'), tile: [...shape] };
}

/** Elements of one tile. */
export function tileElements(l: Layout): number {
  if (l.grid) { const [r, c] = gridTile(l.grid); return r * c; }
  return l.tile.reduce((a, b) => a * b, 1);
}

export function sameLayout(a: Layout, b: Layout): boolean {
  const r = (p: Rect, q: Rect) => p.x === q.x && p.y === q.y && p.width === q.width && p.height === q.height;
  const same = (p: number[], q: number[]) => p.length === q.length && p.every((v, i) => v === q[i]);
  const g = (p?: LayoutGrid, q?: LayoutGrid) => (!p && !q) || (!!p && !!q && same(p.dims, q.dims) && same(p.perm, q.perm) && p.rows === q.rows
    && p.y.div === q.y.div && p.y.mod === q.y.mod && p.x.div === q.x.div && p.x.mod === q.x.mod);
  return r(a.region, b.region) && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]) && a.tile.every((t, i) => t === b.tile[i]) && g(a.grid, b.grid);
}
