/**
 * Parser of the mesh IR text form (grammar in docs/mesh-ir.md; the printer is mesh-print.ts).
 *
 * It extends the graph parser (text-parse.ts), whose token, type, tensor-payload and attribute rules
 * it reuses unchanged, and adds the mesh statements: value annotations with an SRAM element type and a
 * layout (with its grid, if any), kernel ops with a region and parameters. Like the graph parser it rebuilds exactly what was
 * printed, invalid graphs included (SSA, layouts and placement are verify-mesh's business); it rejects
 * only what the format itself can see. Any input string gives a MeshGraph or a W2004 diagnostic
 * located at `line L, column C`.
 */
import { DiagnosticError } from './diagnostics.js';
import { isStatic, type TensorType } from './graph.js';
import type { DimMap, GridAxis, Layout, LayoutGrid, MeshGraph, MeshOp, MeshValue } from './mesh.js';
import { formatMeshValue } from './mesh-print.js';
import type { MemType, Rect } from './program.js';
import { GRAMMAR_HINT, type Token } from './text-lex.js';
import { Parser } from './text-parse.js';
import { parseFloatText } from './text-tensor.js';

export const MESH_GRAMMAR_HINT = 'the grammar of the mesh IR text is in docs/mesh-ir.md';

const MEM_TYPES: readonly string[] = ['f32', 'f16', 'i32'];
const DIM_MAPS: readonly string[] = ['x', 'y', 'r'];
const INT_RE = /^-?\d+$/;
const FLOAT_RE = /^-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|inf)$|^nan$/;
/**
 * The inside of a region `(x,y WxH)` after its '('. `4x4` is not a token of the shared lexer (a number
 * running into a letter is malformed there), so the rectangle is scanned raw, as hex payloads are.
 */
const RECT_BODY = /[ \t]*(-?\d{1,16})[ \t]*,[ \t]*(-?\d{1,16})[ \t]+(-?\d{1,16})x(-?\d{1,16})[ \t]*\)/y;
/** The `div/mod` after a grid axis word: '/' is no token of the shared lexer, so it is scanned raw too. */
const AXIS_BODY = /[ \t]+(-?\d{1,16})\/(-?\d{1,16})(?![\w.])/y;

/** Parses the text form of a mesh graph. Throws DiagnosticError (W2004) on malformed text. */
export function parseMesh(text: string): MeshGraph {
  try {
    return new MeshParser(text).mesh();
  } catch (e) {
    if (e instanceof DiagnosticError) {
      // errors raised by the shared graph rules point at docs/ir.md; the mesh grammar is documented apart
      const retargeted = e.diagnostics.map((d) => (d.hint === GRAMMAR_HINT ? { ...d, hint: MESH_GRAMMAR_HINT } : d));
      throw new DiagnosticError(retargeted);
    }
    // A bug in the parser must still surface as a diagnostic, never as a crash of the caller.
    const message = e instanceof Error ? e.message : String(e);
    throw new DiagnosticError({ code: 'W2004', message: `internal error while parsing mesh IR text: ${message}`, hint: 'please report this input' });
  }
}

class MeshParser extends Parser {
  private readonly values = new Map<string, MeshValue>();
  /** First definition of each value and its printed annotation ('' when it has none). */
  private readonly seen = new Map<string, { text: string; pos: number }>();

  mesh(): MeshGraph {
    this.expect('mesh', 'word', "'mesh @name opset N target \"...\" {'");
    const name = this.expectKind('at', 'the graph name (@name)').text;
    this.expect('opset', 'word');
    const opset = this.nonNegativeInt('the opset version');
    this.expect('target', 'word');
    const target = this.expectKind('string', 'the target name as a string (target "mesh:4x4")').text;
    this.expect('{');
    const g: MeshGraph = { name, opset, target, inputs: [], outputs: [], values: this.values, constants: new Map(), ops: [] };
    let outputSeen = false;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'punct' && t.text === '}') break;
      if (t.kind === 'eof') this.fail("missing '}' at the end of the mesh graph", t.pos);
      if (t.kind === 'word' && t.text === 'input') {
        this.take();
        const v = this.expectKind('value', 'a value name (%name)');
        this.defineValue(v, this.meshAnnotation());
        g.inputs.push(v.text);
      } else if (t.kind === 'word' && t.text === 'const') {
        this.meshConstant(g);
      } else if (t.kind === 'word' && t.text === 'type') {
        this.take();
        const v = this.expectKind('value', 'a value name (%name)');
        if (!this.is(':')) this.fail(`expected ': type in mem at (x,y WxH) [dims] tile [sizes]' after %${v.text}`, this.peek().pos);
        this.defineValue(v, this.meshAnnotation());
      } else if (t.kind === 'word' && t.text === 'output') {
        if (outputSeen) this.fail('a mesh graph has one output statement', t.pos, 'list all outputs in one statement: output %a, %b');
        outputSeen = true;
        this.take();
        do g.outputs.push(this.expectKind('value', 'an output value (%name)').text);
        while (this.is(',') && this.take());
      } else if (t.kind === 'value' || (t.kind === 'punct' && t.text === '(') || (t.kind === 'word' && t.text === '_')) {
        g.ops.push(this.op());
      } else {
        this.fail(`expected a statement (input, const, type, output or an op), found ${this.describe(t)}`, t.pos);
      }
    }
    this.take();
    const end = this.take();
    if (end.kind !== 'eof') this.fail(`unexpected ${this.describe(end)} after the end of the mesh graph`, end.pos);
    return g;
  }

  /** Records a definition's annotation; all definitions of one value must agree. */
  private defineValue(v: Token, value: MeshValue | undefined): void {
    const text = value ? formatMeshValue(value) : '';
    const prev = this.seen.get(v.text);
    if (prev) {
      if (prev.text !== text) {
        const where = this.lex.error('', prev.pos).diagnostics[0].location;
        this.fail(`conflicting annotations for %${v.text}`, v.pos, `every definition of a value carries the same type and layout (first at ${where})`);
      }
      return;
    }
    this.seen.set(v.text, { text, pos: v.pos });
    if (value) this.values.set(v.text, value);
  }

  /** `: f32[4,8] in f16 at (0,0 2x2) [y,x] tile [2,4]`, or nothing (the value has no MeshValue). */
  private meshAnnotation(): MeshValue | undefined {
    if (!this.is(':')) return undefined;
    this.take();
    const typePos = this.peek().pos;
    const type = this.type();
    if (!isStatic(type)) this.fail('a mesh value has a static type (every dim a number)', typePos, 'the mesh IR is built after shapes are inferred and dims bound');
    this.expect('in', 'word', "'in' and the SRAM element type (in f32)");
    const m = this.expectKind('word', `an SRAM element type (${MEM_TYPES.join(', ')})`);
    if (!MEM_TYPES.includes(m.text)) this.fail(`unknown SRAM element type '${m.text}'`, m.pos, `SRAM element types are ${MEM_TYPES.join(', ')}`);
    return { type: { dtype: type.dtype, shape: type.shape }, mem: m.text as MemType, layout: this.layout() };
  }

  /** `at (x,y WxH) [dims] tile [sizes]`. */
  private layout(): Layout {
    this.expect('at', 'word', "'at (x,y WxH)', the region of the layout");
    const region = this.rect();
    this.expect('[', 'punct', "'[' opening the dim map ([y,x,r])");
    const dims: DimMap[] = [];
    if (!this.is(']')) {
      do {
        const d = this.take();
        if (d.kind !== 'word' || !DIM_MAPS.includes(d.text)) this.fail(`expected a dim map (x, y or r), found ${this.describe(d)}`, d.pos, 'x: split along mesh x, y: split along mesh y, r: whole on every core');
        dims.push(d.text as DimMap);
      } while (this.is(',') && this.take());
    }
    this.expect(']');
    this.expect('tile', 'word', "'tile [sizes]'");
    const tile = this.intList('a tile size');
    if (!this.is('grid', 'word')) return { region, dims, tile };
    return { region, dims, tile, grid: this.grid() };
  }

  /** `grid [dims] perm [perm] rows N y div/mod x div/mod` (ir/mesh.ts LayoutGrid). */
  private grid(): LayoutGrid {
    this.take();
    const dims = this.intList('a refined dim');
    this.expect('perm', 'word', "'perm [permutation]' after the grid's dims");
    const perm = this.intList('a perm entry');
    this.expect('rows', 'word', "'rows N', the number of permuted dims merged into the matrix rows");
    const t = this.take();
    if (t.kind !== 'number' || !INT_RE.test(t.text) || !Number.isSafeInteger(Number(t.text))) this.fail(`expected the grid's row dim count (an integer), found ${this.describe(t)}`, t.pos);
    const rows = Number(t.text);
    const y = this.axis('y');
    const x = this.axis('x');
    return { dims, perm, rows, y, x };
  }

  /** `y div/mod`, the numbers scanned raw after the axis word (see AXIS_BODY). */
  private axis(name: 'x' | 'y'): GridAxis {
    const at = this.expect(name, 'word', `'${name} div/mod', the grid's ${name} axis (${name} 1/64)`);
    AXIS_BODY.lastIndex = this.lex.pos;
    const m = AXIS_BODY.exec(this.lex.src);
    if (!m) this.fail(`malformed grid axis: expected '${name} div/mod' such as ${name} 1/64`, at.pos, 'an axis is its divisor and its tile count, written div/mod without spaces');
    const [div, mod] = m.slice(1, 3).map(Number);
    if (!Number.isSafeInteger(div) || !Number.isSafeInteger(mod)) this.fail('grid axis number out of range', at.pos);
    this.lex.pos = AXIS_BODY.lastIndex;
    return { div, mod };
  }

  /** `(x,y WxH)`, scanned raw after the '(' token (see RECT_BODY). */
  private rect(): Rect {
    const open = this.expect('(', 'punct', "a region '(x,y WxH)'");
    RECT_BODY.lastIndex = this.lex.pos;
    const m = RECT_BODY.exec(this.lex.src);
    if (!m) this.fail("malformed region: expected '(x,y WxH)' such as (0,0 4x2)", open.pos, 'a region is its origin core and its size in cores, on one line');
    const [x, y, width, height] = m.slice(1, 5).map(Number);
    if (![x, y, width, height].every(Number.isSafeInteger)) this.fail('region coordinate out of range', open.pos);
    this.lex.pos = RECT_BODY.lastIndex;
    return { x, y, width, height };
  }

  /** `[1, -2, 3]`: safe integers. */
  private intList(what: string): number[] {
    this.expect('[', 'punct', `'[' opening a list of ${what}s`);
    const out: number[] = [];
    if (!this.is(']')) {
      do {
        const t = this.take();
        if (t.kind !== 'number' || !INT_RE.test(t.text) || !Number.isSafeInteger(Number(t.text))) this.fail(`expected ${what} (an integer), found ${this.describe(t)}`, t.pos);
        out.push(Number(t.text));
      } while (this.is(',') && this.take());
    }
    this.expect(']');
    return out;
  }

  private meshConstant(g: MeshGraph): void {
    this.take();
    const v = this.expectKind('value', 'a value name (%name)');
    const value = this.meshAnnotation();
    this.expect('=');
    const raw = this.payload();
    let type: TensorType | undefined = value?.type;
    if (this.is(':')) {
      this.take();
      type = this.type();
    }
    if (!type) this.fail(`constant %${v.text} needs a type`, v.pos, 'write const %x : f32[2] in f32 at (0,0 1x1) [r] tile [2] = dense<[1.0, 2.0]>');
    if (g.constants.has(v.text)) this.fail(`constant %${v.text} is defined twice`, v.pos);
    g.constants.set(v.text, this.tensor(raw, type));
    this.defineValue(v, value);
  }

  /** `results = kernel [domain:]op(args) {attrs} on (x,y WxH) {params} @name`. */
  private op(): MeshOp {
    const outputs = this.results((v) => this.defineValue(v, this.meshAnnotation()), "an op without results is written '() = kernel Op(...)'");
    const kernel = this.wordOrString('a kernel name (call, redistribute, gemm.meshgemm, ...)');
    let op = '';
    let domain = '';
    if (!this.is('(')) {
      op = this.wordOrString('an op name');
      if (this.is(':')) {
        this.take();
        domain = op;
        op = this.wordOrString('an op name after the domain');
      }
    }
    this.expect('(');
    const inputs: string[] = [];
    if (!this.is(')')) {
      do {
        if (this.is('_', 'word')) {
          this.take();
          inputs.push('');
        } else {
          inputs.push(this.expectKind('value', 'an input (%name, or _ for an omitted input)').text);
        }
      } while (this.is(',') && this.take());
    }
    this.expect(')');
    const attrs = this.is('{') ? this.attrs() : {};
    this.expect('on', 'word', "'on (x,y WxH)', the region the kernel runs on");
    const region = this.rect();
    const params = this.is('{') ? this.params() : {};
    const name = this.expectKind('at', 'the op name (@name)', 'every op ends with its name, e.g. @"MatMul_0"').text;
    return { name, kernel, op, domain, attrs, inputs, outputs, region, params };
  }

  /** `{k = 1, algorithm = "meshgemm", f = 0.5}`. */
  private params(): Record<string, number | string> {
    this.expect('{');
    const params: Record<string, number | string> = {};
    if (!this.is('}')) {
      do {
        const pos = this.peek().pos;
        const key = this.wordOrString('a parameter name');
        if (Object.prototype.hasOwnProperty.call(params, key)) this.fail(`parameter '${key}' is given twice`, pos);
        this.expect('=');
        const t = this.take();
        let value: number | string;
        if (t.kind === 'string') value = t.text;
        else if ((t.kind === 'number' || t.kind === 'word') && FLOAT_RE.test(t.text)) value = parseFloatText(t.text);
        else this.fail(`parameter '${key}' needs a number or a string, found ${this.describe(t)}`, t.pos);
        if (typeof value === 'number' && !Number.isFinite(value) && INT_RE.test(t.text)) this.fail(`integer parameter '${key}' is out of range`, t.pos);
        // defineProperty, so a parameter named __proto__ is an ordinary key
        Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
      } while (this.is(',') && this.take());
    }
    this.expect('}');
    return params;
  }
}
