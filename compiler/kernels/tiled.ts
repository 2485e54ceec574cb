/**
 * The `tiled` kernel: an op too large for one core, run block by block over a tensor cut into tiles
 * on several cores. A value of shape S is viewed as the 2-D matrix [rows, cols] = [∏S[0..-1], S[-1]]
 * (the view program inputs and outputs use) and cut into k equal tiles of [tileRows, tileCols];
 * tile b is a value of its own, `%v#tile<b>`, held whole by core b of the snake order (the op is
 * pinned there: `params.pin`), so every later pass sees ordinary single-core values and `call`s.
 *
 * Row-separable ops only, where computing a tile needs nothing but that tile:
 * - elementwise unary ops, and binary ops whose other operand is a tile of the same tiling or a
 *   one-element constant (duplicated into every core, being small);
 * - Gather along axis 0 with a constant scalar index of a value tiled by whole dim-0 slices: it
 *   reads the one tile holding the slice, with the index rebased to 0 (a single-core call).
 * A graph input or output that is tiled moves between host and SRAM tile by tile (emit: one tiling,
 * tile b on core b). When any reader of a tiled value is not row-separable, nothing is tiled and
 * the op is refused as before (W3002).
 *
 * Cost: each tile's op is a `call` on its core with the tile's shapes, so callCost of the tile —
 * exact, as for any call; tiles of one op on distinct cores are independent, and the scheduler runs
 * them in one step (cost: the largest tile's; every core pads to it).
 */
import type { MeshGraph, MeshOp, MeshValue } from '../../ir/mesh.js';
import { singleCoreLayout } from '../../ir/mesh.js';
import { MEM_TYPE_BYTES } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { Tensor } from '../../ir/tensor.js';

export const TILE_MARK = '#tile';

export const UNARY = new Set(['Abs', 'Neg', 'Relu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Identity', 'Reciprocal', 'Floor', 'Ceil',
  'Sin', 'Cos', 'Softplus', 'Softsign', 'Mish', 'Sign', 'Round', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Elu', 'Selu', 'Celu',
  'ThresholdedRelu', 'Not', 'IsNaN']);
export const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

/** The tile b of value v, and the inverse (base name and tile index of a tile value). */
export const tileName = (v: string, b: number): string => `${v}${TILE_MARK}${b}`;
export function parseTileName(name: string): { base: string; tile: number } | undefined {
  const m = /^(.*)#tile(\d+)$/s.exec(name);
  return m ? { base: m[1], tile: Number(m[2]) } : undefined;
}

export interface TileGeometry {
  rows: number;
  cols: number;
  tileRows: number;
  tileCols: number;
}

/** Tiles of the geometry: count and (rowTile, colTile) of tile b (row-major over the tile grid). */
export const tileCount = (g: TileGeometry): number => (g.rows / g.tileRows) * (g.cols / g.tileCols);
export const tilePos = (g: TileGeometry, b: number): { rowTile: number; colTile: number } => {
  const per = g.cols / g.tileCols;
  return { rowTile: Math.floor(b / per), colTile: b % per };
};

const view = (shape: readonly number[]) => ({
  rows: shape.slice(0, -1).reduce((a, b) => a * b, 1), cols: shape.length ? shape[shape.length - 1] : 1,
});
const elems = (v: MeshValue) => v.type.shape.reduce((a, b) => a * b, 1);

/** Smallest count n dividing `len` with ⌈len/n⌉·unit ≤ max, or undefined. */
function splitCount(len: number, unit: number, max: number): number | undefined {
  for (let n = 1; n <= len; n++) if (len % n === 0 && (len / n) * unit <= max) return n;
  return undefined;
}

/** Elementwise tiling: tiles of at most capacity/8 bytes (a few tiles live at once, plus two I/O tiles, fit a core). */
export function elementwiseGeometry(shape: readonly number[], bytesPerElem: number, capacity: number): TileGeometry | undefined {
  const { rows, cols } = view(shape);
  const max = Math.floor(capacity / 8);
  const rowBytes = cols * bytesPerElem;
  if (rowBytes <= max) {
    const n = splitCount(rows, rowBytes, max);
    return n === undefined ? undefined : { rows, cols, tileRows: rows / n, tileCols: cols };
  }
  const n = splitCount(cols, bytesPerElem, max);
  return n === undefined ? undefined : { rows, cols, tileRows: 1, tileCols: cols / n };
}

const isScalarConst = (mesh: MeshGraph, v: string) => mesh.constants.has(v) && elems(mesh.values.get(v)!) === 1;

function axisOf(op: MeshOp): number {
  const a = op.attrs.axis;
  return a && a.kind === 'int' ? a.value : 0;
}

function gatherIndex(mesh: MeshGraph, op: MeshOp): number | undefined {
  if (op.op !== 'Gather' || op.domain !== '' || axisOf(op) !== 0) return undefined;
  const t = mesh.constants.get(op.inputs[1]);
  if (!t || t.shape.length !== 0) return undefined;
  return Number(t.data[0]);
}

/**
 * Tiles the graph inputs too large for a single-core op (more than a quarter of a core) and every
 * op reading them, transitively. Returns the mesh unchanged when there is nothing to tile or some
 * reader is not row-separable (the single-core path then reports the op).
 */
export function tileOversized(mesh: MeshGraph, target: Target): MeshGraph {
  const capacity = target.sram.bytesPerCore;
  const cores = target.width * target.height;
  const bytes = (v: string) => { const mv = mesh.values.get(v)!; return elems(mv) * MEM_TYPE_BYTES[mv.mem]; };
  const big = mesh.inputs.filter((v) => bytes(v) > capacity / 4);
  if (big.length === 0) return mesh;
  const geo = new Map<string, TileGeometry>();
  for (const v of big) {
    const mv = mesh.values.get(v)!;
    const readers = mesh.ops.filter((op) => op.inputs.includes(v));
    let g: TileGeometry | undefined;
    if (readers.some((op) => gatherIndex(mesh, op) !== undefined && op.inputs[0] === v)) {
      // Whole dim-0 slices, so that Gather reads one tile.
      const { rows, cols } = view(mv.type.shape);
      const d0 = mv.type.shape[0] ?? 1;
      if (mv.type.shape.length >= 2 && (bytes(v) / d0) <= capacity / 2) g = { rows, cols, tileRows: rows / d0, tileCols: cols };
    } else {
      g = elementwiseGeometry(mv.type.shape, MEM_TYPE_BYTES[mv.mem], capacity);
    }
    if (!g || tileCount(g) > cores || tileCount(g) < 2) return mesh;
    geo.set(v, g);
  }
  const out: MeshGraph = { ...mesh, inputs: [], outputs: [], values: new Map(mesh.values), constants: new Map(mesh.constants), ops: [] };
  const sameGeo = (a: TileGeometry, b: TileGeometry) => a.rows === b.rows && a.cols === b.cols && a.tileRows === b.tileRows && a.tileCols === b.tileCols;
  const addTiles = (v: string, g: TileGeometry) => {
    const mv = mesh.values.get(v)!;
    // Whole dim-0 slices keep the slice's shape (with a leading 1): the same row-major elements.
    const s = mv.type.shape;
    const shape = g.cols === view(s).cols && g.tileRows * (s[0] ?? 1) === g.rows && s.length >= 2 && g.tileRows > 1 ? [1, ...s.slice(1)] : [g.tileRows, g.tileCols];
    out.values.delete(v);
    for (let b = 0; b < tileCount(g); b++) {
      out.values.set(tileName(v, b), { ...mv, type: { dtype: mv.type.dtype, shape }, layout: singleCoreLayout(0, 0, shape) });
    }
  };
  for (const v of big) addTiles(v, geo.get(v)!);
  for (const op of mesh.ops) {
    const tiled = op.inputs.filter((v) => v && geo.has(v));
    if (tiled.length === 0) {
      out.ops.push(op);
      continue;
    }
    const g = geo.get(tiled[0])!;
    const at = gatherIndex(mesh, op);
    const d0 = mesh.values.get(tiled[0])!.type.shape[0] ?? 1;
    if (at !== undefined && op.inputs[0] === tiled[0] && tiled.length === 1) {
      // Only a tiling by whole dim-0 slices has the slice in one tile; an index out of range is the call's to report.
      const idx = at < 0 ? at + d0 : at;
      if (g.tileCols !== g.cols || g.tileRows * d0 !== g.rows || idx < 0 || idx >= d0) return mesh;
      const tileOf = tileName(tiled[0], idx);
      const index = `${op.inputs[1]}#rebased`;
      if (!out.values.has(index)) {
        out.values.set(index, { ...mesh.values.get(op.inputs[1])! });
        out.constants.set(index, Tensor.from(mesh.constants.get(op.inputs[1])!.dtype, [], [0]));
      }
      out.ops.push({ ...op, inputs: [tileOf, index], params: { ...op.params, pin: idx } });
      continue;
    }
    const elementwise = op.domain === '' && op.outputs.length === 1 && (UNARY.has(op.op) && op.inputs.length === 1 ||
      BINARY.has(op.op) && op.inputs.length === 2 && op.inputs.every((v) => (geo.has(v) && sameGeo(geo.get(v)!, g)) || isScalarConst(mesh, v)));
    const o = op.outputs[0];
    if (!elementwise || !o || elems(mesh.values.get(o)!) !== g.rows * g.cols) return mesh;
    geo.set(o, g);
    addTiles(o, g);
    for (let b = 0; b < tileCount(g); b++) {
      out.ops.push({
        ...op, name: tileName(op.name, b), kernel: 'call', inputs: op.inputs.map((v) => (geo.has(v) ? tileName(v, b) : v)), outputs: [tileName(o, b)],
        params: { ...op.params, pin: b, tiles: tileCount(g) },
      });
    }
  }
  const expand = (list: string[]) => list.flatMap((v) => (geo.has(v) ? Array.from({ length: tileCount(geo.get(v)!) }, (_, b) => tileName(v, b)) : [v]));
  out.inputs = expand(mesh.inputs);
  out.outputs = expand(mesh.outputs);
  // Every tile of a tiled input must be read (pinned to its core): a tile left over would have no core of its own.
  for (const v of big) {
    const n = tileCount(geo.get(v)!);
    for (let b = 0; b < n; b++) if (!out.ops.some((op) => op.inputs.includes(tileName(v, b)))) return mesh;
  }
  return out;
}
