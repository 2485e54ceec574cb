/**
 * Loader, data part: constant, input and output tilings (W5011) — which tile of a 2-D tensor each
 * core holds — and the helpers that move tiles between host arrays and core buffers.
 *
 * A tile (rowTile, colTile) covers rows [rowTile·tileRows, …) and cols [colTile·tileCols, …),
 * clipped at the tensor's edge, and is stored row-major with row stride tileCols at element 0 of the
 * buffer (docs/runtime-model.md, "Host I/O"). Tile indices must lie inside the tensor's tile grid,
 * and the buffer must exist on every core holding a tile (BufferDecl.guard). The matrix is the
 * tensor's row-major data, or its permutation by the tiling's view (loader-view.ts; checked here as
 * the codec does, W5011): the tile checks are on the matrix alone.
 */
import type { ConstantDecl, IoDecl, Program, Tiling } from '../ir/program.js';
import { MEM_TYPE_BYTES } from '../ir/program.js';
import type { Diagnostic } from '../ir/diagnostics.js';
import { viewProblem } from '../ir/program-codec-validate.js';
import { compileExpr, exprProblem, maxLoopVar, type ExprFn } from './loader-expr.js';
import type { Presence } from './loader-presence.js';
import { compileView, type CompiledView } from './loader-view.js';

export interface TileSpec {
  region: number;
  buffer: number;
  rows: number;
  cols: number;
  tileRows: number;
  tileCols: number;
  rowTile: ExprFn;
  colTile: ExprFn;
  guard: ExprFn | null;
  /** The host tensor ↔ matrix permutation; null: the matrix is the tensor's data as is. */
  view: CompiledView | null;
}

/** Calls f(core x, y relative to the region, r0, c0, tile rows, tile cols) for every core holding a tile. */
export function forEachTile(t: TileSpec, rect: { width: number; height: number }, f: (x: number, y: number, r0: number, c0: number, nr: number, nc: number) => void): void {
  const env = new Float64Array(8);
  env[2] = rect.width;
  env[3] = rect.height;
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      env[0] = x;
      env[1] = y;
      if (t.guard && t.guard(env) === 0) continue;
      const r0 = t.rowTile(env) * t.tileRows;
      const c0 = t.colTile(env) * t.tileCols;
      f(x, y, r0, c0, Math.min(t.tileRows, t.rows - r0), Math.min(t.tileCols, t.cols - c0));
    }
  }
}

type Kind = 'constant' | 'input' | 'output';

/**
 * Checks one tiling; returns its compiled form, or undefined after reporting W5011 / W5012.
 * `presenceOf(region)` says which buffers exist on which core of the region (null: all everywhere):
 * a tile on a core where its buffer does not exist is W5011.
 */
export function checkTiling(
  p: Program, kind: Kind, decl: ConstantDecl | IoDecl, out: Diagnostic[], presenceOf: (region: number) => Presence | null = () => null,
): TileSpec | undefined {
  const t: Tiling | undefined = decl?.tiling;
  const name = `${kind} ${String(decl?.name)}`;
  const fail = (msg: string) => { out.push({ code: 'W5011', message: `${name}: ${msg}`, location: name, hint: 'Fix the tiling rule.' }); return undefined; };
  if (!t || typeof t !== 'object') return fail('has no tiling');
  const region = p.regions[t.region];
  if (!Number.isInteger(t.region) || !region) return fail(`tiling names region ${String(t.region)}, but the program has ${p.regions.length}`);
  const buf = region.kernel?.buffers?.[t.buffer];
  if (!Number.isInteger(t.buffer) || !buf) return fail(`tiling names buffer ${String(t.buffer)} of region ${region.name}, which does not exist`);
  for (const f of ['rows', 'cols', 'tileRows', 'tileCols'] as const) {
    if (!Number.isInteger(t[f]) || t[f] < 1) return fail(`tiling ${f} is ${String(t[f])}; expected a positive integer`);
  }
  if (decl.type !== buf.type) return fail(`has type ${String(decl.type)} but buffer ${buf.name} of region ${region.name} holds ${buf.type}`);
  if (t.tileRows * t.tileCols > buf.length) {
    return fail(`a ${t.tileRows}×${t.tileCols} tile (${t.tileRows * t.tileCols} elements) does not fit buffer ${buf.name} of region ${region.name} (${buf.length} elements)`);
  }
  if ('shape' in decl) {
    const n = Array.isArray(decl.shape) ? decl.shape.reduce((a, b) => a * b, 1) : NaN;
    if (!(n === t.rows * t.cols)) return fail(`shape [${String(decl.shape)}] has ${n} elements but the tiling views it as ${t.rows}×${t.cols}`);
  } else if (decl.data !== undefined && decl.data.length !== t.rows * t.cols * MEM_TYPE_BYTES[decl.type]) {
    return fail(`holds ${decl.data.length} bytes of data; ${t.rows}×${t.cols} ${decl.type} values take ${t.rows * t.cols * MEM_TYPE_BYTES[decl.type]}`);
  }
  if (t.view !== undefined) {
    const prob = viewProblem(t.view, t.rows, t.cols);
    if (prob) return fail(prob);
  }
  const fns: ExprFn[] = [];
  for (const [f, e] of [['rowTile', t.rowTile], ['colTile', t.colTile], ['guard', t.guard]] as const) {
    if (e === undefined && f === 'guard') continue;
    const prob = exprProblem(e);
    if (prob) return fail(`tiling ${f}: ${prob}`);
    const c = compileExpr(e!);
    if (maxLoopVar(c) >= 0) return fail(`tiling ${f} reads a loop counter`);
    fns.push(c.fn);
  }
  const spec: TileSpec = {
    region: t.region, buffer: t.buffer, rows: t.rows, cols: t.cols, tileRows: t.tileRows, tileCols: t.tileCols,
    rowTile: fns[0], colTile: fns[1], guard: t.guard !== undefined ? fns[2] : null, view: compileView(t.view),
  };
  const gr = Math.ceil(t.rows / t.tileRows), gc = Math.ceil(t.cols / t.tileCols);
  const pr = presenceOf(t.region);
  let bad: string | undefined;
  const env = new Float64Array(8);
  env[2] = region.rect.width;
  env[3] = region.rect.height;
  for (let y = 0; y < region.rect.height && !bad; y++) {
    for (let x = 0; x < region.rect.width && !bad; x++) {
      env[0] = x;
      env[1] = y;
      if (spec.guard && spec.guard(env) === 0) continue;
      const rt = spec.rowTile(env), ct = spec.colTile(env);
      if (!Number.isInteger(rt) || !Number.isInteger(ct) || rt < 0 || ct < 0 || rt >= gr || ct >= gc) {
        bad = `core (${region.rect.x + x},${region.rect.y + y}) of region ${region.name} holds tile (${rt}, ${ct}), outside the ${gr}×${gc} grid of ${t.tileRows}×${t.tileCols} tiles of the ${t.rows}×${t.cols} tensor`;
      } else if (pr !== null && !pr.mask[pr.groupOf[y * region.rect.width + x] * pr.buffers + t.buffer]) {
        bad = `core (${region.rect.x + x},${region.rect.y + y}) of region ${region.name} holds tile (${rt}, ${ct}), but buffer ${buf.name} does not exist on that core (its guard is zero there)`;
      }
    }
  }
  if (bad) return fail(bad);
  return spec;
}
