/**
 * Text forms of a program, for `wafer inspect`: a readable disassembly (disassemble) and a
 * deterministic JSON form (programToJson). Both are read-only views: nothing parses them back (the
 * binary file is the program). Both depend only on the program's content, never on object identity
 * or construction order, so the same program always prints the same text.
 *
 * Disassembly conventions: buffers are B<index> (names in the buffer table), expressions are infix
 * with `div`/`mod`/`and`/`or` as words, comparisons as < <= > >= == !=, `c ? a : b` for select,
 * min/max as calls; a compound expression in a key=value operand is parenthesized; instruction ids
 * lead each line and loop bodies are indented. A call prints as
 * `Op(B0[0]:f32[4,8], _) -> (B2[0]:f32[4,8])  name=value ...` (`_`: omitted; attributes by name;
 * a tensor attribute as its dtype, shape and first values).
 */
import { shortName } from './dtype.js';
import type { Attr } from './graph.js';
import { canonicalProgram } from './program-codec.js';
import {
  MEM_TYPE_BYTES, bufferBytes,
  type BufferDecl, type CallTensor, type Expr, type Instr, type IoDecl, type Operand, type Program, type Rect, type Tiling,
} from './program.js';
import { Tensor } from './tensor.js';

// ---- expressions --------------------------------------------------------------------------------

const INFIX: Record<string, { sym: string; prec: number; word?: boolean; cmp?: boolean }> = {
  or: { sym: ' or ', prec: 1 },
  and: { sym: ' and ', prec: 2 },
  eq: { sym: ' == ', prec: 3, cmp: true },
  ne: { sym: ' != ', prec: 3, cmp: true },
  lt: { sym: ' < ', prec: 3, cmp: true },
  le: { sym: ' <= ', prec: 3, cmp: true },
  gt: { sym: ' > ', prec: 3, cmp: true },
  ge: { sym: ' >= ', prec: 3, cmp: true },
  add: { sym: '+', prec: 4 },
  sub: { sym: '-', prec: 4 },
  mul: { sym: '*', prec: 5 },
  div: { sym: ' div ', prec: 5, word: true },
  mod: { sym: ' mod ', prec: 5, word: true },
};
const ATOM = 9;

function precOf(e: Expr): number {
  if (typeof e === 'number') return e < 0 ? 8 : ATOM;
  if ('v' in e) return ATOM;
  if (e.op === 'select') return 0;
  return INFIX[e.op]?.prec ?? ATOM;
}

/** An expression in infix form (`x*64+y`, `x mod 3`, `x < w-1`, `c ? a : b`, `min(x, 3)`). */
export function exprToText(e: Expr): string {
  if (typeof e === 'number') return String(e);
  if ('v' in e) return e.v;
  if (e.op === 'select') return `${child(e.c, 1, false)} ? ${child(e.a, 1, false)} : ${child(e.b, 1, false)}`;
  const info = INFIX[e.op];
  if (!info) return `${e.op}(${exprToText(e.a)}, ${exprToText(e.b)})`;
  return `${child(e.a, info.prec, !!(info.word || info.cmp))}${info.sym}${child(e.b, info.prec, true)}`;
}

/**
 * An operand of an infix operator of precedence `prec`: parenthesized when it binds less tightly,
 * or as tightly on the non-associative side (`strict`). div/mod nodes and negative literals inside
 * another operator are always parenthesized, so spacing never suggests the wrong grouping.
 */
function child(e: Expr, prec: number, strict: boolean): string {
  const p = precOf(e);
  const wordOp = typeof e === 'object' && 'op' in e && (e.op === 'div' || e.op === 'mod');
  const paren = p < prec || (strict && p === prec) || wordOp || p === 8;
  const s = exprToText(e);
  return paren ? `(${s})` : s;
}

/** An expression as the value of key=value: parenthesized unless it is a literal or a variable. */
function arg(e: Expr): string {
  return typeof e === 'number' || 'v' in e ? exprToText(e) : `(${exprToText(e)})`;
}

// ---- pieces -------------------------------------------------------------------------------------

function num(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

const rectText = (r: Rect): string => `(${r.x},${r.y} ${r.width}x${r.height})`;
const opnd = (o: Operand): string => `B${o.buf}[${exprToText(o.offset)}]`;
const q = (s: string): string => JSON.stringify(s);

const callTensor = (t: CallTensor | null): string => (t === null ? '_' : `${opnd(t)}:${shortName(t.dtype)}[${t.shape.join(',')}]`);

/** Values shown of a tensor attribute before an ellipsis. */
const TENSOR_SHOWN = 8;

function attrText(a: Attr): string {
  const list = (v: readonly (number | string)[], f: (x: never) => string) => `[${v.map((x) => f(x as never)).join(',')}]`;
  switch (a.kind) {
    case 'int': case 'float': return num(a.value);
    case 'string': return q(a.value);
    case 'ints': case 'floats': return list(a.value, num);
    case 'strings': return list(a.value, q);
    case 'tensor': {
      const t = a.value;
      const shown = Array.from(t.data.subarray(0, TENSOR_SHOWN), num).join(',');
      return `${shortName(t.dtype)}[${t.shape.join(',')}]{${shown}${t.data.length > TENSOR_SHOWN ? ',…' : ''}}`;
    }
  }
}

function instrText(i: Instr): string {
  switch (i.op) {
    case 'matmul':
      return `${opnd(i.c)} ${i.accumulate ? '+=' : '='} ${opnd(i.a)} @ ${opnd(i.b)}${i.transB ? '^T' : ''}  m=${arg(i.m)} k=${arg(i.k)} n=${arg(i.n)}`;
    case 'unary': {
      const param = i.fn === 'scale' || i.fn === 'add_scalar';
      const extra = !param && i.scalar !== 0 ? ` scalar=${num(i.scalar)}` : '';
      return `${opnd(i.dst)} = ${i.fn}(${opnd(i.src)}${param ? `, ${num(i.scalar)}` : ''})  n=${arg(i.n)}${extra}`;
    }
    case 'binary':
      return `${opnd(i.dst)} = ${i.fn}(${opnd(i.a)}, ${opnd(i.b)})  rows=${arg(i.rows)} cols=${arg(i.cols)}${i.bcast === 'none' ? '' : ` bcast=${i.bcast}`}`;
    case 'reduce':
      return `${opnd(i.dst)} ${i.accumulate ? '+=' : '='} ${i.fn}(${opnd(i.src)})  rows=${arg(i.rows)} cols=${arg(i.cols)} axis=${i.axis}`;
    case 'fill':
      return `${opnd(i.dst)} = ${num(i.value)}  n=${arg(i.n)}`;
    case 'send':
      return `${opnd(i.src)} n=${arg(i.n)} colour=${arg(i.colour)}`;
    case 'recv':
      return `${opnd(i.dst)} n=${arg(i.n)} colour=${arg(i.colour)}${i.combine === 'none' ? '' : ` combine=${i.combine}`}`;
    case 'forward':
      return `${opnd(i.buf)} n=${arg(i.n)} colour=${arg(i.inColour)} -> ${arg(i.outColour)}${i.combine === 'none' ? '' : ` combine=${i.combine}`}`;
    case 'wait':
      return '';
    case 'loop':
      return `${arg(i.count)}`;
    case 'swap':
      return `B${i.a} B${i.b}`;
    case 'call': {
      const op = i.domain ? `${i.domain}:${i.opType}` : i.opType;
      const attrs = Object.keys(i.attrs).sort().map((k) => ` ${k}=${attrText(i.attrs[k])}`).join('');
      return `${op}(${i.inputs.map(callTensor).join(', ')}) -> (${i.outputs.map(callTensor).join(', ')})${attrs ? ` ${attrs}` : ''}`;
    }
    case 'delay':
      return arg(i.cycles);
  }
}

function body(list: readonly Instr[], depth: number, idWidth: number, out: string[]): void {
  for (const i of list) {
    const head = `${String(i.id).padStart(idWidth)}  ${'  '.repeat(depth)}`;
    let line = `${head}${i.op.padEnd(8)} ${instrText(i)}`.trimEnd();
    if (i.op === 'loop') line += `  (i${depth})`;
    if (i.guard !== undefined) line += `  if ${exprToText(i.guard)}`;
    if (i.loc) line += `  @ ${q(i.loc)}`;
    out.push(`    ${line}`);
    if (i.op === 'loop') body(i.body, depth + 1, idWidth, out);
  }
}

function maxId(list: readonly Instr[]): number {
  let m = 0;
  for (const i of list) m = Math.max(m, i.id, i.op === 'loop' ? maxId(i.body) : 0);
  return m;
}

/** Aligns the columns of rows of cells (two spaces between columns, no trailing blanks). */
function table(rows: string[][], indent: string): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

function bufferRow(b: BufferDecl, i: number): string[] {
  const live = b.live ? `live ${b.live[0]}..${b.live[1]}` : '';
  const guard = b.guard !== undefined ? `if ${exprToText(b.guard)}` : '';
  return [`B${i}`, q(b.name), `${b.type}[${b.length}]`, `offset ${b.offset}`, `${bufferBytes(b)} B`, ...(guard ? [live, guard] : [live])];
}

function tilingText(t: Tiling, p: Program): string {
  const region = p.regions[t.region];
  const tiles = `${Math.ceil(t.rows / t.tileRows)}x${Math.ceil(t.cols / t.tileCols)} tiles`;
  let s = `-> region ${t.region} ${q(region?.name ?? '?')} B${t.buffer}  tile ${t.tileRows}x${t.tileCols} (${tiles}) at (${exprToText(t.rowTile)}, ${exprToText(t.colTile)})`;
  if (t.guard !== undefined) s += `  if ${exprToText(t.guard)}`;
  if (t.view !== undefined) s += `  view [${t.view.dims.join(',')}] perm [${t.view.perm.join(',')}]`;
  return s;
}

function ioRow(io: IoDecl, p: Program): string[] {
  const bytes = io.tiling.rows * io.tiling.cols * MEM_TYPE_BYTES[io.type];
  return [q(io.name), io.type, `[${io.shape.join(',')}] as ${io.tiling.rows}x${io.tiling.cols}`, `${bytes} B`, tilingText(io.tiling, p)];
}

function hz(v: number): string {
  if (v >= 1e9) return `${v / 1e9} GHz`;
  if (v >= 1e6) return `${v / 1e6} MHz`;
  return `${v} Hz`;
}

// ---- the listing --------------------------------------------------------------------------------

/** The readable listing of a program (header, regions with memory maps and kernels, routes, data, prediction). */
export function disassemble(p: Program): string {
  const t = p.target;
  const out: string[] = [
    `program ${q(p.name)}  (format version ${p.version}, opset ${p.opset})`,
    `target ${q(t.name)}  mesh ${t.width}x${t.height}  clock ${hz(t.clockHz)}  SRAM ${t.sram.bytesPerCore} B/core  colours ${t.router.colours}`,
  ];
  if (p.source !== undefined) out.push(`source graph IR  ${p.source.split('\n').length} lines, ${p.source.length} characters`);
  p.regions.forEach((r, ri) => {
    const sram = r.kernel.buffers.reduce((m, b) => Math.max(m, b.offset + bufferBytes(b)), 0);
    out.push('', `region ${ri} ${q(r.name)}  rect ${rectText(r.rect)}  SRAM ${sram} B`);
    out.push('  buffers');
    if (r.kernel.buffers.length === 0) out.push('    (none)');
    out.push(...table(r.kernel.buffers.map(bufferRow), '    '));
    out.push('  kernel');
    if (r.kernel.body.length === 0) out.push('    (empty)');
    body(r.kernel.body, 0, String(maxId(r.kernel.body)).length, out);
  });
  out.push('', 'routes');
  if (p.routes.length === 0) out.push('  (none)');
  out.push(...table(p.routes.map((r) => [
    `colour ${r.colour}`, `rect ${rectText(r.rect)}`, `${r.input} -> ${r.outputs.join(',')}`, r.guard === undefined ? '' : `if ${exprToText(r.guard)}`,
  ]), '  '));
  out.push('', 'constants');
  if (p.constants.length === 0) out.push('  (none)');
  out.push(...table(p.constants.map((c) => {
    const bytes = c.tiling.rows * c.tiling.cols * MEM_TYPE_BYTES[c.type];
    return [q(c.name), c.type, `[${c.tiling.rows}x${c.tiling.cols}]`, c.data ? `data ${bytes} B` : `shapes only (${bytes} B)`, tilingText(c.tiling, p)];
  }), '  '));
  for (const [title, list] of [['inputs', p.inputs], ['outputs', p.outputs]] as const) {
    out.push('', title);
    if (list.length === 0) out.push('  (none)');
    out.push(...table(list.map((io) => ioRow(io, p)), '  '));
  }
  out.push('', 'predicted');
  if (!p.predicted) {
    out.push('  (none)');
  } else {
    out.push(`  total ${p.predicted.totalCycles} cycles`);
    out.push(...table(p.predicted.instructions.map((ip) => [`instr ${ip.instr}`, `start ${exprToText(ip.start)}`]), '  '));
  }
  return `${out.join('\n')}\n`;
}

// ---- JSON ---------------------------------------------------------------------------------------

/**
 * The program as JSON, in the canonical form decoding gives (keys in the order of ir/program.ts,
 * absent optional fields absent). Constant data is a base64 string; a tensor attribute is
 * {dtype, shape, data} with data a list of numbers; non-finite numbers (a fill with -Infinity) are
 * the strings "Infinity", "-Infinity", "NaN".
 */
export function programToJson(p: Program): string {
  const replacer = function (this: unknown, _key: string, v: unknown): unknown {
    if (this instanceof Tensor && ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
    if (v instanceof Uint8Array) return toBase64(v);
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v;
  };
  return `${JSON.stringify(canonicalProgram(p), replacer, 2)}\n`;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=');
  }
  return s;
}
