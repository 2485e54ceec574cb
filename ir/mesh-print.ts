/**
 * Printer of the mesh IR text form (grammar in docs/mesh-ir.md; the parser is mesh-parse.ts).
 *
 * The mesh text extends the graph text (docs/ir.md): names, dtypes, attributes and tensor payloads
 * print exactly as there (the helpers are shared with text-print.ts and text-tensor.ts), and every
 * value annotation adds its SRAM element type and layout:
 *
 *   %y : f32[64,64] in f16 at (0,0 4x4) [y,x] tile [16,16] = gemm.meshgemm MatMul(%a, %b) on (0,0 4x4) {algorithm = "meshgemm"} @mm
 *
 * A layout with a grid (distributed programs) appends it after the tile, `div/mod` per axis:
 *
 *   ... at (0,0 64x64) [r,r,r,r] tile [2,2,1024,512] grid [2,2,1024,512] perm [0,2,1,3] rows 2 y 1/64 x 1/64
 *
 * Output is canonical: inputs, constants, `type` declarations of values nothing defines, ops, then the
 * outputs, each in the graph's order; attributes and kernel parameters sorted by name. The same graph
 * always prints to the same bytes, and print(parse(print(g))) === print(g).
 */
import type { GridAxis, Layout, LayoutGrid, MeshGraph, MeshOp, MeshValue } from './mesh.js';
import type { Rect } from './program.js';
import type { Tensor } from './tensor.js';
import { formatAttrs, formatName, formatTensor, formatType, formatWord } from './text-print.js';
import { formatFloat, formatInt } from './text-tensor.js';

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `(x,y WxH)`: a rectangle of cores, origin first. */
export function formatRect(r: Rect): string {
  return `(${formatInt(r.x)},${formatInt(r.y)} ${formatInt(r.width)}x${formatInt(r.height)})`;
}

const intList = (xs: readonly number[]): string => `[${xs.map((t) => formatInt(t)).join(',')}]`;

/** `y 1/64`: one axis of a grid, `div/mod`. */
const formatAxis = (name: string, a: GridAxis): string => `${name} ${formatInt(a.div)}/${formatInt(a.mod)}`;

/** `grid [2,2,1024,512] perm [0,2,1,3] rows 2 y 1/64 x 1/64`: a layout grid (ir/mesh.ts LayoutGrid). */
export function formatGrid(g: LayoutGrid): string {
  return `grid ${intList(g.dims)} perm ${intList(g.perm)} rows ${formatInt(g.rows)} ${formatAxis('y', g.y)} ${formatAxis('x', g.x)}`;
}

/** `at (0,0 4x4) [y,x] tile [16,16]`, then ` grid ...` when the layout has a grid. */
export function formatLayout(l: Layout): string {
  const grid = l.grid ? ` ${formatGrid(l.grid)}` : '';
  return `at ${formatRect(l.region)} [${l.dims.map(formatWord).join(',')}] tile ${intList(l.tile)}${grid}`;
}

/** `f32[64,64] in f16 at (0,0 4x4) [y,x] tile [16,16]`: graph type, SRAM element type, layout. */
export function formatMeshValue(v: MeshValue): string {
  return `${formatType(v.type)} in ${formatWord(v.mem)} ${formatLayout(v.layout)}`;
}

/** A kernel parameter: safe integers bare, other numbers as the shortest float64 decimal (`0.5`, `1e+300`, `-0.0`, `nan`), strings as JSON. */
function formatParam(v: number | string): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return Number.isSafeInteger(v) && !Object.is(v, -0) ? formatInt(v) : formatFloat(v);
}

/** ` {a = 1, b = "x"}` in name order, or '' when there are none. */
export function formatParams(params: Record<string, number | string>): string {
  const names = Object.keys(params).sort(byName);
  if (names.length === 0) return '';
  return ` {${names.map((n) => `${formatWord(n)} = ${formatParam(params[n])}`).join(', ')}}`;
}

/** `gemm.meshgemm MatMul`, `call com.microsoft:Gelu`, or just `redistribute` when the op is ''. */
function formatKernelOp(op: MeshOp): string {
  const kernel = formatWord(op.kernel);
  if (op.op === '' && op.domain === '') return kernel;
  return op.domain === '' ? `${kernel} ${formatWord(op.op)}` : `${kernel} ${formatWord(op.domain)}:${formatWord(op.op)}`;
}

function sameType(v: MeshValue | undefined, t: Tensor): boolean {
  return v !== undefined && v.type.dtype === t.dtype && v.type.shape.length === t.shape.length && v.type.shape.every((d, i) => d === t.shape[i]);
}

export function printMesh(g: MeshGraph): string {
  // `: T in M at ...` when the value has an entry in `values`, nothing when not
  const value = (name: string): string => {
    const v = g.values.get(name);
    return `%${formatName(name)}${v ? ` : ${formatMeshValue(v)}` : ''}`;
  };
  const lines = [`mesh @${formatName(g.name)} opset ${formatInt(g.opset)} target ${JSON.stringify(g.target)} {`];
  const defined = new Set<string>();
  for (const name of g.inputs) {
    lines.push(`  input ${value(name)}`);
    defined.add(name);
  }
  for (const [name, t] of g.constants) {
    // the tensor's own type is printed only when the value's type is missing or differs
    const own = sameType(g.values.get(name), t) ? '' : ` : ${formatType({ dtype: t.dtype, shape: [...t.shape] })}`;
    lines.push(`  const ${value(name)} = ${formatTensor(t)}${own}`);
    defined.add(name);
  }
  for (const op of g.ops) for (const o of op.outputs) if (o) defined.add(o);
  for (const name of g.values.keys()) {
    if (!defined.has(name)) lines.push(`  type ${value(name)}`);
  }
  for (const op of g.ops) {
    const results = op.outputs.length === 0 ? '()' : op.outputs.map((o) => (o ? value(o) : '_')).join(', ');
    const args = op.inputs.map((i) => (i ? `%${formatName(i)}` : '_')).join(', ');
    lines.push(
      `  ${results} = ${formatKernelOp(op)}(${args})${formatAttrs(op.attrs)} on ${formatRect(op.region)}${formatParams(op.params)} @${formatName(op.name)}`,
    );
  }
  if (g.outputs.length) lines.push(`  output ${g.outputs.map((o) => `%${formatName(o)}`).join(', ')}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
