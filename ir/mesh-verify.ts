/**
 * The mesh IR verifier: checks the invariants every mesh-level pass may rely on and must keep (the
 * pass manager runs it after each pass that writes the mesh IR). Reads a MeshGraph, changes nothing.
 *
 * Checks, all reported at once as W3001 diagnostics located at `op 'X'` or `value '%y'`:
 * - SSA: each value is defined once, by a graph input, a constant or an op output (an input that is
 *   also a constant is an input with a default value); input names are non-empty; op names are
 *   non-empty and unique; every value an op reads is defined before the op (ops are in topological
 *   order, so a cycle shows up as a use before definition); graph outputs are defined;
 * - values: every defined value has a MeshValue and no MeshValue names an undefined value; its type
 *   has a known dtype and non-negative integer dims, its SRAM type is f32, f16 or i32, and a
 *   constant's tensor has the value's type;
 * - layouts: the region is a non-empty rectangle (inside the mesh when its size is given); one dim map
 *   and one tile size per tensor dimension; at most one dim split along x and one run of consecutive
 *   dims along y (merged row-major); an 'r' dim's
 *   tile is the whole dim; a split dim's tile is a positive integer and tile × (region width for x,
 *   height for y) covers the dim;
 * - layout grids (ir/mesh.ts LayoutGrid), which define the tiles of a distributed value: positive
 *   integer dims holding the tensor's elements and refining its shape (1s may sit anywhere), a
 *   permutation, 0 ≤ rows ≤ dims, and per axis div ≥ 1 and mod ≥ 1, mod dividing the matrix extent
 *   (rows for y, columns for x) and div × mod ≤ the region's extent (height for y, width for x).
 *   With a grid, `dims`/`tile` only summarise it: the one-dim-per-axis and coverage checks are off;
 * - ops: the region is a non-empty rectangle inside the mesh; `redistribute` has exactly one input and
 *   one output with the same graph type; `call` runs a registered op on a single core that holds every
 *   input and output, in SRAM types that can hold their dtypes (the `call` instruction's storage rule,
 *   callStorageTypes in program-call.ts: f32 for float32/float64/bfloat16, f16 or f32 for float16, i32
 *   for the integer types and bool).
 */
import { DTYPES } from './dtype.js';
import { DiagnosticError, type Diagnostic } from './diagnostics.js';
import { typeToString } from './graph.js';
import { gridMatrix, type GridAxis, type Layout, type LayoutGrid, type MeshGraph, type MeshOp, type MeshValue } from './mesh.js';
import { getOp } from './ops/index.js';
import type { Rect } from './program.js';
import { callStorageTypes } from './program-call.js';

export interface MeshVerifyOptions {
  /** Mesh size in cores; regions are checked against it when given. */
  width?: number;
  height?: number;
}

const KNOWN_DTYPES = new Set<string>(DTYPES);
const MEM_TYPES = new Set<string>(['f32', 'f16', 'i32']);

type Report = (message: string, location: string, hint?: string) => void;
type Def = { by: 'input' } | { by: 'constant' } | { by: 'op'; op: MeshOp; index: number };

const valueAt = (v: string): string => `value '%${v}'`;
const opAt = (op: MeshOp, index: number): string => (op.name === '' ? `op #${index}` : `op '${op.name}'`);
const defText = (d: Def): string => (d.by === 'op' ? opAt(d.op, d.index) : d.by === 'input' ? 'a graph input' : 'a constant');
const rectText = (r: Rect): string => `(${r.x},${r.y} ${r.width}x${r.height})`;
const sameRect = (a: Rect, b: Rect): boolean => a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** All problems of `g`; empty when it is well-formed. */
export function verifyMesh(g: MeshGraph, opts: MeshVerifyOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report: Report = (message, location, hint) => {
    out.push({ code: 'W3001', message, location, hint });
  };
  const defs = collectDefinitions(g, report);
  checkUses(g, defs, report);
  checkValues(g, defs, opts, report);
  g.ops.forEach((op, index) => checkOp(g, op, index, opts, report));
  return out;
}

/** Throws DiagnosticError with every problem of `g`, if it has any. */
export function assertMeshVerified(g: MeshGraph, opts: MeshVerifyOptions = {}): void {
  const problems = verifyMesh(g, opts);
  if (problems.length) throw new DiagnosticError(problems);
}

function collectDefinitions(g: MeshGraph, report: Report): Map<string, Def[]> {
  const defs = new Map<string, Def[]>();
  const add = (v: string, d: Def): void => {
    const list = defs.get(v);
    if (list) list.push(d);
    else defs.set(v, [d]);
  };
  for (const v of g.inputs) {
    if (v === '') report('a graph input has an empty name', 'graph inputs', "'' marks an omitted op input; give the input a name");
    add(v, { by: 'input' });
  }
  for (const v of g.constants.keys()) add(v, { by: 'constant' });
  const opNames = new Set<string>();
  g.ops.forEach((op, index) => {
    if (op.name === '') report(`a ${op.kernel} op has no name`, opAt(op, index), 'op names locate diagnostics and emitted instructions; give every op a unique name');
    else if (opNames.has(op.name)) report(`op name '${op.name}' is used by more than one op`, opAt(op, index), 'op names must be unique within a mesh graph');
    opNames.add(op.name);
    for (const o of op.outputs) if (o) add(o, { by: 'op', op, index });
  });
  for (const [v, list] of defs) {
    // an input with a default value (ONNX initializer) is the one allowed double definition
    const isDefaulted = list.length === 2 && list[0].by === 'input' && list[1].by === 'constant';
    if (list.length > 1 && !isDefaulted) {
      const last = list[list.length - 1];
      report(
        `value '%${v}' is defined ${list.length} times (by ${list.map(defText).join(', ')})`,
        last.by === 'op' ? opAt(last.op, last.index) : valueAt(v),
        'each value is defined exactly once (SSA); rename one of the definitions',
      );
    }
  }
  return defs;
}

function checkUses(g: MeshGraph, defs: Map<string, Def[]>, report: Report): void {
  const available = new Set<string>([...g.inputs, ...g.constants.keys()]);
  g.ops.forEach((op, index) => {
    for (const v of op.inputs) {
      if (!v || available.has(v)) continue;
      const later = defs.get(v)?.find((d) => d.by === 'op');
      if (later && later.by === 'op') {
        report(`op reads '%${v}' before ${opAt(later.op, later.index)} defines it`, opAt(op, index), 'ops must be in topological order (a cycle shows up here too)');
      } else {
        report(`op reads '%${v}', which nothing defines`, opAt(op, index), 'define the value, or use _ for an omitted optional input');
      }
    }
    for (const o of op.outputs) if (o) available.add(o);
  });
  for (const v of g.outputs) {
    if (!defs.has(v)) report(`graph output '%${v}' is not defined`, valueAt(v), 'an output must name an input, a constant or an op result');
  }
}

function checkValues(g: MeshGraph, defs: Map<string, Def[]>, opts: MeshVerifyOptions, report: Report): void {
  for (const v of defs.keys()) {
    if (v !== '' && !g.values.has(v)) report(`value '%${v}' has no type and layout`, valueAt(v), 'every value of the mesh IR has a MeshValue; the pass that created it must record one');
  }
  for (const [v, value] of g.values) {
    if (!defs.has(v)) {
      report(`a type and layout are recorded for '%${v}', which nothing defines`, valueAt(v), 'remove the stale entry from `values`');
    }
    for (const problem of valueProblems(value, opts)) report(`'%${v}': ${problem}`, valueAt(v), 'fix the pass that chose this layout');
  }
  for (const [v, t] of g.constants) {
    const value = g.values.get(v);
    if (!value) continue;
    const same = value.type.dtype === t.dtype && value.type.shape.length === t.shape.length && value.type.shape.every((d, i) => d === t.shape[i]);
    if (!same) report(`constant '%${v}' holds a ${typeToString({ dtype: t.dtype, shape: [...t.shape] })} tensor but its value is typed ${typeToString(value.type)}`, valueAt(v), 'the recorded type must match the tensor');
  }
}

/** Problems of one MeshValue, as message fragments. */
function valueProblems(value: MeshValue, opts: MeshVerifyOptions): string[] {
  const out: string[] = [];
  const { type, layout } = value;
  if (!KNOWN_DTYPES.has(type.dtype)) out.push(`unknown dtype '${String(type.dtype)}'`);
  const shapeOk = type.shape.every(isCount);
  if (!shapeOk) out.push(`type ${typeToString(type)} has a dim that is not a non-negative integer`);
  if (!MEM_TYPES.has(value.mem)) out.push(`unknown SRAM element type '${String(value.mem)}' (f32, f16 or i32)`);
  const rect = rectProblem(layout.region, opts);
  if (rect) out.push(`layout region ${rect}`);
  if (shapeOk && !rect) out.push(...layoutProblems(layout, type.shape));
  return out;
}

/** Why a rectangle is not a non-empty region inside the mesh, or undefined. */
function rectProblem(r: Rect, opts: MeshVerifyOptions): string | undefined {
  const text = rectText(r);
  if (![r.x, r.y, r.width, r.height].every(isCount)) return `${text} has a coordinate that is not a non-negative integer`;
  if (r.width === 0 || r.height === 0) return `${text} is empty`;
  if (opts.width !== undefined && r.x + r.width > opts.width) return `${text} runs past the mesh width ${opts.width}`;
  if (opts.height !== undefined && r.y + r.height > opts.height) return `${text} runs past the mesh height ${opts.height}`;
  return undefined;
}

function layoutProblems(l: Layout, shape: readonly number[]): string[] {
  const out: string[] = [];
  const rank = shape.length;
  if (l.dims.length !== rank) out.push(`layout maps ${l.dims.length} dims but the type has rank ${rank}`);
  if (l.tile.length !== rank) out.push(`tile [${l.tile.join(',')}] has ${l.tile.length} sizes but the type has rank ${rank}`);
  const bad = l.dims.filter((d) => d !== 'x' && d !== 'y' && d !== 'r');
  if (bad.length) out.push(`unknown dim map '${String(bad[0])}' (x, y or r)`);
  if (l.grid) {
    // the grid defines the tiles; `dims` and `tile` only summarise it, so several dims may map to an axis
    if (out.length) return out;
    l.dims.forEach((d, i) => {
      const tile = l.tile[i];
      if (d === 'r' && tile !== shape[i]) out.push(`dim ${i} is not split ('r') so its tile is the whole dim ${shape[i]}, not ${tile}`);
      else if (d !== 'r' && (!Number.isSafeInteger(tile) || tile < 1)) out.push(`dim ${i} (split along ${d}) has tile ${tile}; tiles of split dims are positive integers`);
    });
    return [...out, ...gridProblems(l.grid, l.region, shape)];
  }
  // At most one dim per axis — except a run of consecutive dims along y, merged row-major and split
  // together (the rows of a block layout's 2-D view).
  const ys = l.dims.flatMap((d, i) => (d === 'y' ? [i] : []));
  if (l.dims.filter((d) => d === 'x').length > 1) out.push(`${l.dims.filter((d) => d === 'x').length} dims are split along mesh x; at most one may be`);
  if (ys.length > 1 && ys[ys.length - 1] - ys[0] !== ys.length - 1) out.push(`dims ${ys.join(', ')} are split along mesh y but not consecutive; a run of consecutive dims may be merged`);
  if (out.length) return out;
  l.dims.forEach((d, i) => {
    const size = shape[i];
    const tile = l.tile[i];
    if (d === 'r') {
      if (tile !== size) out.push(`dim ${i} is not split ('r') so its tile is the whole dim ${size}, not ${tile}`);
      return;
    }
    if (!Number.isSafeInteger(tile) || tile < 1) out.push(`dim ${i} (split along ${d}) has tile ${tile}; tiles of split dims are positive integers`);
    else if (d === 'x' && tile * l.region.width < size) out.push(`dim ${i} of size ${size} split along x over ${l.region.width} cores needs tiles of at least ${Math.ceil(size / l.region.width)}, not ${tile}`);
  });
  if (out.length || ys.length === 0) return out;
  const size = ys.reduce((a, i) => a * shape[i], 1);
  const tile = ys.reduce((a, i) => a * l.tile[i], 1);
  if (tile * l.region.height >= size) return out;
  const need = Math.ceil(size / l.region.height);
  out.push(ys.length === 1 ? `dim ${ys[0]} of size ${size} split along y over ${l.region.height} cores needs tiles of at least ${need}, not ${tile}`
    : `dims ${ys.join(', ')} (merged, ${size} rows) split along y over ${l.region.height} cores need tiles of at least ${need} rows, not ${tile}`);
  return out;
}

/** Whether `dims` refines `shape`: with the 1s of both dropped, every shape dim is the product of a run of consecutive dims. */
function refines(dims: readonly number[], shape: readonly number[]): boolean {
  const d = dims.filter((n) => n !== 1);
  let i = 0;
  for (const s of shape) {
    if (s === 1) continue;
    let p = 1;
    while (p < s && i < d.length) p *= d[i++];
    if (p !== s) return false;
  }
  return i === d.length;
}

/** Problems of a layout grid (ir/mesh.ts LayoutGrid) on `region` for a tensor of `shape`. */
function gridProblems(g: LayoutGrid, region: Rect, shape: readonly number[]): string[] {
  const out: string[] = [];
  const list = (xs: readonly number[]): string => `[${xs.join(',')}]`;
  const size = shape.reduce((a, b) => a * b, 1);
  const empty = size === 0 && g.dims.length === shape.length && g.dims.every((d, i) => d === shape[i]); // an empty tensor's grid is its shape
  if (empty) { /* nothing to tile */ } else if (!g.dims.every((d) => Number.isSafeInteger(d) && d >= 1)) out.push(`grid dims ${list(g.dims)} are not all positive integers`);
  else {
    const product = g.dims.reduce((a, b) => a * b, 1);
    if (product !== size) out.push(`grid dims ${list(g.dims)} hold ${product} elements but the type has ${size}`);
    else if (!refines(g.dims, shape)) out.push(`grid dims ${list(g.dims)} do not refine the shape ${list(shape)}; every shape dim is the product of consecutive grid dims`);
  }
  const n = g.dims.length;
  const seen = new Set<number>();
  if (g.perm.length !== n || !g.perm.every((p) => Number.isSafeInteger(p) && p >= 0 && p < n && !seen.has(p) && seen.add(p))) {
    out.push(`grid perm ${list(g.perm)} is not a permutation of 0..${n - 1}`);
  }
  if (!Number.isSafeInteger(g.rows) || g.rows < 0 || g.rows > n) out.push(`grid rows ${g.rows} is not between 0 and the ${n} grid dims`);
  const axes: ['y' | 'x', GridAxis, number, string][] = [['y', g.y, region.height, 'height'], ['x', g.x, region.width, 'width']];
  for (const [name, a] of axes) {
    if (!Number.isSafeInteger(a.div) || a.div < 1) out.push(`grid axis ${name} ${a.div}/${a.mod} has divisor ${a.div}; it is a positive integer`);
    if (!Number.isSafeInteger(a.mod) || a.mod < 1) out.push(`grid axis ${name} ${a.div}/${a.mod} has ${a.mod} tiles; it is a positive integer`);
  }
  if (out.length) return out;
  const { rows, cols } = gridMatrix(g);
  for (const [name, a, extent, side] of axes) {
    const matrix = name === 'y' ? `${rows} rows` : `${cols} columns`;
    if ((name === 'y' ? rows : cols) % a.mod !== 0) out.push(`grid axis ${name} ${a.div}/${a.mod} splits the matrix's ${matrix} into ${a.mod} tiles, which does not divide them`);
    if (a.div * a.mod > extent) out.push(`grid axis ${name} ${a.div}/${a.mod} needs ${a.div * a.mod} cores along ${name} (div × mod) but the region's ${side} is ${extent}`);
  }
  return out;
}

function checkOp(g: MeshGraph, op: MeshOp, index: number, opts: MeshVerifyOptions, report: Report): void {
  const at = opAt(op, index);
  const rect = rectProblem(op.region, opts);
  if (rect) report(`region ${rect}`, at, 'an op runs on a non-empty rectangle of cores inside the mesh');
  if (op.kernel === 'redistribute') {
    const ins = op.inputs.filter((v) => v !== '');
    const outs = op.outputs.filter((v) => v !== '');
    if (op.inputs.length !== 1 || op.outputs.length !== 1 || ins.length !== 1 || outs.length !== 1) {
      report(`redistribute has ${op.inputs.length} inputs and ${op.outputs.length} outputs; it moves one value to one new layout`, at, 'write one redistribute op per value');
      return;
    }
    const a = g.values.get(ins[0]);
    const b = g.values.get(outs[0]);
    if (a && b && typeToString(a.type) !== typeToString(b.type)) {
      report(`redistribute changes the type ${typeToString(a.type)} of '%${ins[0]}' to ${typeToString(b.type)}`, at, 'redistribution moves data; reshapes and casts are ops of their own');
    }
    return;
  }
  if (op.kernel !== 'call') return;
  if (!getOp(op.op, op.domain)) {
    const name = op.domain === '' ? op.op : `${op.domain}:${op.op}`;
    report(`call of unregistered op '${name}'`, at, '`wafer ops` lists the supported ops');
  }
  if (!rect && (op.region.width !== 1 || op.region.height !== 1)) {
    report(`call runs on ${rectText(op.region)}; a call runs one graph op on a single core`, at, 'use a distributed kernel for a region of several cores');
  }
  const operands: [string, string][] = [...op.inputs.map((v): [string, string] => [v, 'input']), ...op.outputs.map((v): [string, string] => [v, 'output'])];
  for (const [v, role] of operands) {
    const value = v ? g.values.get(v) : undefined;
    if (!value) continue; // omitted, or reported as missing by checkValues
    if (!sameRect(value.layout.region, op.region)) {
      report(`${role} '%${v}' lives on ${rectText(value.layout.region)}, not on the op's core ${rectText(op.region)}`, at, 'insert a redistribute op to bring the value to the core');
    }
    const allowed = callStorageTypes(value.type.dtype);
    if (KNOWN_DTYPES.has(value.type.dtype) && !allowed.includes(value.mem)) {
      report(`${role} '%${v}' of dtype ${value.type.dtype} is stored as ${value.mem}, which cannot hold it`, at, `${value.type.dtype} is held in ${allowed.join(' or ')}`);
    }
  }
}
