/**
 * Block forms of the distributed back end: the layouts a value takes on the P×P region from its shape
 * alone, all views of the tensor as a 2-D matrix [rows, cols] = [∏ leading dims, last dim]:
 *
 *   block  rows split along y, cols along x: core (x, y) holds the tile [rows/P, cols/P] at row tile
 *          y, col tile x — the GEMM operand layout. Leading dims are merged row-major (mesh IR dims
 *          `[y, …, y, x]`), so [2,1024,1024] and its Reshape to [2048,1024] have the same tiles.
 *   vec    one row (all leading dims 1): cols split along x, replicated down each column of cores
 *          (a LayerNorm scale, a bias): tile [1, cols/P].
 *   col    one column (last dim 1): rows split along y, replicated across each row of cores (the
 *          result of a reduction over the last axis): tile [rows/P, 1].
 *   rep    the whole tensor on every core (scalars, small constants, shape data): ops on such values
 *          are computed redundantly by every core, with no communication.
 *   rows   every element a row: the tensor viewed as [numel, 1], split along y like col (the token
 *          ids of an embedding Gather, aligned with the output's rows). Given by the planner, never
 *          by the shape alone.
 *
 * A value is block / vec / col when its sizes divide by P and it has more than one element per core
 * to spread; anything else is rep. These are the natural grids (kernels/grids.ts naturalGrid); the
 * planner gives values other grids where ops need them. docs/compiler.md ("Distributed mode").
 */
import type { DimMap, Layout } from '../../ir/mesh.js';
import type { Rect } from '../../ir/program.js';

export type BlockForm = 'block' | 'vec' | 'col' | 'rep' | 'rows';

/** The 2-D view of a shape. */
export function matrixView(shape: readonly number[]): { rows: number; cols: number } {
  const cols = shape.length ? shape[shape.length - 1] : 1;
  return { rows: shape.slice(0, -1).reduce((a, b) => a * b, 1), cols };
}

/**
 * Per leading dim, the tile of a chunk of `rowTile` consecutive rows of the merged leading dims, when
 * every chunk is a box (whole inner dims, a divisor of one dim, single outer indices); else undefined.
 */
export function rowBox(shape: readonly number[], rowTile: number): number[] | undefined {
  const lead = shape.slice(0, -1);
  const tile = lead.map(() => 1);
  let rem = rowTile;
  for (let i = lead.length - 1; i >= 0 && rem > 1; i--) {
    if (rem % lead[i] === 0) {
      tile[i] = lead[i];
      rem /= lead[i];
    } else if (lead[i] % rem === 0) {
      tile[i] = rem;
      rem = 1;
    } else return undefined;
  }
  return rem === 1 ? tile : undefined;
}

/** The form a value of this shape takes on a P×P region (P ≥ 2). */
export function blockForm(shape: readonly number[], P: number): BlockForm {
  const { rows, cols } = matrixView(shape);
  if (shape.length === 0 || rows * cols <= 1) return 'rep';
  if (rows === 1) return cols % P === 0 ? 'vec' : 'rep';
  // Each core's rows must form a box of the tensor (so that its tile is one in the mesh IR).
  const box = rows % P === 0 && rowBox(shape, rows / P) !== undefined;
  if (cols === 1) return box ? 'col' : 'rep';
  return box && cols % P === 0 ? 'block' : 'rep';
}

/** Each core's tile of a value in a form, as a 2-D [tileRows, tileCols]. */
export function tileOf(shape: readonly number[], form: BlockForm, P: number): [number, number] {
  const { rows, cols } = matrixView(shape);
  switch (form) {
    case 'block': return [rows / P, cols / P];
    case 'vec': return [1, cols / P];
    case 'col': return [rows / P, 1];
    case 'rep': return [rows, cols];
    case 'rows': return [(rows * cols) / P, 1];
  }
}

/** The mesh IR layout of a value of this form on region `rect` (merged leading dims all map to y). */
export function blockLayout(shape: readonly number[], form: BlockForm, rect: Rect): Layout {
  const P = rect.width;
  const rank = shape.length;
  if (form === 'rep' || rank === 0) return { region: { ...rect }, dims: shape.map((): DimMap => 'r'), tile: [...shape] };
  if (form === 'rows') return { region: { ...rect }, dims: shape.map((): DimMap => 'y'), tile: rowBox([...shape, 1], tileOf(shape, form, P)[0])! };
  const [tr, tc] = tileOf(shape, form, P);
  const dims: DimMap[] = shape.map((_, i): DimMap => (i === rank - 1 ? (form === 'col' ? 'r' : 'x') : form === 'block' || form === 'col' ? 'y' : 'r'));
  // Per-dim tile: the row tile as a box over the leading dims (blockForm checked that it is one).
  const tile = [...shape];
  tile[rank - 1] = tc;
  if (form === 'block' || form === 'col') rowBox(shape, tr)!.forEach((t, i) => { tile[i] = t; });
  return { region: { ...rect }, dims, tile };
}

/** Whether a tensor can take the rows form on P×P cores (every core's elements a box). */
export function rowsFormFits(shape: readonly number[], P: number): boolean {
  const n = shape.reduce((a, b) => a * b, 1);
  return shape.length > 0 && n % P === 0 && rowBox([...shape, 1], n / P) !== undefined;
}
