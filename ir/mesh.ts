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
  return l.tile.reduce((a, b) => a * b, 1);
}

export function sameLayout(a: Layout, b: Layout): boolean {
  const r = (p: Rect, q: Rect) => p.x === q.x && p.y === q.y && p.width === q.width && p.height === q.height;
  return r(a.region, b.region) && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]) && a.tile.every((t, i) => t === b.tile[i]);
}
